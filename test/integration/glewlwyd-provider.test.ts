import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { tempHome } from '../helpers/cli.js';
import { startGlewlwyd, type GlewlwydProvider } from '../helpers/glewlwyd.js';
import { describeWith } from '../helpers/system.js';

/**
 * The glewlwyd helper, proved with plain HTTPS calls and openid-client (not keysmith): what a second,
 * independent provider does, and where it departs from oidc-provider or from the RFCs. keysmith's
 * OAuth suite runs against it through the same helper.
 */

/** A Fetch for openid-client that trusts the test CA (the test process has no NODE_EXTRA_CA_CERTS). */
function fetchWithCa(ca: string): oidc.CustomFetch {
  return (url, options) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(options.headers as HeadersInit).forEach((v, k) => (headers[k] = v));
      const req = httpsRequest(url, { method: options.method ?? 'GET', headers, ca, signal: options.signal ?? undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, one);
          const status = res.statusCode ?? 0;
          resolve(new Response([101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: h }));
        });
      });
      req.on('error', reject);
      req.end(options.body === undefined || options.body === null ? undefined : String(options.body));
    });
}

interface Raw {
  status: number;
  type: string | undefined;
  body: string;
}

/** A form POST with nothing added: what a client that sends exactly these bytes would get. */
function postForm(url: string, ca: string, fields: Record<string, string>, authorization?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (authorization) headers.authorization = authorization;
    const req = httpsRequest(url, { method: 'POST', headers, ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end(new URLSearchParams(fields).toString());
  });
}

function getRaw(url: string, ca: string): Promise<Raw & { location?: string }> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    })
      .on('error', reject)
      .end();
  });
}

const basic = (id: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');

describeWith(['glewlwyd', 'sqlite3'], 'glewlwyd (Debian, C, sqlite) as a second OpenID provider, over HTTPS with a test CA', () => {
  const { home, cleanup } = tempHome();
  let gw: GlewlwydProvider;
  let fetchCa: oidc.CustomFetch;
  let server: URL;
  let metadata: Record<string, unknown>;
  /** openid-client's view of the provider for one client. */
  const configFor = async (clientId: string, auth: oidc.ClientAuth, extra: Partial<oidc.ClientMetadata> = {}) => {
    const config = await oidc.discovery(server, clientId, extra, auth, { [oidc.customFetch]: fetchCa });
    config[oidc.customFetch] = fetchCa;
    return config;
  };
  /** Auth code + PKCE through glewlwyd's real login; the token response. */
  const loginAs = async (username = 'alice', redirectUri = 'http://127.0.0.1/callback') => {
    const config = await configFor('cli', oidc.None());
    oidc.enableNonRepudiationChecks(config);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: 'openid profile offline_access', state, nonce, prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const callback = new URL(await gw.login(url.href, username));
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    return { config, tokens, callback, verifier, redirectUri };
  };

  beforeAll(async () => {
    gw = await startGlewlwyd(home);
    fetchCa = fetchWithCa(gw.ca);
    server = new URL(gw.issuer);
  });
  afterAll(async () => {
    await gw?.close();
    cleanup();
  });

  it('discovery: issuer <origin>/api/oidc, its document under the issuer path; what it advertises', async () => {
    expect(gw.issuer).toBe(`https://127.0.0.1:${gw.port}/api/oidc`);
    const raw = await getRaw(`${gw.issuer}/.well-known/openid-configuration`, gw.ca);
    expect(raw.status).toBe(200);
    metadata = JSON.parse(raw.body);
    expect(metadata).toMatchObject({
      issuer: gw.issuer,
      authorization_endpoint: `${gw.issuer}/auth`,
      token_endpoint: `${gw.issuer}/token`,
      device_authorization_endpoint: `${gw.issuer}/device_authorization`,
      revocation_endpoint: `${gw.issuer}/revoke`,
      introspection_endpoint: `${gw.issuer}/introspect`,
      end_session_endpoint: `${gw.issuer}/end_session`,
      jwks_uri: `${gw.issuer}/jwks`,
      code_challenge_methods_supported: ['S256'],
      // Both, for every client — though each client accepts only its own method (see below).
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      // Revocation and introspection: HTTP Basic or a bearer token, nothing else (no public clients).
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'bearer'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'bearer'],
    });
    // Not at the RFC 8414 location (/.well-known/oauth-authorization-server/api/oidc) nor at the origin.
    expect((await getRaw(`https://127.0.0.1:${gw.port}/.well-known/oauth-authorization-server/api/oidc`, gw.ca)).status).toBe(404);
    // RFC 8414 §2 / OIDC Discovery §3: grant_types_supported omits refresh_token and client_credentials
    // (both work), and response_types_supported lists grant types ("refresh_token", "client_credentials").
    expect(metadata.grant_types_supported).toEqual(['authorization_code', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']);
    expect(metadata.response_types_supported).toEqual(expect.arrayContaining(['code', 'refresh_token', 'client_credentials']));
    // openid-client accepts the document.
    const config = await configFor('cli', oidc.None());
    expect(config.serverMetadata().issuer).toBe(gw.issuer);
  });

  it('client credentials with each advertised method, each only for the client registered with it', async () => {
    const { basic: b, post: p } = gw.clients;
    const viaBasic = await oidc.clientCredentialsGrant(await configFor(b.clientId, oidc.ClientSecretBasic(b.clientSecret)), { scope: 'api' });
    expect(viaBasic.token_type.toLowerCase()).toBe('bearer');
    expect(await gw.introspect(viaBasic.access_token)).toMatchObject({ active: true, client_id: b.clientId, scope: 'api' });
    const viaPost = await oidc.clientCredentialsGrant(await configFor(p.clientId, oidc.ClientSecretPost(p.clientSecret)), { scope: 'api' });
    // Filed under no client: introspection shows neither client_id nor sub (oidc-provider shows
    // client_id; RFC 7662 §2.2 makes both optional). With client_secret_basic it has client_id.
    const filed = await gw.introspect(viaPost.access_token);
    expect(filed).toMatchObject({ active: true, scope: 'api' });
    expect(filed.client_id).toBeUndefined();
    expect(filed.sub).toBeUndefined();
    const introspector = await configFor(b.clientId, oidc.ClientSecretBasic(b.clientSecret));
    expect(await oidc.tokenIntrospection(introspector, viaPost.access_token)).toMatchObject({ active: true });

    const token = `${gw.issuer}/token`;
    // The other advertised method: 403 with an empty body (RFC 6749 §5.2: 401 invalid_client, JSON).
    const crossed = await postForm(token, gw.ca, { grant_type: 'client_credentials', scope: 'api', client_id: b.clientId, client_secret: b.clientSecret! });
    expect(crossed).toMatchObject({ status: 403, body: '' });
    expect((await postForm(token, gw.ca, { grant_type: 'client_credentials', scope: 'api' }, basic(p.clientId, p.clientSecret!)))).toMatchObject({ status: 403, body: '' });
    // A wrong secret: the same 403, empty body (RFC 6749 §5.2: 401 invalid_client).
    expect(await postForm(token, gw.ca, { grant_type: 'client_credentials', scope: 'api' }, basic(b.clientId, 'wrong'))).toMatchObject({ status: 403, body: '' });
    // `scope=` empty, or no scope at all: 403, empty body (RFC 6749 §3.3/§4.4.2: scope is OPTIONAL;
    // the server uses a default or answers 400 invalid_scope in JSON).
    expect(await postForm(token, gw.ca, { grant_type: 'client_credentials', scope: '' }, basic(b.clientId, b.clientSecret!))).toMatchObject({ status: 403, body: '' });
    expect(await postForm(token, gw.ca, { grant_type: 'client_credentials' }, basic(b.clientId, b.clientSecret!))).toMatchObject({ status: 403, body: '' });
    // RFC 6749 §2.3.1: Basic credentials are form-urlencoded first, and openid-client encodes
    // '-', '.', '_' (%2D, %2E, %5F); glewlwyd compares them undecoded: 403, empty body.
    const s = gw.clients.basicSymbols;
    const formEncoded = basic(s.clientId, s.clientSecret!).replace(/^Basic .*/, () => 'Basic ' + Buffer.from(`${s.clientId}:${s.clientSecret!.replace(/[-._]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())}`).toString('base64'));
    expect(await postForm(token, gw.ca, { grant_type: 'client_credentials', scope: 'api' }, formEncoded)).toMatchObject({ status: 403, body: '' });
    await expect(oidc.clientCredentialsGrant(await configFor(s.clientId, oidc.ClientSecretBasic(s.clientSecret)), { scope: 'api' })).rejects.toThrow(/unexpected response content-type/);
    // The raw secret (not form-encoded) works.
    expect((await postForm(token, gw.ca, { grant_type: 'client_credentials', scope: 'api' }, 'Basic ' + Buffer.from(`${s.clientId}:${s.clientSecret}`).toString('base64'))).status).toBe(200);
    // A scope the client does not have: JSON, but a made-up code (RFC 6749 §5.2: invalid_scope).
    const alien = await postForm(token, gw.ca, { grant_type: 'client_credentials', scope: 'offline_access' }, basic(b.clientId, b.clientSecret!));
    expect(alien.status).toBe(400);
    expect(JSON.parse(alien.body)).toEqual({ error: 'scope_invalid' });
  });

  it('auth code + PKCE (S256) through the real login: password, consent, ID token checked by openid-client', async () => {
    const { tokens, callback, verifier, redirectUri } = await loginAs('alice');
    expect(callback.searchParams.get('session_state')).toBeTruthy();
    expect(callback.searchParams.get('iss')).toBeNull(); // no RFC 9207 iss in the response
    expect(tokens.access_token.length).toBeGreaterThan(20);
    expect(tokens.refresh_token).toBeTruthy();
    const claims = tokens.claims()!;
    expect(claims.iss).toBe(gw.issuer);
    expect(claims.aud).toContain('cli');
    expect(claims.sub).toBe('alice');
    expect(await gw.introspect(tokens.access_token)).toMatchObject({ active: true, client_id: 'cli', username: 'alice' });
    // A replayed code: 403 {"error":"invalid_code"} (RFC 6749 §5.2: 400 invalid_grant), and the
    // tokens issued for it are revoked (RFC 6749 §4.1.2 SHOULD).
    const replay = await postForm(`${gw.issuer}/token`, gw.ca, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: redirectUri, client_id: 'cli', code_verifier: verifier });
    expect(replay.status).toBe(403);
    expect(JSON.parse(replay.body)).toEqual({ error: 'invalid_code' });
    expect((await gw.introspect(tokens.access_token)).active).toBe(false);
  });

  it('redirect URIs match exactly: the registered port works, any other loopback port is 403 with an empty body', async () => {
    const { cli } = gw.clients;
    const { tokens } = await loginAs('carol', `http://127.0.0.1:${cli.redirectPort}/callback`);
    expect(tokens.claims()!.sub).toBe('carol');
    const config = await configFor('cli', oidc.None());
    const other = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `http://127.0.0.1:${cli.redirectPort === 65535 ? 65534 : cli.redirectPort + 1}/callback`, scope: 'openid', state: 's',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    });
    // RFC 8252 §7.3: the server MUST allow any port for loopback redirect URIs. glewlwyd: 403, no body, no redirect.
    const res = await getRaw(other.href, gw.ca);
    expect(res).toMatchObject({ status: 403, body: '' });
    expect(res.location).toBeUndefined();
    await expect(gw.login(other.href)).rejects.toThrow(/answered 403/);
  });

  it('refresh rotates the refresh token (one use): the old one is then refused with 400 and an empty body', async () => {
    const { config, tokens } = await loginAs('alice');
    const first = tokens.refresh_token!;
    const refreshed = await oidc.refreshTokenGrant(config, first);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first);
    // RFC 6749 §5.2: 400 with JSON {"error":"invalid_grant"}. glewlwyd: 400, no body, no content-type.
    const replay = await postForm(`${gw.issuer}/token`, gw.ca, { grant_type: 'refresh_token', refresh_token: first, client_id: 'cli' });
    expect(replay).toMatchObject({ status: 400, body: '' });
    expect(replay.type).toBeUndefined();
    const err = await oidc.refreshTokenGrant(config, first).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(oidc.ResponseBodyError); // no error code to read: only the status
    // Reuse detection (RFC 9700 §4.14.2): the replay disabled the whole family, the new one too.
    expect(await postForm(`${gw.issuer}/token`, gw.ca, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, client_id: 'cli' })).toMatchObject({ status: 400, body: '' });
    expect((await gw.introspect(refreshed.refresh_token!)).active).toBe(false);
    // Without a replay, the chain goes on: each refresh token works once.
    const fresh = await loginAs('alice');
    const r1 = await oidc.refreshTokenGrant(fresh.config, fresh.tokens.refresh_token!);
    const r2 = await oidc.refreshTokenGrant(fresh.config, r1.refresh_token!);
    expect(new Set([fresh.tokens.refresh_token, r1.refresh_token, r2.refresh_token]).size).toBe(3);
    expect((await gw.introspect(r2.refresh_token!)).active).toBe(true);
  });

  it('concurrent refreshes with one refresh token: exactly one answer, the others 400 with an empty body', async () => {
    const { tokens } = await loginAs('alice');
    const runs = await Promise.all(Array.from({ length: 5 }, () => postForm(`${gw.issuer}/token`, gw.ca, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'cli' })));
    expect(runs.map((r) => r.status).sort()).toEqual([200, 400, 400, 400, 400]);
    for (const r of runs.filter((x) => x.status !== 200)) expect(r.body).toBe('');
    // A loser that lands after the rotation also disables the winner's new refresh token (the
    // family, as in the test above), one that lands before does not: a client without a lock can
    // lose the login at random. keysmith refreshes once, under its lock.
  });

  it('device authorization grant: initiate, approve as the user through the login API, poll', async () => {
    const config = await configFor('cli', oidc.None());
    const d = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile offline_access' });
    expect(d.verification_uri).toBe(`${gw.issuer}/device`);
    expect(d.verification_uri_complete).toBe(`${gw.issuer}/device?code=${d.user_code}`);
    expect(d.user_code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(d.interval).toBe(1);
    const polled = oidc.pollDeviceAuthorizationGrant(config, d, undefined, { signal: AbortSignal.timeout(30_000) });
    await new Promise((r) => setTimeout(r, 1500)); // at least one authorization_pending
    await gw.approveDevice(d.user_code, 'bob');
    const tokens = await polled;
    expect(tokens.claims()!.sub).toBe('bob');
    expect(tokens.refresh_token).toBeTruthy();
    // The helper's actAsUser takes the verification_uri_complete, like the oidc-provider helper's.
    const d2 = await oidc.initiateDeviceAuthorization(config, { scope: 'openid' });
    expect((await gw.actAsUser(d2.verification_uri_complete!, 'carol')).body).toMatch(/success/);
    expect((await oidc.pollDeviceAuthorizationGrant(config, d2, undefined, { signal: AbortSignal.timeout(30_000) })).claims()!.sub).toBe('carol');
  });

  it('revocation (RFC 7009): basic auth or a bearer token only; a public client cannot revoke its own tokens', async () => {
    const { config, tokens } = await loginAs('alice');
    const revoke = `${gw.issuer}/revoke`;
    // RFC 7009 §2.1: a public client identifies itself with client_id. glewlwyd: 401, empty body.
    expect(await postForm(revoke, gw.ca, { token: tokens.refresh_token!, client_id: 'cli' })).toMatchObject({ status: 401, body: '' });
    await expect(oidc.tokenRevocation(config, tokens.refresh_token!)).rejects.toThrow();
    // A confidential client with HTTP Basic: 200, even for a token issued to another client.
    const { basic: b, post: p } = gw.clients;
    const mine = await oidc.clientCredentialsGrant(await configFor(b.clientId, oidc.ClientSecretBasic(b.clientSecret)), { scope: 'api' });
    await oidc.tokenRevocation(await configFor(b.clientId, oidc.ClientSecretBasic(b.clientSecret)), mine.access_token);
    expect((await gw.introspect(mine.access_token)).active).toBe(false);
    // client_secret_post is not advertised for revocation, and a client registered for basic is
    // refused it: 401, empty body (RFC 7009 §2.2.1 / RFC 6749 §5.2: 401 invalid_client in JSON).
    const theirs = await oidc.clientCredentialsGrant(await configFor(p.clientId, oidc.ClientSecretPost(p.clientSecret)), { scope: 'api' });
    expect(await postForm(revoke, gw.ca, { token: theirs.access_token, client_id: b.clientId, client_secret: b.clientSecret! })).toMatchObject({ status: 401, body: '' });
    // The administrator (bearer token): the refresh token is revoked; a refresh then is 400, empty body.
    await gw.revoke(tokens.refresh_token!);
    expect(await postForm(`${gw.issuer}/token`, gw.ca, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: 'cli' })).toMatchObject({ status: 400, body: '' });
    // An unknown token: 200 as RFC 7009 §2.2 asks.
    expect((await postForm(revoke, gw.ca, { token: 'not-a-token' }, basic(b.clientId, b.clientSecret!))).status).toBe(200);
  });

  it('introspection (RFC 7662): active with its metadata, inactive once revoked or unknown', async () => {
    const { tokens } = await loginAs('bob');
    const { basic: b } = gw.clients;
    const intro = await configFor(b.clientId, oidc.ClientSecretBasic(b.clientSecret));
    const active = await oidc.tokenIntrospection(intro, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: 'cli', username: 'bob', token_type: 'bearer' });
    expect(active.scope).toContain('openid');
    expect(typeof active.exp).toBe('number');
    // The refresh token, through the administrator's bearer token.
    expect(await gw.introspect(tokens.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });
    await gw.revoke(tokens.access_token);
    expect((await oidc.tokenIntrospection(intro, tokens.access_token)).active).toBe(false);
    expect((await gw.introspect('not-a-token')).active).toBe(false);
    // No credentials at all: 401, empty body.
    expect(await postForm(`${gw.issuer}/introspect`, gw.ca, { token: tokens.access_token })).toMatchObject({ status: 401, body: '' });
  });

  it('end session: with an id_token_hint glewlwyd redirects to its logout prompt', async () => {
    const { config, tokens } = await loginAs('alice');
    const url = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token! });
    const res = await getRaw(url.href, gw.ca);
    expect(res.status).toBe(302);
    expect(new URL(res.location!).searchParams.get('prompt')).toBe('end_session');
    // Without id_token_hint: 200 with an empty body, no redirect (the hint is only RECOMMENDED).
    expect(await getRaw(`${gw.issuer}/end_session`, gw.ca)).toMatchObject({ status: 200, body: '' });
  });
});
