import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { basicAuthorization, chooseClientAuth } from '../../../src/oauth/client.js';
import type { ProviderConfig } from '../../../src/oauth/providers.js';
import { accessToken, writeTokens } from '../../../src/oauth/tokens.js';
import { memoryVault } from '../../helpers/tls-servers.js';

const ISSUER = 'https://login.test';

describe('client authentication chosen from discovery metadata (RFC 8414 §2, RFC 6749 §2.3.1)', () => {
  const both = { token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'] };
  it('a public client (no secret) authenticates with none, whatever is offered', () => {
    expect(chooseClientAuth(both, 'token', { secret: false })).toBe('none');
    expect(chooseClientAuth({}, 'revocation', { secret: false })).toBe('none');
  });
  it('client_secret_basic first when offered, else client_secret_post', () => {
    expect(chooseClientAuth(both, 'token', { secret: true })).toBe('client_secret_basic');
    expect(chooseClientAuth({ token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'] }, 'token', { secret: true })).toBe('client_secret_post');
  });
  it('nothing advertised: client_secret_basic (the RFC 8414 §2 default)', () => {
    expect(chooseClientAuth({}, 'token', { secret: true })).toBe('client_secret_basic');
  });
  it('revocation and introspection read their own lists, else the token endpoint\'s', () => {
    const server = { token_endpoint_auth_methods_supported: ['client_secret_post'], revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'bearer'] };
    expect(chooseClientAuth(server, 'token', { secret: true })).toBe('client_secret_post');
    expect(chooseClientAuth(server, 'revocation', { secret: true })).toBe('client_secret_basic');
    expect(chooseClientAuth(server, 'introspection', { secret: true })).toBe('client_secret_post');
    expect(chooseClientAuth(server, 'device_authorization', { secret: true })).toBe('client_secret_post');
  });
  it('--auth-method wins at the token endpoint; elsewhere only where that endpoint accepts it', () => {
    const server = { ...both, revocation_endpoint_auth_methods_supported: ['client_secret_basic'] };
    expect(chooseClientAuth(server, 'token', { secret: true, configured: 'client_secret_post' })).toBe('client_secret_post');
    expect(chooseClientAuth({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }, 'token', { secret: true, configured: 'client_secret_post' })).toBe('client_secret_post');
    expect(chooseClientAuth(server, 'revocation', { secret: true, configured: 'client_secret_post' })).toBe('client_secret_basic');
    expect(chooseClientAuth(both, 'revocation', { secret: true, configured: 'client_secret_post' })).toBe('client_secret_post');
    expect(chooseClientAuth(both, 'token', { secret: true, configured: 'none' })).toBe('none');
  });
});

describe('HTTP Basic credentials (RFC 6749 §2.3.1)', () => {
  const decode = (h: string) => Buffer.from(h.replace(/^Basic /, ''), 'base64').toString();
  it('leaves RFC 3986 unreserved characters as they are: they form-decode to themselves', () => {
    expect(decode(basicAuthorization('ci', 'ci-secret.value_1~'))).toBe('ci:ci-secret.value_1~');
  });
  it('form-encodes everything else, so a provider that decodes reads the same credentials', () => {
    const header = decode(basicAuthorization('app:1', 'a+b/c=d%e é'));
    expect(header).toBe('app%3A1:a%2Bb%2Fc%3Dd%25e%20%C3%A9');
    const [id, secret] = header.split(':').map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
    expect([id, secret]).toEqual(['app:1', 'a+b/c=d%e é']);
  });
});

/** A provider of canned answers: a fake of our own fetch seam. */
function fakeProvider(answer: (url: URL, body: URLSearchParams, headers: Headers) => Response) {
  const seen: Array<{ url: string; body: URLSearchParams; headers: Headers }> = [];
  const fetch = async (input: string | URL, init?: { body?: unknown; headers?: unknown }) => {
    const url = new URL(String(input));
    const body = new URLSearchParams(String(init?.body ?? ''));
    const headers = new Headers(init?.headers as HeadersInit);
    seen.push({ url: url.href, body, headers });
    return answer(url, body, headers);
  };
  return { fetch: fetch as unknown as typeof globalThis.fetch, seen };
}

const server = {
  issuer: ISSUER, token_endpoint: `${ISSUER}/token`, revocation_endpoint: `${ISSUER}/revoke`,
  device_authorization_endpoint: `${ISSUER}/device`, token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
};
const tokenJson = () => new Response(JSON.stringify({ access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 }), { status: 200, headers: { 'content-type': 'application/json' } });

describe('requests', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const paths = () => {
    const d = mkdtempSync(join(tmpdir(), 'keysmith-oauth-unit-'));
    dirs.push(d);
    return { config: d, data: d };
  };

  it('client credentials without --scope send no scope= at all (RFC 6749 §4.4.2: OPTIONAL), with client_secret_basic', async () => {
    const vault = memoryVault();
    const provider: ProviderConfig = { issuer: ISSUER, clientId: 'ci', scope: '', grant: 'client-credentials', server };
    await writeTokens(vault, 'ci', { clientSecret: 's3cret' }, new Date());
    const fake = fakeProvider(() => tokenJson());
    const got = await accessToken(vault, 'ci', provider, { minValidMs: 60_000, now: () => new Date(), paths: paths(), fetch: fake.fetch });
    expect(got.token.accessToken).toBe('at-1');
    expect(fake.seen).toHaveLength(1);
    expect([...fake.seen[0]!.body.keys()]).toEqual(['grant_type']);
    expect(fake.seen[0]!.headers.get('authorization')).toBe(basicAuthorization('ci', 's3cret'));
  });

  it('--auth-method post sends the secret in the body', async () => {
    const vault = memoryVault();
    const provider: ProviderConfig = { issuer: ISSUER, clientId: 'ci', scope: 'api', grant: 'client-credentials', server, authMethod: 'client_secret_post' };
    await writeTokens(vault, 'ci', { clientSecret: 's3cret' }, new Date());
    const fake = fakeProvider(() => tokenJson());
    await accessToken(vault, 'ci', provider, { minValidMs: 60_000, now: () => new Date(), paths: paths(), fetch: fake.fetch });
    expect(fake.seen[0]!.headers.get('authorization')).toBeNull();
    expect(Object.fromEntries(fake.seen[0]!.body)).toEqual({ grant_type: 'client_credentials', scope: 'api', client_id: 'ci', client_secret: 's3cret' });
  });
});
