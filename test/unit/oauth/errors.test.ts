import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { KeysmithError } from '../../../src/errors.js';
import { clientFor, oauthError } from '../../../src/oauth/client.js';
import { login } from '../../../src/oauth/login.js';
import type { ProviderConfig } from '../../../src/oauth/providers.js';
import { accessToken, logout, writeTokens } from '../../../src/oauth/tokens.js';
import { memoryVault } from '../../helpers/tls-servers.js';
import { cliMessage } from '../../../src/cli/messages.js';

/**
 * Every HTTP failure names the endpoint, the status and what the provider said (error and
 * error_description) — or that it said nothing usable: an empty body, a non-JSON body (as
 * glewlwyd answers, against RFC 6749 §5.2).
 */
const ISSUER = 'https://login.test';
const server = {
  issuer: ISSUER, token_endpoint: `${ISSUER}/token`, revocation_endpoint: `${ISSUER}/revoke`, introspection_endpoint: `${ISSUER}/introspect`,
  device_authorization_endpoint: `${ISSUER}/device`, token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
};

type Body = { name: string; response: () => Response; detail: string; kind: string };
const bodies: Body[] = [
  {
    name: 'a JSON error', kind: 'auth', detail: 'HTTP 400 from the %s endpoint (%u): invalid_grant: grant request is invalid',
    response: () => new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }), { status: 400, headers: { 'content-type': 'application/json' } }),
  },
  { name: 'an empty body', kind: 'auth', detail: 'HTTP 400 from the %s endpoint (%u): empty body', response: () => new Response(null, { status: 400 }) },
  {
    name: 'an HTML page', kind: 'auth', detail: 'HTTP 403 from the %s endpoint (%u): a text/html body, not an OAuth error',
    response: () => new Response('<html><h1>Forbidden</h1></html>', { status: 403, headers: { 'content-type': 'text/html; charset=utf-8' } }),
  },
  {
    name: 'a challenge (WWW-Authenticate)', kind: 'auth', detail: 'HTTP 401 from the %s endpoint (%u): invalid_client: client authentication failed',
    response: () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="x", error="invalid_client", error_description="client authentication failed"' } }),
  },
  {
    name: 'a server error', kind: 'unavailable', detail: 'HTTP 503 from the %s endpoint (%u): a text/plain body, not an OAuth error',
    response: () => new Response('down for maintenance', { status: 503, headers: { 'content-type': 'text/plain' } }),
  },
];
const verb = (kind: string) => (kind === 'auth' ? 'the provider refused' : 'the provider failed');
const text = (b: Body, action: string, endpoint: string) => `${verb(b.kind)} ${action}: ${b.detail.replace('%s', endpoint).replace('%u', (server as unknown as Record<string, string>)[`${endpoint}_endpoint`]!)}`;

const routed = (fail: string, b: Body) => (async (input: string | URL) => {
  const url = String(input);
  if (url === fail) return b.response();
  if (url.endsWith('/device')) return Response.json({ device_code: 'dc', user_code: 'ABCD-EFGH', verification_uri: `${ISSUER}/verify`, expires_in: 60, interval: 1 });
  return Response.json({ access_token: 'at', token_type: 'Bearer', expires_in: 3600 });
}) as unknown as typeof fetch;

const dir = mkdtempSync(join(tmpdir(), 'keysmith-oauth-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const paths = { config: dir, data: dir };
const caught = async (p: Promise<unknown>) => (await p.then(() => undefined, (e: unknown) => e)) as KeysmithError;

describe.each(bodies)('error text for $name', (b) => {
  it('token endpoint: client credentials', async () => {
    const vault = memoryVault();
    await writeTokens(vault, 'ci', { clientSecret: 's' }, new Date());
    const provider: ProviderConfig = { issuer: ISSUER, clientId: 'ci', scope: 'api', grant: 'client-credentials', server };
    const e = await caught(accessToken(vault, 'ci', provider, { minValidMs: 0, now: () => new Date(), paths, fetch: routed(server.token_endpoint, b) }));
    expect(e.message).toBe(text(b, 'the client credentials grant', 'token'));
    expect(e.kind).toBe(b.kind);
    // A 401/403 (or invalid_client) is about the client's credentials: say how it authenticated.
    // The library says it as data; the CLI words it with its flags (src/cli/messages.ts).
    if (/HTTP 40[13]/.test(b.detail)) {
      expect(e.detail).toEqual({ kind: 'client-rejected', provider: 'ci', clientId: 'ci', method: 'client_secret_basic', formEncoded: false });
      expect(e.hint).not.toMatch(/--/);
      expect(cliMessage(e).hint).toMatch(/client_secret_basic.*--auth-method post/);
    }
  });

  it('token endpoint: a refresh (a 4xx is a refusal whatever its body: exit 4 and the re-login hint)', async () => {
    const vault = memoryVault();
    await writeTokens(vault, 'corp', { accessToken: 'old', refreshToken: 'rt', expiresAt: new Date(Date.now() - 1000).toISOString() }, new Date());
    const provider: ProviderConfig = { issuer: ISSUER, clientId: 'cli', scope: 'openid', grant: 'auth-code', server };
    const e = await caught(accessToken(vault, 'corp', provider, { minValidMs: 0, now: () => new Date(), paths, fetch: routed(server.token_endpoint, b) }));
    expect(e.message).toBe(text(b, 'the refresh', 'token'));
    expect(e.kind).toBe(b.kind);
    if (b.kind === 'auth') {
      // The library says it as data; the CLI words it (src/cli/messages.ts).
      expect(e.detail).toEqual({ kind: 'login-needed', provider: 'corp' });
      expect(cliMessage(e).hint).toBe('run keysmith oauth login corp');
      expect(e.code).toBe('ERR_OAUTH_LOGIN_NEEDED');
    }
  });

  it('device authorization endpoint, and the token endpoint while polling', async () => {
    const provider: ProviderConfig = { issuer: ISSUER, clientId: 'cli', scope: 'openid', grant: 'device', server };
    const options = { device: true, noBrowser: true, port: 0, timeoutMs: 10_000, now: () => new Date(), tell: () => undefined, env: {} };
    const start = await caught(login(memoryVault(), 'corp', provider, { ...options, fetch: routed(server.device_authorization_endpoint, b) }));
    expect(start.message).toBe(text(b, 'the device login', 'device_authorization').replace('device_authorization endpoint', 'device authorization endpoint'));
    expect(start.kind).toBe(b.kind);
    const poll = await caught(login(memoryVault(), 'corp', provider, { ...options, fetch: routed(server.token_endpoint, b) }));
    expect(poll.message).toBe(text(b, 'the device login', 'token'));
  });

  it('revocation endpoint: logout says why, and still forgets the tokens', async () => {
    const vault = memoryVault();
    await writeTokens(vault, 'corp', { accessToken: 'at', refreshToken: 'rt' }, new Date());
    const provider: ProviderConfig = { issuer: ISSUER, clientId: 'cli', scope: 'openid', grant: 'auth-code', server };
    const out = await logout(vault, 'corp', provider, new Date(), { fetch: routed(server.revocation_endpoint, b) });
    expect(out.revoked).toEqual([]);
    expect(out.notRevoked).toEqual([
      { token: 'refresh_token', why: text(b, 'revocation', 'revocation') },
      { token: 'access_token', why: text(b, 'revocation', 'revocation') },
    ]);
  });

  it('introspection endpoint', async () => {
    const provider: ProviderConfig = { issuer: ISSUER, clientId: 'ci', scope: 'api', grant: 'client-credentials', server };
    const client = await clientFor(provider, 's', { endpoint: 'introspection', fetch: routed(server.introspection_endpoint, b) });
    const err = await oidc.tokenIntrospection(client, 'at').then(() => undefined, (e: unknown) => e);
    const e = await oauthError(err, { action: 'introspection', endpoint: 'introspection', url: server.introspection_endpoint });
    expect(e.message).toBe(text(b, 'introspection', 'introspection'));
  });
});

it('the provider\'s words reach the terminal without control characters', async () => {
  const bad = new Response(JSON.stringify({ error: 'invalid_grant', error_description: 'no\x1b[31m red\r\nforged' }), { status: 400, headers: { 'content-type': 'application/json' } });
  const vault = memoryVault();
  await writeTokens(vault, 'corp', { refreshToken: 'rt' }, new Date());
  const provider: ProviderConfig = { issuer: ISSUER, clientId: 'cli', scope: 'openid', grant: 'auth-code', server };
  const e = await caught(accessToken(vault, 'corp', provider, { minValidMs: 0, now: () => new Date(), paths, fetch: (async () => bad) as unknown as typeof fetch }));
  expect(e.message).not.toMatch(/[\x00-\x1f]/);
  expect(e.message).toContain('invalid_grant: no?[31m red??forged');
});
