import { readConfig, updateConfig } from '../config.js';
import { NotFoundError, UsageError } from '../errors.js';
import type { KeysmithPaths } from '../paths.js';
import type { ProviderConfig } from './provider-config.js';

export type { Grant, ProviderConfig } from './provider-config.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function validateProviderName(name: string): string {
  if (!NAME.test(name)) throw new UsageError(`invalid provider name ${JSON.stringify(name)}: letters, digits, . _ -`, undefined, 'ERR_OAUTH_BAD_NAME');
  return name;
}

/** Providers without discovery, or with a fixed issuer, by preset name. */
export function preset(name: string): { issuer: string; scope: string; server?: Record<string, unknown> } {
  const [id, tenant] = name.split(':');
  switch (id) {
    case 'github':
      return {
        issuer: 'https://github.com',
        scope: 'repo read:org',
        server: {
          issuer: 'https://github.com',
          authorization_endpoint: 'https://github.com/login/oauth/authorize',
          token_endpoint: 'https://github.com/login/oauth/access_token',
          device_authorization_endpoint: 'https://github.com/login/device/code',
        },
      };
    case 'gitlab':
      return { issuer: 'https://gitlab.com', scope: 'openid profile read_api' };
    case 'google':
      return { issuer: 'https://accounts.google.com', scope: 'openid email profile' };
    case 'microsoft':
      return { issuer: `https://login.microsoftonline.com/${tenant ?? 'common'}/v2.0`, scope: 'openid profile offline_access' };
    default:
      throw new UsageError(`unknown preset ${JSON.stringify(name)} (use github, gitlab, google, microsoft[:tenant])`, undefined, 'ERR_OAUTH_PRESET');
  }
}

export async function listProviders(paths: KeysmithPaths): Promise<Record<string, ProviderConfig>> {
  return (await readConfig(paths)).oauth ?? {};
}

export async function getProvider(paths: KeysmithPaths, name: string): Promise<ProviderConfig> {
  const p = (await listProviders(paths))[validateProviderName(name)];
  if (!p) throw new NotFoundError(`no OAuth provider named ${name}`, { hint: 'add it first (saveProvider)', detail: { kind: 'no-provider', provider: name } }, 'ERR_OAUTH_NO_PROVIDER');
  return p;
}

export async function saveProvider(paths: KeysmithPaths, name: string, provider: ProviderConfig | undefined): Promise<void> {
  const all = { ...(await listProviders(paths)) };
  if (provider) all[name] = provider;
  else delete all[name];
  await updateConfig(paths, { oauth: all });
}

/** The loopback redirect URI of a login on `port` (RFC 8252 §7.3). */
export const redirectUriFor = (port: number | string) => `http://127.0.0.1:${port}/callback`;
