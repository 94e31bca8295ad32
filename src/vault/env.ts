import { NotFoundError, UsageError } from '../errors.js';
import { envVarName, matchesPrefix, validateName } from './names.js';
import type { SecretInfo, SecretRecord, Vault, VaultDescription } from './types.js';

const PREFIX = 'KEYSMITH_SECRET_';

/**
 * Read-only secrets from `KEYSMITH_SECRET_<NAME>` variables, for CI jobs whose secrets arrive as
 * environment variables. `db/password` reads `KEYSMITH_SECRET_DB_PASSWORD`.
 */
export class EnvVault implements Vault {
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  async get(name: string): Promise<SecretRecord> {
    const variable = envVarName(validateName(name));
    const value = this.env[variable];
    if (value === undefined) throw new NotFoundError(`no secret named ${name} (${variable} is not set)`, undefined, 'ERR_VAULT_NOT_FOUND');
    const epoch = new Date(0).toISOString();
    return { kind: 'secret', value, fields: {}, created: epoch, updated: epoch, meta: { variable } };
  }

  async set(name: string, _record: SecretRecord): Promise<void> {
    throw readOnly(name);
  }

  async delete(name: string): Promise<boolean> {
    throw readOnly(name);
  }

  async list(prefix?: string): Promise<SecretInfo[]> {
    const epoch = new Date(0).toISOString();
    return Object.keys(this.env)
      .filter((k) => k.startsWith(PREFIX) && k.length > PREFIX.length)
      // The variable name loses the original spelling: list the lower-cased form that `get` accepts.
      .map((k) => k.slice(PREFIX.length).toLowerCase())
      .filter((name) => matchesPrefix(name, prefix))
      .sort()
      .map((name) => ({ name, kind: 'secret', created: epoch, updated: epoch }));
  }

  describe(): VaultDescription {
    return { backend: 'env', location: `${PREFIX}* environment variables`, writable: false };
  }
}

function readOnly(name: string): UsageError {
  validateName(name);
  return readOnlyVault('env');
}

/** A write to a read-only vault, refused (a command checks first, before it makes anything). */
export function readOnlyVault(backend: string): UsageError {
  return new UsageError(`the ${backend} vault is read-only`, {
    hint: 'choose a writable backend: file or keychain',
    detail: { kind: 'read-only-vault', backend },
  }, 'ERR_VAULT_READ_ONLY');
}
