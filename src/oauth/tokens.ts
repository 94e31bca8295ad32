import { join } from 'node:path';
import { AuthError } from '../errors.js';
import { ensurePrivateDir, withFileLock } from '../fs.js';
import type { KeysmithPaths } from '../paths.js';
import { findSecret } from '../vault/secrets.js';
import type { SecretRecord, Vault } from '../vault/types.js';
import { clientFor, clientRejected, loadClient, oauthError } from './client.js';
import type { ProviderConfig } from './providers.js';

/** What the vault keeps for a provider (`oauth/<name>`): the value is the access token. */
export interface StoredTokens {
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
  clientSecret?: string;
  /** ISO-8601; absent when the provider gave no lifetime. */
  expiresAt?: string;
  scope?: string;
  subject?: string;
  obtainedAt?: string;
  /** When the client secret stops working (`oauth add --client-secret-expires`), for `keysmith expiry`. */
  clientSecretExpires?: string;
}

export const tokenRecordName = (name: string) => `oauth/${name}`;

export async function readTokens(vault: Vault, name: string): Promise<StoredTokens> {
  const r = await findSecret(vault, tokenRecordName(name));
  if (!r) return {};
  const meta = (r.meta ?? {}) as Record<string, string | undefined>;
  const t: StoredTokens = {};
  if (r.value) t.accessToken = r.value;
  if (r.fields.refresh_token) t.refreshToken = r.fields.refresh_token;
  if (r.fields.id_token) t.idToken = r.fields.id_token;
  if (r.fields.client_secret) t.clientSecret = r.fields.client_secret;
  for (const k of ['expiresAt', 'scope', 'subject', 'obtainedAt', 'clientSecretExpires'] as const) if (meta[k]) t[k] = meta[k];
  return t;
}

export async function writeTokens(vault: Vault, name: string, t: StoredTokens, now: Date): Promise<void> {
  const previous = await findSecret(vault, tokenRecordName(name));
  const fields: Record<string, string> = {};
  if (t.refreshToken) fields.refresh_token = t.refreshToken;
  if (t.idToken) fields.id_token = t.idToken;
  if (t.clientSecret) fields.client_secret = t.clientSecret;
  const meta: Record<string, string> = {};
  for (const k of ['expiresAt', 'scope', 'subject', 'obtainedAt', 'clientSecretExpires'] as const) if (t[k]) meta[k] = t[k]!;
  const at = now.toISOString();
  const record: SecretRecord = { kind: 'oauth-tokens', value: t.accessToken ?? '', fields, created: previous?.created ?? at, updated: at, meta };
  await vault.set(tokenRecordName(name), record);
}

/** Tokens from a grant response, keeping what the response leaves out (a refresh token not rotated, the client secret). */
export function fromResponse(previous: StoredTokens, response: { access_token: string; refresh_token?: string; id_token?: string; expires_in?: number; scope?: string; claims?: () => { sub?: string } | undefined }, now: Date): StoredTokens {
  const t: StoredTokens = { ...previous, accessToken: response.access_token, obtainedAt: now.toISOString() };
  if (response.refresh_token) t.refreshToken = response.refresh_token;
  if (response.id_token) t.idToken = response.id_token;
  if (response.scope) t.scope = response.scope;
  if (typeof response.expires_in === 'number') t.expiresAt = new Date(now.getTime() + response.expires_in * 1000).toISOString();
  else delete t.expiresAt;
  const sub = response.claims?.()?.sub;
  if (sub) t.subject = sub;
  return t;
}

const fresh = (t: StoredTokens, now: Date, minValidMs: number) =>
  !!t.accessToken && (!t.expiresAt || new Date(t.expiresAt).getTime() - now.getTime() > minValidMs);

/** A new login is the way on: said as data (the CLI words it as `keysmith oauth login NAME`). */
const loginNeeded = (provider: string) => ({ hint: 'log in again (login)', detail: { kind: 'login-needed' as const, provider } });

export interface TokenOptions {
  minValidMs: number;
  now: () => Date;
  paths: KeysmithPaths;
  /** A fetch of our choosing (tests). */
  fetch?: typeof globalThis.fetch;
}

/**
 * A valid access token: the cached one when it stays valid for `minValidMs`, else a refreshed one
 * (or, for client credentials, a new one). Many processes at once cause one refresh: a lock, then
 * a second look at the vault.
 * @example const { accessToken } = await accessToken(vault, 'corp', provider, { minValidMs: 60_000, … })
 */
export async function accessToken(vault: Vault, name: string, provider: ProviderConfig, o: TokenOptions): Promise<{ token: StoredTokens; refreshed: boolean }> {
  const cached = await readTokens(vault, name);
  if (fresh(cached, o.now(), o.minValidMs)) return { token: cached, refreshed: false };
  const lockDir = join(o.paths.data, 'oauth');
  await ensurePrivateDir(lockDir);
  return withFileLock(join(lockDir, name), async () => {
    const current = await readTokens(vault, name);
    if (fresh(current, o.now(), o.minValidMs)) return { token: current, refreshed: false };
    const oidc = await loadClient();
    const client = await clientFor(provider, current.clientSecret, o.fetch ? { fetch: o.fetch } : {});
    const url = typeof provider.server.token_endpoint === 'string' ? provider.server.token_endpoint : undefined;
    let response;
    if (provider.grant !== 'client-credentials' && !current.refreshToken) {
      throw new AuthError(current.accessToken ? `the ${name} access token has expired and there is no refresh token` : `not logged in to ${name}`, loginNeeded(name), 'ERR_OAUTH_LOGIN_NEEDED');
    }
    try {
      response = provider.grant === 'client-credentials'
        // Unset parameters are left out: an empty scope= is not "no scope" to every provider (RFC 6749 §3.3).
        ? await oidc.clientCredentialsGrant(client, grantParameters(provider))
        : await oidc.refreshTokenGrant(client, current.refreshToken!);
    } catch (err) {
      const cc = provider.grant === 'client-credentials';
      const e = await oauthError(err, { action: cc ? 'the client credentials grant' : 'the refresh', endpoint: 'token', ...(url ? { url } : {}) });
      // During a refresh, a refusal is a refusal whatever its body (an empty 400 too): log in again.
      if (!cc && e.kind === 'auth' && (e.code === 'ERR_OAUTH_REJECTED' || e.code === 'ERR_OAUTH_CLIENT_REJECTED')) {
        throw new AuthError(e.message, { cause: err, ...loginNeeded(name) }, 'ERR_OAUTH_LOGIN_NEEDED');
      }
      if (cc && e.code === 'ERR_OAUTH_CLIENT_REJECTED') throw new AuthError(e.message, { cause: err, ...clientRejected(name, provider, current.clientSecret) }, e.code);
      throw e;
    }
    const token = fromResponse(current, response, o.now());
    await writeTokens(vault, name, token, o.now());
    return { token, refreshed: true };
  }, { timeoutMs: 60_000 });
}

/**
 * Revokes the refresh and access tokens at the provider (RFC 7009) where it can, then forgets them
 * (the client secret stays). Says what it could not revoke.
 */
export async function logout(vault: Vault, name: string, provider: ProviderConfig, now: Date, o: { fetch?: typeof globalThis.fetch } = {}): Promise<{ revoked: string[]; notRevoked: Array<{ token: string; why: string }> }> {
  const t = await readTokens(vault, name);
  const revoked: string[] = [];
  const notRevoked: Array<{ token: string; why: string }> = [];
  const pending = [['refresh_token', t.refreshToken], ['access_token', t.accessToken]].filter((p): p is [string, string] => !!p[1]);
  if (pending.length > 0) {
    if (!provider.server.revocation_endpoint) {
      for (const [hint] of pending) notRevoked.push({ token: hint, why: 'the provider has no revocation endpoint' });
    } else {
      const oidc = await loadClient();
      const client = await clientFor(provider, t.clientSecret, { endpoint: 'revocation', ...(o.fetch ? { fetch: o.fetch } : {}) });
      const url = provider.server.revocation_endpoint as string;
      for (const [hint, value] of pending) {
        try {
          await oidc.tokenRevocation(client, value, { token_type_hint: hint });
          revoked.push(hint);
        } catch (err) {
          notRevoked.push({ token: hint, why: (await oauthError(err, { action: 'revocation', endpoint: 'revocation', url })).message });
        }
      }
    }
  }
  await writeTokens(vault, name, { ...(t.clientSecret ? { clientSecret: t.clientSecret } : {}), ...(t.clientSecretExpires ? { clientSecretExpires: t.clientSecretExpires } : {}) }, now);
  return { revoked, notRevoked };
}


/**
 * The `ks://oauth/NAME` resolver for exec and inject: a fresh access token (refreshed as
 * `keysmith oauth token` would), not the stored one.
 */
export function oauthResolver(vault: Vault, o: TokenOptions & { provider: (name: string) => Promise<ProviderConfig> }) {
  return async (recordName: string): Promise<string> => {
    const name = recordName.replace(/^oauth\//, '');
    const { token } = await accessToken(vault, name, await o.provider(name), o);
    return token.accessToken!;
  };
}

/** The scope and audience of a provider as request parameters, leaving out what is unset or empty. */
export function grantParameters(provider: Pick<ProviderConfig, 'scope' | 'audience'>): Record<string, string> {
  const p: Record<string, string> = {};
  if (provider.scope.trim()) p.scope = provider.scope.trim();
  if (provider.audience) p.audience = provider.audience;
  return p;
}
