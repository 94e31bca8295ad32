import { FailedError } from './errors.js';
import { ensurePrivateDir, readIfExists, writeFileAtomic } from './fs.js';
import { configFile, type KeysmithPaths } from './paths.js';
import type { ProviderConfig } from './oauth/provider-config.js';
import type { BackendName } from './vault/types.js';

/** Where the file vault's age identity is kept. */
export type IdentityStore = 'keychain' | 'passphrase' | 'env';

/** config.json: settings only, never a secret. */
export interface KeysmithConfig {
  vault?: BackendName;
  fileIdentity?: IdentityStore;
  /** OAuth providers by name (settings only; secrets and tokens live in the vault). */
  oauth?: Record<string, ProviderConfig>;
  /** What `keysmith expiry` watches beside the vault: certificate files, globs and TLS endpoints, as `tls check` takes them. */
  watch?: string[];
}

export async function readConfig(paths: KeysmithPaths): Promise<KeysmithConfig> {
  const text = await readIfExists(configFile(paths));
  if (!text) return {};
  try {
    return JSON.parse(text.toString('utf8')) as KeysmithConfig;
  } catch (cause) {
    throw new FailedError(`${configFile(paths)} is not valid JSON`, { cause }, 'ERR_CONFIG_INVALID');
  }
}

export async function updateConfig(paths: KeysmithPaths, patch: KeysmithConfig): Promise<KeysmithConfig> {
  const next = { ...(await readConfig(paths)), ...patch };
  await ensurePrivateDir(paths.config);
  await writeFileAtomic(configFile(paths), `${JSON.stringify(next, null, 2)}\n`, { overwrite: true });
  return next;
}
