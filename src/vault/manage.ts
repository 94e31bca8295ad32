import { readConfig, updateConfig } from '../config.js';
import { KeysmithError, UnavailableError, UsageError } from '../errors.js';
import { ensurePrivateDir, exists, readIfExists, writeFileAtomic } from '../fs.js';
import { ageEncrypt, recipientOf } from './age.js';
import { emptyDocument, missingIdentity, openDocument } from './file.js';
import { createIdentity, identityFile, loadIdentity, type IdentityContext } from './identity.js';
import { probeKeychain } from './keychain.js';
import { chooseBackend, createVault, keychainService, openVault, vaultFile, type BackendSource, type VaultOptions } from './open.js';
import { createSession, endSessions } from './session.js';
import type { BackendName } from './types.js';

export interface VaultStatus {
  backend: BackendName;
  location: string;
  reason: string;
  writable: boolean;
  /** Number of records; null when the vault could not be opened. */
  items: number | null;
  /** File vault: where its identity is kept (env, keychain, passphrase). */
  identity?: string;
  /** Why the vault could not be opened, when it could not. */
  error?: { code: string; message: string; hint?: string };
}

/**
 * Which backend is in use, why, where, and whether it opens.
 * @example const s = await vaultStatus(options); if (s.error) console.error(s.error.message)
 */
export async function vaultStatus(options: VaultOptions): Promise<{ status: VaultStatus; source: BackendSource; failure?: KeysmithError }> {
  const { vault, backend, reason, source, config } = await openVault(options);
  const { location, writable } = vault.describe();
  const status: VaultStatus = { backend, location, reason, writable, items: null };
  if (backend === 'file') {
    status.identity = options.env.KEYSMITH_AGE_IDENTITY ? 'KEYSMITH_AGE_IDENTITY'
      : options.env.KEYSMITH_SESSION ? 'KEYSMITH_SESSION'
      : config.fileIdentity === 'keychain' ? 'OS keychain'
      : config.fileIdentity === 'passphrase' || (await exists(identityFile(options.paths))) ? `passphrase (${identityFile(options.paths)})`
      : 'none yet (created on first write)';
  }
  try {
    status.items = (await vault.list()).length;
    return { status, source };
  } catch (err) {
    if (!(err instanceof KeysmithError)) throw err;
    status.error = { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    return { status, source, failure: err };
  }
}

export interface InitResult {
  backend: BackendName;
  location: string;
  /** False when the vault was already there and was only selected. */
  created: boolean;
  identity?: string;
}

/**
 * Sets up a backend and makes it the default in config.json. For the file vault this makes the age
 * identity (keychain, passphrase, or KEYSMITH_AGE_IDENTITY) and an empty vault file; an existing
 * vault is opened, never replaced.
 */
export async function initVault(options: VaultOptions, requested: { backend?: 'file' | 'keychain'; passphrase?: boolean }): Promise<InitResult> {
  const config = await readConfig(options.paths);
  const service = keychainService(options.env);
  let backend = requested.backend;
  if (!backend) {
    const chosen = await chooseBackend({ ...options, backend: undefined }, {});
    backend = chosen.backend === 'keychain' ? 'keychain' : 'file';
  }
  if (backend === 'keychain') {
    const probe = await probeKeychain(service, options.env);
    if (!probe.ok) throw new UnavailableError(`the OS keychain cannot be used: ${probe.reason}`, { hint: 'use the file backend', detail: { kind: 'keychain', problem: 'unusable' } }, 'ERR_KEYCHAIN_UNAVAILABLE');
    const vault = createVault('keychain', options, config);
    await vault.list(); // fails now, not later, when the keychain is locked
    await updateConfig(options.paths, { vault: 'keychain' });
    return { backend, location: vault.describe().location, created: true };
  }
  const path = vaultFile(options.paths.data);
  const ctx: IdentityContext = { ...options, config, keychainService: service };
  const existing = await readIfExists(path);
  if (existing) {
    const identity = await loadIdentity(ctx);
    if (!identity) throw missingIdentity(path);
    await openDocument(existing, identity.identities, path); // proves the identity opens it
    await updateConfig(options.paths, { vault: 'file' });
    return { backend, location: path, created: false, identity: identity.source };
  }
  const identity = (!requested.passphrase && (await loadIdentity(ctx))) || (await createIdentity(ctx, requested.passphrase ? 'passphrase' : undefined));
  await ensurePrivateDir(options.paths.data);
  const sealed = await ageEncrypt(Buffer.from(JSON.stringify(emptyDocument())), { recipients: [await recipientOf(identity.identities[0]!)] });
  await writeFileAtomic(path, sealed);
  await updateConfig(options.paths, { vault: 'file' });
  return { backend, location: path, created: true, identity: identity.source };
}

/** The file vault's identity (env, session, keychain or passphrase), or undefined when none exists yet. */
export async function loadVaultIdentity(options: VaultOptions) {
  return loadIdentity({ ...options, config: await readConfig(options.paths), keychainService: keychainService(options.env) });
}

/**
 * Unlocks the file vault once and returns a session token for KEYSMITH_SESSION, valid until `expires`
 * or `lockVault`.
 */
export async function unlockVault(options: VaultOptions, expires: Date): Promise<string> {
  const loaded = await loadVaultIdentity(options);
  const path = vaultFile(options.paths.data);
  const existing = await readIfExists(path);
  if (!loaded) throw existing ? missingIdentity(path) : new UsageError('there is no file vault to unlock yet', { hint: 'create it first (initVault, backend "file")', detail: { kind: 'no-file-vault' } }, 'ERR_VAULT_MISSING');
  // Prove the identity opens the vault before handing out a session for it.
  if (existing) await openDocument(existing, loaded.identities, path);
  return createSession(options.paths.data, loaded.identities[0]!, expires, options.now());
}

/** Ends every unlock session. */
export const lockVault = (options: Pick<VaultOptions, 'paths'>) => endSessions(options.paths.data);
