import { join } from 'node:path';
import { updateConfig, type IdentityStore, type KeysmithConfig } from '../config.js';
import { AuthError, UsageError } from '../errors.js';
import { assertPrivate, ensurePrivateDir, readIfExists, readUserFile, writeFileAtomic } from '../fs.js';
import type { KeysmithPaths } from '../paths.js';
import { ageDecrypt, ageEncrypt, generateIdentity, parseIdentities } from './age.js';
import { keychainItem, probeKeychain } from './keychain.js';
import { openSession } from './session.js';

/** What the file vault needs from its surroundings to find or make its age identity. */
export interface IdentityContext {
  paths: KeysmithPaths;
  env: NodeJS.ProcessEnv;
  config: KeysmithConfig;
  keychainService: string;
  /** KEYSMITH_PASSPHRASE, else a hidden prompt; a usage error when neither is possible. */
  passphrase(request: { message: string; confirm: boolean }): Promise<string>;
  now(): Date;
  /** A status line for the person at the terminal (stderr). */
  notice(message: string): void;
}

/** The keychain account holding the file vault's identity: not a valid secret name, so never listed. */
export const IDENTITY_ACCOUNT = '.file-vault-identity';
export const identityFile = (paths: KeysmithPaths) => join(paths.data, 'identity.age');

export interface LoadedIdentity {
  identities: string[];
  /** Where it came from, for `vault status`. */
  source: string;
}

/**
 * Finds the file vault's identity: `KEYSMITH_AGE_IDENTITY` (a key or an identity file), then
 * `KEYSMITH_SESSION`, then the OS keychain (when the vault was set up that way), then the
 * passphrase-protected `identity.age`. Undefined when there is none yet.
 */
export async function loadIdentity(ctx: IdentityContext): Promise<LoadedIdentity | undefined> {
  const fromEnv = ctx.env.KEYSMITH_AGE_IDENTITY;
  if (fromEnv) {
    const isKey = fromEnv.trim().startsWith('AGE-SECRET-KEY-');
    if (!isKey) await assertPrivate(fromEnv, 'secret');
    const text = isKey ? fromEnv : (await readUserFile(fromEnv)).toString('utf8');
    const identities = parseIdentities(text);
    if (identities.length === 0) {
      throw new UsageError('KEYSMITH_AGE_IDENTITY holds no age identity (AGE-SECRET-KEY-1… or a file of them)', undefined, 'ERR_BAD_IDENTITY');
    }
    return { identities, source: 'KEYSMITH_AGE_IDENTITY' };
  }
  if (ctx.env.KEYSMITH_SESSION) {
    return { identities: [await openSession(ctx.paths.data, ctx.env.KEYSMITH_SESSION, ctx.now())], source: 'KEYSMITH_SESSION' };
  }
  if (ctx.config.fileIdentity === 'keychain') {
    const identity = await (await keychainItem(ctx.keychainService, IDENTITY_ACCOUNT)).get();
    if (!identity) {
      throw new AuthError('the file vault identity is missing from the OS keychain', {
        hint: 'set KEYSMITH_AGE_IDENTITY to the identity that encrypts the vault',
      }, 'ERR_IDENTITY_MISSING');
    }
    return { identities: [identity], source: 'OS keychain' };
  }
  await assertPrivate(identityFile(ctx.paths), 'secret');
  const sealed = await readIfExists(identityFile(ctx.paths));
  if (!sealed) return undefined;
  const passphrase = await ctx.passphrase({ message: 'Passphrase for the keysmith file vault', confirm: false });
  const plain = await ageDecrypt(sealed, { passphrase }, identityFile(ctx.paths));
  return { identities: parseIdentities(Buffer.from(plain).toString('utf8')), source: `passphrase (${identityFile(ctx.paths)})` };
}

/**
 * Makes a new identity for a new file vault and keeps it: nowhere when `KEYSMITH_AGE_IDENTITY` is
 * set, else in the OS keychain when it answers (or `store` says so), else in `identity.age` under
 * a passphrase.
 */
export async function createIdentity(ctx: IdentityContext, store?: 'keychain' | 'passphrase'): Promise<LoadedIdentity> {
  if (ctx.env.KEYSMITH_AGE_IDENTITY) {
    const loaded = (await loadIdentity(ctx))!;
    await updateConfig(ctx.paths, { fileIdentity: 'env' });
    return loaded;
  }
  let chosen: IdentityStore | undefined = store;
  if (!chosen) {
    const probe = await probeKeychain(ctx.keychainService, ctx.env);
    chosen = probe.ok ? 'keychain' : 'passphrase';
  }
  const identity = await generateIdentity();
  if (chosen === 'keychain') {
    await (await keychainItem(ctx.keychainService, IDENTITY_ACCOUNT)).set(identity);
    ctx.notice('new file vault: its age identity is kept in the OS keychain');
  } else {
    const passphrase = await ctx.passphrase({ message: 'New passphrase for the keysmith file vault', confirm: true });
    if (passphrase.length === 0) throw new UsageError('the passphrase must not be empty');
    const sealed = await ageEncrypt(Buffer.from(`# keysmith file vault identity\n${identity}\n`), { passphrase });
    await ensurePrivateDir(ctx.paths.data);
    await writeFileAtomic(identityFile(ctx.paths), sealed);
    ctx.notice(`new file vault: its age identity is in ${identityFile(ctx.paths)}, under your passphrase`);
  }
  ctx.config = await updateConfig(ctx.paths, { fileIdentity: chosen });
  return { identities: [identity], source: chosen === 'keychain' ? 'OS keychain' : `passphrase (${identityFile(ctx.paths)})` };
}
