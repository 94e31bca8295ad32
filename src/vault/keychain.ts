import { createRequire } from 'node:module';
import { AuthError, FailedError, KeysmithError, NotFoundError, UnavailableError } from '../errors.js';
import { matchesPrefix, validateName, MAX_NAME_LENGTH } from './names.js';
import { info, parseRecord } from './record.js';
import type { SecretInfo, SecretRecord, Vault, VaultDescription } from './types.js';

type Keyring = typeof import('@napi-rs/keyring');

/** Windows Credential Manager keeps at most 2,560 bytes per item (stored as UTF-16). */
const WINDOWS_ITEM_LIMIT = 2560;

let keyringModule: Promise<Keyring> | undefined;

async function loadKeyring(): Promise<Keyring> {
  // Loaded with require, as the CommonJS module it is: on Node 22, import() of it from the CLI gave
  // an empty module.exports and undefined named exports ("findCredentialsAsync is not a function").
  keyringModule ??= Promise.resolve().then(() => createRequire(import.meta.url)('@napi-rs/keyring') as Keyring).catch((cause) => {
    keyringModule = undefined;
    throw new UnavailableError(`the OS keychain library could not be loaded on ${process.platform}-${process.arch}`, {
      cause,
      hint: 'use the encrypted file vault (backend "file")',
      detail: { kind: 'keychain', problem: 'not-loaded' },
    }, 'ERR_KEYCHAIN_UNAVAILABLE');
  });
  return keyringModule;
}

// On Linux, pin the Secret Service: keyring's fallback (the kernel keyring) forgets everything at logout.
const ENTRY_OPTIONS = { linux: { store: 'secret-service' as const } };

/** Turns the keyring library's errors into ours; a locked keychain is never "not found". */
export function keychainError(err: unknown, action: string): KeysmithError {
  if (err instanceof KeysmithError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/locked|unlock prompt|dismissed/i.test(message)) {
    return new AuthError(`the OS keychain is locked (${action})`, {
      cause: err,
      hint: 'unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock` with its password on stdin), or use the file backend',
      detail: { kind: 'keychain', problem: 'locked' },
    }, 'ERR_KEYCHAIN_LOCKED');
  }
  return new UnavailableError(`the OS keychain is not available (${action}): ${message}`, {
    cause: err,
    hint: process.platform === 'linux'
      ? 'start a Secret Service (gnome-keyring, KeePassXC) in a D-Bus session, or use the file backend'
      : 'use the file backend',
    detail: { kind: 'keychain', problem: 'unavailable' },
  }, 'ERR_KEYCHAIN_UNAVAILABLE');
}

/**
 * One OS keychain item per secret: service `keysmith` (or `KEYSMITH_KEYCHAIN_SERVICE`), account =
 * the secret's name, password = the record as JSON.
 */
export class KeychainVault implements Vault {
  constructor(readonly service: string) {}

  async get(name: string): Promise<SecretRecord> {
    validateName(name);
    const text = await (await keychainItem(this.service, name)).get();
    if (text === null) {
      // A locked collection still answers "no such item" to a lookup: ask once more in a way that
      // fails when locked, so that locked is never reported as not found.
      await this.readAll();
      throw new NotFoundError(`no secret named ${name} in the keychain`, undefined, 'ERR_VAULT_NOT_FOUND');
    }
    return parseItem(text, name);
  }

  async set(name: string, record: SecretRecord): Promise<void> {
    validateName(name);
    const text = JSON.stringify(record);
    if (process.platform === 'win32' && text.length * 2 > WINDOWS_ITEM_LIMIT) {
      throw new FailedError(`${name} is too large for Windows Credential Manager (${WINDOWS_ITEM_LIMIT} bytes per item)`, {
        hint: 'store large values in the file backend',
        detail: { kind: 'keychain', problem: 'too-large' },
      }, 'ERR_KEYCHAIN_TOO_LARGE');
    }
    await (await keychainItem(this.service, name)).set(text);
  }

  async delete(name: string): Promise<boolean> {
    validateName(name);
    return (await keychainItem(this.service, name)).delete();
  }

  async list(prefix?: string): Promise<SecretInfo[]> {
    const items = await this.readAll();
    return items
      .filter(({ account }) => account.length <= MAX_NAME_LENGTH && matchesPrefix(account, prefix) && isName(account))
      .map(({ account, password }) => info(account, parseItem(password, account)))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  describe(): VaultDescription {
    return { backend: 'keychain', location: `${keychainName()}, service "${this.service}"`, writable: true };
  }

  private async readAll() {
    const { findCredentialsAsync } = await loadKeyring();
    try {
      return await findCredentialsAsync(this.service);
    } catch (err) {
      throw keychainError(err, 'listing items');
    }
  }
}

function isName(account: string): boolean {
  try {
    validateName(account);
    return true;
  } catch {
    return false;
  }
}

function parseItem(text: string, name: string): SecretRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // An item written by another tool under our service: its password is the value.
    const epoch = new Date(0).toISOString();
    return { kind: 'secret', value: text, fields: {}, created: epoch, updated: epoch };
  }
  return parseRecord(raw, `keychain item ${name}`);
}

export function keychainName(): string {
  if (process.platform === 'darwin') return 'macOS Keychain';
  if (process.platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service';
}

/**
 * Whether the OS keychain answers at all. A locked keychain still answers: that is an error at use,
 * not a reason to pick another backend.
 */
export async function probeKeychain(service: string, env: NodeJS.ProcessEnv): Promise<{ ok: boolean; reason: string }> {
  if (process.platform === 'linux' && !env.DBUS_SESSION_BUS_ADDRESS) {
    return { ok: false, reason: 'no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service' };
  }
  try {
    await (await keychainItem(service, '.keysmith-probe')).get();
    return { ok: true, reason: `the ${keychainName()} answered` };
  } catch (err) {
    return { ok: false, reason: keychainError(err, 'probe').message };
  }
}

/** One keychain item: a secret of the keychain vault, or the file vault's identity. */
export async function keychainItem(service: string, account: string) {
  const { AsyncEntry } = await loadKeyring();
  let entry: InstanceType<typeof AsyncEntry>;
  try {
    entry = new AsyncEntry(service, account, ENTRY_OPTIONS); // connects: throws when there is no Secret Service
  } catch (err) {
    throw keychainError(err, `opening ${account}`);
  }
  return {
    async get(): Promise<string | null> {
      try {
        return await entry.getPassword();
      } catch (err) {
        throw keychainError(err, `reading ${account}`);
      }
    },
    async set(value: string): Promise<void> {
      try {
        await entry.setPassword(value);
      } catch (err) {
        throw keychainError(err, `writing ${account}`);
      }
    },
    async delete(): Promise<boolean> {
      try {
        return await entry.deleteCredential();
      } catch (err) {
        throw keychainError(err, `deleting ${account}`);
      }
    },
  };
}
