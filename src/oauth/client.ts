import type { ClientAuth, Configuration } from 'openid-client';
import { AuthError, FailedError, KeysmithError, UnavailableError, UsageError, type ErrorDetail } from '../errors.js';
import { printable } from '../text.js';
import type { ClientAuthMethod, ProviderConfig } from './provider-config.js';

/** openid-client is loaded only on paths that talk to the provider (never for a cached token). */
export const loadClient = () => import('openid-client');

export type { ClientAuthMethod } from './provider-config.js';
/** The provider endpoints keysmith calls with client authentication. */
export type OAuthEndpoint = 'token' | 'device_authorization' | 'revocation' | 'introspection';

/**
 * The client authentication method for one endpoint: `none` without a secret (a public client);
 * else the configured one (`oauth add --auth-method`) — always at the token endpoint, elsewhere
 * when that endpoint accepts it; else `client_secret_basic` when offered (RFC 6749 §2.3.1: servers
 * MUST support it, and it keeps the secret out of the body), else `client_secret_post`.
 * Revocation and introspection read their own `*_endpoint_auth_methods_supported`, else the token
 * endpoint's; the device endpoint authenticates as the token endpoint does (RFC 8628 §3.1).
 * @example chooseClientAuth(server, 'token', { secret: true }) // 'client_secret_basic'
 */
export function chooseClientAuth(server: Record<string, unknown>, endpoint: OAuthEndpoint, o: { secret: boolean; configured?: ClientAuthMethod }): ClientAuthMethod {
  if (!o.secret || o.configured === 'none') return 'none';
  const list = (key: string) => (Array.isArray(server[key]) ? (server[key] as unknown[]).filter((m): m is string => typeof m === 'string') : undefined);
  const tokenList = list('token_endpoint_auth_methods_supported');
  const own = endpoint === 'revocation' || endpoint === 'introspection' ? list(`${endpoint}_endpoint_auth_methods_supported`) : undefined;
  if (o.configured && (endpoint === 'token' || endpoint === 'device_authorization' || !own || own.includes(o.configured))) return o.configured;
  const offered = own ?? tokenList;
  // Nothing advertised: RFC 8414 §2's default is client_secret_basic.
  if (!offered || offered.includes('client_secret_basic')) return 'client_secret_basic';
  if (offered.includes('client_secret_post')) return 'client_secret_post';
  return 'client_secret_basic';
}

/**
 * The HTTP Basic header of a client (RFC 6749 §2.3.1): client ID and secret form-encoded, then
 * base64. RFC 3986 unreserved characters (letters, digits, `-._~`) are left as they are: they
 * form-decode to themselves, so a provider that decodes (as §2.3.1 asks) reads the same
 * credentials, and one that does not decode (glewlwyd 2.7) still reads base64url and hex secrets.
 * Everything else is percent-encoded (UTF-8), `+` and `%` included, so decoding is unambiguous.
 * openid-client encodes `-._~` too, which such providers refuse.
 * @example basicAuthorization('ci', 'a-b') // 'Basic Y2k6YS1i'
 */
export function basicAuthorization(clientId: string, secret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

/** Whether HTTP Basic changes the secret on the wire (characters beyond RFC 3986's unreserved set). */
export const basicEncodes = (secret: string) => /[^A-Za-z0-9\-._~]/.test(secret);

export interface ClientOptions {
  /** The endpoint the client will call: picks the client authentication method. */
  endpoint?: OAuthEndpoint;
  /** A fetch of our choosing (tests); the global one otherwise. */
  fetch?: typeof globalThis.fetch;
}

/** The client for a provider, from its cached metadata: no discovery round trip. */
export async function clientFor(provider: ProviderConfig, clientSecret: string | undefined, o: ClientOptions = {}): Promise<Configuration> {
  const oidc = await loadClient();
  const method = chooseClientAuth(provider.server, o.endpoint ?? 'token', { secret: !!clientSecret, ...(provider.authMethod ? { configured: provider.authMethod } : {}) });
  const auth: ClientAuth =
    method === 'client_secret_basic' ? (_as, client, _body, headers) => void headers.set('authorization', basicAuthorization(client.client_id, clientSecret!))
      : method === 'client_secret_post' ? oidc.ClientSecretPost(clientSecret!)
        : oidc.None();
  const config = new oidc.Configuration(provider.server as never, provider.clientId, clientSecret ? { client_secret: clientSecret } : undefined, auth);
  if (o.fetch) config[oidc.customFetch] = o.fetch as never;
  return config;
}

/** OIDC discovery or RFC 8414 metadata of an issuer. */
export async function discover(issuer: string, clientId: string): Promise<Record<string, unknown>> {
  const oidc = await loadClient();
  try {
    const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { timeout: 15 });
    return { ...config.serverMetadata() };
  } catch (err) {
    throw await oauthError(err, { action: `discovering ${issuer}` });
  }
}

/** Where a request went: what the user is doing, and the endpoint it called. */
export interface OAuthCall {
  /** e.g. "the refresh", "revocation". */
  action: string;
  endpoint?: OAuthEndpoint;
  url?: string;
}

/** An HTTP answer that was not the success expected: its status and what the provider said. */
export interface HttpFailure {
  status: number;
  /** `error: error_description`, or what the body was instead (empty, not JSON). */
  detail: string;
  error?: string;
}

const endpointName = (e: OAuthEndpoint) => (e === 'device_authorization' ? 'device authorization' : e);

/** The HTTP failure inside one of openid-client's errors (ResponseBodyError, WWWAuthenticateChallengeError, or a ClientError whose cause is the Response). */
export async function httpFailure(err: unknown): Promise<HttpFailure | undefined> {
  const e = err as { error?: unknown; error_description?: unknown; status?: unknown; response?: unknown; cause?: unknown };
  const response = e?.response instanceof Response ? e.response : e?.cause instanceof Response ? e.cause : undefined;
  const status = typeof e?.status === 'number' ? e.status : response?.status;
  if (typeof status !== 'number') return undefined;
  const said = (error: unknown, description: unknown) =>
    typeof error === 'string' && error ? { error: printable(error), detail: `${printable(error)}${typeof description === 'string' && description ? `: ${printable(description)}` : ''}` } : undefined;
  // A JSON error body (RFC 6749 §5.2), or one in a WWW-Authenticate challenge (RFC 6750 §3).
  let found = said(e.error, e.error_description);
  if (!found && Array.isArray(e.cause)) {
    for (const c of e.cause as Array<{ parameters?: Record<string, unknown> }>) found ??= said(c.parameters?.error, c.parameters?.error_description);
  }
  if (found) return { status, ...found };
  let text: string | undefined;
  if (response && !response.bodyUsed) text = await response.clone().text().catch(() => undefined);
  const type = response?.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (text !== undefined && text.trim() === '') return { status, detail: 'empty body' };
  if (!type) return { status, detail: text === undefined && !response?.headers.get('content-length') ? 'no body' : 'a body without a content-type, not an OAuth error' };
  return { status, detail: `a ${printable(type)} body, not an OAuth error` };
}

/**
 * openid-client's errors as ours. An HTTP failure names the endpoint, the status and what the
 * provider said: 400/401/403 are a refusal (auth, exit 4), 429 and 5xx an unavailable provider
 * (exit 5), other statuses a failure (exit 1). An unreachable provider is exit 5.
 */
export async function oauthError(err: unknown, call: OAuthCall): Promise<KeysmithError> {
  if (err instanceof KeysmithError) return err;
  const { action } = call;
  const http = await httpFailure(err);
  if (http && (http.status < 200 || http.status >= 300)) {
    const where = `HTTP ${http.status} from the ${call.endpoint ? `${endpointName(call.endpoint)} endpoint` : 'provider'}${call.url ? ` (${call.url})` : ''}: ${http.detail}`;
    const code = http.error === 'invalid_client' || http.status === 401 || http.status === 403 ? 'ERR_OAUTH_CLIENT_REJECTED' : 'ERR_OAUTH_REJECTED';
    if (http.status === 400 || http.status === 401 || http.status === 403) return new AuthError(`the provider refused ${action}: ${where}`, { cause: err }, code);
    if (http.status === 429 || http.status >= 500) return new UnavailableError(`the provider failed ${action}: ${where}`, { cause: err }, 'ERR_OAUTH_UNAVAILABLE');
    return new FailedError(`${action}: ${where}`, { cause: err }, 'ERR_OAUTH_HTTP');
  }
  const e = err as Error & { code?: string; error?: string; error_description?: string; cause?: unknown };
  if (e.error) {
    const detail = `${printable(e.error)}${e.error_description ? `: ${printable(e.error_description)}` : ''}`;
    return new AuthError(`the provider refused ${action} (${detail})`, { cause: err }, 'ERR_OAUTH_REJECTED');
  }
  if (e.code === 'OAUTH_INVALID_RESPONSE' || e.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || e.code === 'OAUTH_JWS_SIGNATURE_VERIFICATION_FAILED' || /signature|issuer|nonce|state/i.test(e.message)) {
    return new AuthError(`${action}: the provider's response failed validation (${e.message})`, { cause: err }, 'ERR_OAUTH_INVALID');
  }
  if (http) return new AuthError(`${action}: the provider's answer (HTTP ${http.status}) is not valid: ${e.message}`, { cause: err }, 'ERR_OAUTH_INVALID');
  if (e instanceof TypeError || /fetch failed|ECONNREFUSED|ENOTFOUND|timeout|aborted/i.test(`${e.message} ${String((e.cause as Error)?.message ?? '')}`)) {
    return new UnavailableError(`cannot reach the provider (${action}): ${(e.cause as Error)?.message ?? e.message}`, { cause: err }, 'ERR_OAUTH_UNREACHABLE');
  }
  if (e.code?.startsWith('ERR_JOSE') || e.code?.startsWith('OAUTH_')) {
    return new AuthError(`${action}: ${e.message}`, { cause: err }, 'ERR_OAUTH_INVALID');
  }
  return new UsageError(`${action}: ${e.message}`, { cause: err }, 'ERR_OAUTH');
}

/**
 * What to say of a client the token endpoint refused (401/403, invalid_client): which method
 * keysmith used, and the other one — providers such as glewlwyd accept only the registered one.
 */
export function clientRejected(name: string, provider: ProviderConfig, secret: string | undefined): { hint: string; detail: ErrorDetail } {
  const method = chooseClientAuth(provider.server, 'token', { secret: !!secret, ...(provider.authMethod ? { configured: provider.authMethod } : {}) });
  const formEncoded = method === 'client_secret_basic' && !!secret && basicEncodes(secret);
  const hint = method === 'none'
    ? `check that client ${provider.clientId} is a public client at the provider, or give it a client secret`
    : `check the client secret, and the client authentication method (authMethod): keysmith used ${method}${formEncoded ? ', with the secret form-encoded (RFC 6749 §2.3.1), which some providers do not decode' : ''}`;
  return { hint, detail: { kind: 'client-rejected', provider: name, clientId: provider.clientId, method, formEncoded } };
}
