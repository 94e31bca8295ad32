import type { Configuration } from 'openid-client';
import { AuthError, KeysmithError, UnavailableError, UsageError } from '../errors.js';
import type { ProviderConfig } from './providers.js';

/** openid-client is loaded only on paths that talk to the provider (never for a cached token). */
export const loadClient = () => import('openid-client');

/** The client for a provider, from its cached metadata: no discovery round trip. */
export async function clientFor(provider: ProviderConfig, clientSecret: string | undefined): Promise<Configuration> {
  const oidc = await loadClient();
  return new oidc.Configuration(
    provider.server as never,
    provider.clientId,
    clientSecret ? { client_secret: clientSecret } : undefined,
    clientSecret ? oidc.ClientSecretPost(clientSecret) : oidc.None(),
  );
}

/** OIDC discovery or RFC 8414 metadata of an issuer. */
export async function discover(issuer: string, clientId: string): Promise<Record<string, unknown>> {
  const oidc = await loadClient();
  try {
    const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { timeout: 15 });
    return { ...config.serverMetadata() };
  } catch (err) {
    throw oauthError(err, `discovering ${issuer}`);
  }
}

/** openid-client's errors as ours: a rejected grant is auth (exit 4), an unreachable provider unavailable (exit 5). */
export function oauthError(err: unknown, action: string): KeysmithError {
  if (err instanceof KeysmithError) return err;
  const e = err as Error & { code?: string; error?: string; error_description?: string; status?: number; cause?: unknown };
  if (e.error) {
    const detail = `${e.error}${e.error_description ? `: ${e.error_description}` : ''}`;
    return new AuthError(`the provider refused ${action} (${detail})`, { cause: err }, 'ERR_OAUTH_REJECTED');
  }
  if (e.code === 'OAUTH_INVALID_RESPONSE' || e.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || e.code === 'OAUTH_JWS_SIGNATURE_VERIFICATION_FAILED' || /signature|issuer|nonce|state/i.test(e.message)) {
    return new AuthError(`${action}: the provider's response failed validation (${e.message})`, { cause: err }, 'ERR_OAUTH_INVALID');
  }
  if (e instanceof TypeError || /fetch failed|ECONNREFUSED|ENOTFOUND|timeout|aborted/i.test(`${e.message} ${String((e.cause as Error)?.message ?? '')}`)) {
    return new UnavailableError(`cannot reach the provider (${action}): ${(e.cause as Error)?.message ?? e.message}`, { cause: err }, 'ERR_OAUTH_UNREACHABLE');
  }
  if (e.code?.startsWith('ERR_JOSE') || e.code?.startsWith('OAUTH_')) {
    return new AuthError(`${action}: ${e.message}`, { cause: err }, 'ERR_OAUTH_INVALID');
  }
  return new UsageError(`${action}: ${e.message}`, { cause: err }, 'ERR_OAUTH');
}
