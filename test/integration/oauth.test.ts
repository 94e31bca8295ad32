import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, tempHome } from '../helpers/cli.js';
import { startGlewlwyd } from '../helpers/glewlwyd.js';
import { actAsUser, clientEnv, loginWith, startProvider, type TestProvider } from '../helpers/oidc.js';
import { describeWith } from '../helpers/system.js';

/**
 * The OAuth suite, run against two independent OpenID providers started once per describe block
 * on 127.0.0.1 over TLS with a test CA: oidc-provider (Node, from npm) and glewlwyd (Debian, C,
 * sqlite). Where a provider breaks a spec, the test names the clause; where only one provider can
 * inject a fault (slow_down, a tampered ID token, grant counters), the test runs against that one.
 */
interface Peer {
  issuer: string;
  caFile: string;
  /** Passed to `oauth add` for the public client: glewlwyd matches redirect URIs exactly (RFC 8252 §7.3 unmet). */
  addFlags: string[];
  /** The fixed redirect port, when the provider needs one. */
  redirectPort?: number;
  /** Confidential clients, each with the client authentication method the provider accepts from it. */
  confidential: Array<{ clientId: string; secret: string; method: 'basic' | 'post'; addFlags: string[] }>;
  actAsUser(url: string, user?: string): Promise<{ url: string; status: number; body: string }>;
  revoke(token: string): Promise<void>;
  introspect(token: string): Promise<{ active: boolean }>;
  /** Refresh grants the provider has seen (oidc-provider only). */
  refreshes?: () => number;
  oidc?: TestProvider;
  /** RFC 7009 §2.1: a public client revokes with its client_id. */
  publicRevocation: boolean;
  close(): Promise<void>;
}

async function oidcPeer(home: string): Promise<Peer> {
  const p = await startProvider(home);
  return {
    issuer: p.issuer, caFile: p.caFile, addFlags: [],
    // oidc-provider takes client_secret_basic and client_secret_post from any client_secret_* client.
    confidential: [
      { clientId: 'ci', secret: 'ci-secret-value', method: 'basic', addFlags: [] },
      { clientId: 'ci', secret: 'ci-secret-value', method: 'post', addFlags: ['--auth-method', 'post'] },
    ],
    actAsUser: (url, user) => actAsUser(url, p.ca, user),
    revoke: (t) => p.revoke(t), introspect: (t) => p.introspect(t),
    refreshes: () => p.grants.refresh_token ?? 0,
    oidc: p, publicRevocation: true, close: () => p.close(),
  };
}

async function glewlwydPeer(home: string): Promise<Peer> {
  const g = await startGlewlwyd(home);
  const { basic, post, basicSymbols, cli } = g.clients;
  return {
    issuer: g.issuer, caFile: g.caFile, redirectPort: cli.redirectPort, addFlags: ['--redirect-port', String(cli.redirectPort)],
    confidential: [
      // Chosen from the metadata: client_secret_basic.
      { clientId: basic.clientId, secret: basic.clientSecret!, method: 'basic', addFlags: ['--scope', 'api'] },
      // '-', '.', '_' in the secret: keysmith's Basic encoding leaves them as they are (see src/oauth/client.ts).
      { clientId: basicSymbols.clientId, secret: basicSymbols.clientSecret!, method: 'basic', addFlags: ['--scope', 'api'] },
      { clientId: post.clientId, secret: post.clientSecret!, method: 'post', addFlags: ['--scope', 'api', '--auth-method', 'post'] },
    ],
    actAsUser: (url, user) => g.actAsUser(url, user),
    revoke: (t) => g.revoke(t), introspect: (t) => g.introspect(t),
    publicRevocation: false, close: () => g.close(),
  };
}


/** A GET with a Host header of our choosing (fetch cannot set one). */
function rawGet(target: URL, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}


function oauthSuite(kind: 'oidc-provider' | 'glewlwyd', start: (home: string) => Promise<Peer>) {
  const { home, cleanup } = tempHome();
  let peer: Peer;
  let env: NodeJS.ProcessEnv;
  const url = (text: string) => /https:\/\/\S+/.exec(text)![0];
  const secretJson = async () => JSON.parse((await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout);
  beforeAll(async () => {
    peer = await start(home);
    env = await clientEnv({ caFile: peer.caFile } as TestProvider, home);
  });
  afterAll(async () => {
    await peer?.close();
    cleanup();
  });

  it('add discovers the provider and names the redirect URI; login (auth code + PKCE) through the real login; token; status never shows a token', async () => {
    const add = await runBin(['oauth', 'add', 'corp', '--issuer', peer.issuer, '--client-id', 'cli', '--scope', 'openid profile offline_access', ...peer.addFlags], { env });
    expect(add.code, add.stderr).toBe(0);
    expect(add.stderr).toContain(peer.redirectPort ? `redirect URI: http://127.0.0.1:${peer.redirectPort}/callback (register it for client cli)` : 'redirect URI: http://127.0.0.1:PORT/callback with any free port (RFC 8252 §7.3)');
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => {
      const u = new URL(url(text));
      expect(u.searchParams.get('code_challenge_method')).toBe('S256');
      expect(u.searchParams.get('state')).toBeTruthy();
      if (peer.redirectPort) expect(u.searchParams.get('redirect_uri')).toBe(`http://127.0.0.1:${peer.redirectPort}/callback`);
      const done = await peer.actAsUser(u.href);
      expect(done.body).toMatch(/Logged in/);
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).not.toMatch(/answered HTTP/);
    const token = await runBin(['oauth', 'token', 'corp'], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.length).toBeGreaterThan(20);
    expect((await peer.introspect(token.stdout)).active).toBe(true);
    const status = await runBin(['oauth', 'status', '--json'], { env });
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ name: 'corp', loggedIn: true, subject: 'alice', refreshToken: true });
    expect(status.stdout).not.toContain(token.stdout);
    expect(login.stderr + token.stderr + status.stderr).not.toContain(token.stdout);
    // Nowhere in a plain file either: only the age-encrypted vault holds it.
    const { readdirSync, readFileSync, statSync } = await import('node:fs');
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
    for (const f of walk(join(home, 'ks'))) expect(readFileSync(f, 'latin1'), f).not.toContain(token.stdout);
  });

  it('refresh: one round trip when the token would expire within --min-valid; the refresh token rotates', async () => {
    const before = await secretJson();
    const refreshes = peer.refreshes?.();
    const got = await runBin(['oauth', 'token', 'corp', '--min-valid', '2h', '--json'], { env });
    expect(got.code, got.stderr).toBe(0);
    const json = JSON.parse(got.stdout);
    expect(json.refreshed).toBe(true);
    expect(json.accessToken).not.toBe(before.value);
    if (peer.refreshes) expect(peer.refreshes()).toBe(refreshes! + 1);
    const after = await secretJson();
    expect(after.fields.refresh_token).not.toBe(before.fields.refresh_token);
    expect((await peer.introspect(json.accessToken)).active).toBe(true);
    if (kind === 'glewlwyd') {
      // One-use refresh tokens: the old one is spent, the new one live.
      expect((await peer.introspect(before.fields.refresh_token)).active).toBe(false);
      expect((await peer.introspect(after.fields.refresh_token)).active).toBe(true);
    }
    // A cached, valid token: no request at all.
    expect(JSON.parse((await runBin(['oauth', 'token', 'corp', '--json'], { env })).stdout).refreshed).toBe(false);
    if (peer.refreshes) expect(peer.refreshes()).toBe(refreshes! + 1);
    expect((await runBin(['oauth', 'token', 'corp', '--header'], { env })).stdout).toBe(`Authorization: Bearer ${json.accessToken}`);
  });

  it('10 concurrent token processes with a stale token cause exactly one refresh', async () => {
    await new Promise((r) => setTimeout(r, 3100)); // the 1 h token now has under 3597 s left; a new one keeps more for 3 s
    const before = await secretJson();
    const refreshes = peer.refreshes?.();
    const runs = await Promise.all(Array.from({ length: 10 }, () => runBin(['oauth', 'token', 'corp', '--min-valid', '3597s'], { env, timeoutMs: 60_000 })));
    expect(runs.map((r) => r.code), runs.map((r) => r.stderr).join('')).toEqual(Array(10).fill(0));
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    expect(runs[0]!.stdout).not.toBe(before.value);
    if (peer.refreshes) expect(peer.refreshes()).toBe(refreshes! + 1);
    else {
      // glewlwyd: a second use of the refresh token would be refused (400) and would revoke the
      // whole family, the new refresh token too (RFC 9700 §4.14.2). The new one is live: one refresh.
      const after = await secretJson();
      expect(after.fields.refresh_token).not.toBe(before.fields.refresh_token);
      expect((await peer.introspect(after.fields.refresh_token)).active).toBe(true);
    }
  });

  it('a wrong state on the callback is refused and the listener keeps waiting', async () => {
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => {
      const u = new URL(url(text));
      const redirect = u.searchParams.get('redirect_uri')!;
      const forged = await fetch(`${redirect}?code=stolen&state=not-the-state`);
      expect(forged.status).toBe(400);
      expect(await forged.text()).toMatch(/state mismatch/);
      expect((await peer.actAsUser(u.href)).body).toMatch(/Logged in/);
    });
    expect(login.code, login.stderr).toBe(0);
  });

  it('the loopback listener answers only its own Host, escapes what the provider says, and keeps control characters off the terminal', async () => {
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => {
      const u = new URL(url(text));
      const redirect = new URL(u.searchParams.get('redirect_uri')!);
      const state = u.searchParams.get('state')!;
      // DNS rebinding: a page on evil.example that resolves to 127.0.0.1 sends its own Host.
      const rebound = await rawGet(redirect, `${redirect.pathname}?code=stolen&state=${state}`, `evil.example:${redirect.port}`);
      expect(rebound.status).toBe(421);
      const error = encodeURIComponent('<script>alert(1)</script>');
      const description = encodeURIComponent('\x1b[31mforged status\x1b[0m\rOK');
      const answered = await rawGet(redirect, `${redirect.pathname}?state=${state}&error=${error}&error_description=${description}`, redirect.host);
      expect(answered.status).toBe(400);
      expect(answered.body).not.toContain('<script>');
      expect(answered.body).toContain('&lt;script&gt;');
    });
    expect(login.code).toBe(4);
    expect(login.stderr).toMatch(/the provider refused the login/);
    expect(login.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  it(kind === 'oidc-provider' ? 'device flow, honouring slow_down (fault injected by oidc-provider only)' : 'device flow (RFC 8628)', async () => {
    const polls = peer.oidc?.grants['urn:ietf:params:oauth:grant-type:device_code'] ?? 0;
    peer.oidc?.slowDown(1);
    const login = await loginWith(env, ['corp', '--device', '--json'], async (text) => {
      const complete = /\(or open (\S+)\)/.exec(text)?.[1];
      const uri = complete ?? /open (\S+) and enter the code/.exec(text)![1]!;
      const done = await peer.actAsUser(uri, 'bob');
      expect(done.body, done.body.slice(0, 2000)).toMatch(/Sign-in Success|success/i);
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toMatch(/enter the code [A-Z0-9-]+/);
    expect(JSON.parse(login.stdout)).toMatchObject({ name: 'corp', subject: 'bob', refreshToken: true });
    if (peer.oidc) expect(peer.oidc.grants['urn:ietf:params:oauth:grant-type:device_code'] ?? 0).toBeGreaterThanOrEqual(polls + 1);
  });

  it('ks://oauth/NAME gives exec and inject a valid access token, masked in the output', async () => {
    const token = (await runBin(['oauth', 'token', 'corp'], { env })).stdout;
    const exec = await runBin(['exec', '--env', 'T=ks://oauth/corp', '--', process.execPath, '-e', 'console.log(process.env.T.length, process.env.T)'], { env });
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toBe(`${token.length} ***\n`);
    const inject = await runBin(['inject'], { env, input: 'Authorization: Bearer {{ ks://oauth/corp }}' });
    expect(inject.stdout).toBe(`Authorization: Bearer ${token}`);
  });

  it('client credentials with each client authentication method the provider takes; the secret only in the vault; logout revokes', async () => {
    const { readFileSync } = await import('node:fs');
    for (const [i, c] of peer.confidential.entries()) {
      const name = `ci${i}`;
      const add = await runBin(['oauth', 'add', name, '--issuer', peer.issuer, '--client-id', c.clientId, '--client-secret-stdin', '--client-secret-expires', '2099-01-01', '--grant', 'client-credentials', ...c.addFlags], { env, input: c.secret });
      expect(add.code, add.stderr).toBe(0);
      // The secret's end is on the expiry radar, and stays there after the tokens are revoked (below).
      const onRadar = async () => JSON.parse((await runBin(['expiry', '--kind', 'oauth', '--json'], { env })).stdout).items.find((x: { type: string; name: string }) => x.type === 'oauth-client-secret' && x.name === name);
      expect(await onRadar()).toMatchObject({ ends: '2099-01-01T00:00:00.000Z', status: 'OK', automatic: false });
      expect(readFileSync(join(home, 'ks', 'config.json'), 'utf8')).not.toContain(c.secret);
      const got = await runBin(['oauth', 'token', name], { env });
      expect(got.code, `${c.clientId} ${c.method}: ${got.stderr}`).toBe(0);
      expect((await peer.introspect(got.stdout)).active).toBe(true);
      expect((await runBin(['oauth', 'login', name], { env })).code).toBe(2);
      // Revocation authenticates as its metadata says (glewlwyd: client_secret_basic only).
      const out = await runBin(['oauth', 'logout', name, '--json'], { env });
      expect(out.code, out.stderr).toBe(0);
      expect(await onRadar()).toMatchObject({ ends: '2099-01-01T00:00:00.000Z' });
      if (c.method === 'basic' || kind === 'oidc-provider') {
        expect(JSON.parse(out.stdout), `${c.clientId} ${c.method}`).toEqual({ revoked: ['access_token'], notRevoked: [] });
        expect((await peer.introspect(got.stdout)).active).toBe(false);
      } else {
        // glewlwyd advertises only client_secret_basic for revocation, and refuses it from a client
        // registered for client_secret_post: 401, empty body (RFC 7009 §2.1 / RFC 6749 §5.2 want a
        // JSON invalid_client). keysmith says so and forgets the token.
        const why = `the provider refused revocation: HTTP 401 from the revocation endpoint (${peer.issuer}/revoke): empty body`;
        expect(JSON.parse(out.stdout)).toEqual({ revoked: [], notRevoked: [{ token: 'access_token', why }] });
      }
    }
  });

  it('logout revokes at the provider where it can, says what it could not, and deletes locally', async () => {
    const token = (await runBin(['oauth', 'token', 'corp'], { env })).stdout;
    const out = await runBin(['oauth', 'logout', 'corp', '--json'], { env });
    expect(out.code, out.stderr).toBe(0);
    const result = JSON.parse(out.stdout);
    if (peer.publicRevocation) {
      expect(result.revoked).toEqual(['refresh_token', 'access_token']);
      expect((await peer.introspect(token)).active).toBe(false);
    } else {
      // glewlwyd breaks RFC 7009 §2.1 (a public client revokes with its client_id alone): 401,
      // empty body. keysmith says so, with the status and the endpoint, and forgets the tokens.
      const why = `the provider refused revocation: HTTP 401 from the revocation endpoint (${peer.issuer}/revoke): empty body`;
      expect(result).toEqual({ revoked: [], notRevoked: [{ token: 'refresh_token', why }, { token: 'access_token', why }] });
      expect((await peer.introspect(token)).active).toBe(true);
      const plain = await runBin(['oauth', 'logout', 'corp'], { env });
      expect(plain.code).toBe(0);
    }
    expect(JSON.parse((await runBin(['oauth', 'status', 'corp', '--json'], { env })).stdout)[0].loggedIn).toBe(false);
    const after = await runBin(['oauth', 'token', 'corp'], { env });
    expect(after.code).toBe(4);
    expect(after.stderr).toMatch(/keysmith oauth login corp/);
  });

  it('a refresh token the provider rejects is exit 4 with the status, the endpoint and "run keysmith oauth login"', async () => {
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => peer.actAsUser(url(text)));
    expect(login.code, login.stderr).toBe(0);
    const refresh = (await secretJson()).fields.refresh_token;
    await peer.revoke(refresh);
    const got = await runBin(['oauth', 'token', 'corp', '--min-valid', '2h'], { env });
    expect(got.code).toBe(4);
    // oidc-provider answers JSON invalid_grant; glewlwyd 400 with an empty body (RFC 6749 §5.2 asks for JSON).
    const detail = kind === 'glewlwyd' ? 'empty body' : 'invalid_grant: grant request is invalid';
    expect(got.stderr).toBe(`keysmith: the provider refused the refresh: HTTP 400 from the token endpoint (${peer.issuer}/token): ${detail}\nhint: run keysmith oauth login corp\n`);
    expect(got.stderr).not.toContain(refresh);
  });

  it('an issuer that does not match its discovery document is refused', async () => {
    const got = await runBin(['oauth', 'add', 'wrong', '--issuer', peer.issuer.replace('127.0.0.1', 'localhost'), '--client-id', 'cli'], { env });
    expect(got.code).toBe(4);
    expect(got.stderr).toMatch(/issuer/i);
  });

  it('bad input to add is a usage error and adds nothing', async () => {
    const bad = [['--issuer', 'not-a-url'], ['--issuer', 'http://127.0.0.1:1/'], ['--preset', 'myspace'], [],
      ['--issuer', peer.issuer, '--redirect-port', '0'], ['--issuer', peer.issuer, '--redirect-port', '65536'], ['--issuer', peer.issuer, '--redirect-port', 'x'],
      ['--issuer', peer.issuer, '--auth-method', 'jwt'], ['--issuer', peer.issuer, '--auth-method', 'post']];
    for (const args of bad) {
      expect((await runBin(['oauth', 'add', 'bad', '--client-id', 'x', ...args], { env })).code, args.join(' ')).toBe(2);
    }
    expect(JSON.parse((await runBin(['oauth', 'list', '--json'], { env })).stdout).map((p: { name: string }) => p.name)).not.toContain('bad');
  });

  it('login times out cleanly, and the hint names the redirect URI to register', async () => {
    const got = await runBin(['oauth', 'login', 'corp', '--no-browser', '--timeout', '1s'], { env });
    expect(got.code).toBe(1);
    expect(got.stderr).toMatch(/no login within 1 s/);
    expect(got.stderr).toContain(peer.redirectPort
      ? `hint: try again, or --device. If the provider showed an error page instead of a login, register the redirect URI http://127.0.0.1:${peer.redirectPort}/callback for client cli at the provider`
      : 'register http://127.0.0.1:PORT/callback for client cli and add corp again with --redirect-port PORT');
  });

  it(kind === 'glewlwyd'
    ? 'a redirect URI the provider refuses (glewlwyd: any unregistered loopback port, 403 and no body — RFC 8252 §7.3 unmet) is named at once, and in the timeout hint'
    : 'any loopback port is accepted (RFC 8252 §7.3): no warning', async () => {
    const add = await runBin(['oauth', 'add', 'anyport', '--issuer', peer.issuer, '--client-id', 'cli', '--scope', 'openid'], { env });
    expect(add.code, add.stderr).toBe(0);
    const got = await runBin(['oauth', 'login', 'anyport', '--no-browser', '--timeout', '2s'], { env });
    expect(got.code).toBe(1);
    if (kind === 'glewlwyd') {
      expect(got.stderr).toContain('keysmith: the provider answered HTTP 403 to the login request, not a login page: it may accept only registered ports (RFC 8252 §7.3 unmet): register http://127.0.0.1:PORT/callback for client cli and add anyport again with --redirect-port PORT');
      const fixed = await runBin(['oauth', 'login', 'anyport', '--no-browser', '--timeout', '1s', '--port', String(peer.redirectPort! === 65535 ? 65534 : peer.redirectPort! + 1)], { env });
      expect(fixed.stderr).toMatch(/answered HTTP 403 to the login request, not a login page: register the redirect URI http:\/\/127\.0\.0\.1:\d+\/callback for client cli at the provider/);
    } else {
      expect(got.stderr).not.toMatch(/answered HTTP/);
    }
    expect((await runBin(['oauth', 'remove', 'anyport'], { env })).code).toBe(0);
  });

  it('a busy --port is exit 5, one line and a hint, and the stored login is untouched', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const before = (await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout;
      const got = await runBin(['oauth', 'login', 'corp', '--no-browser', '--port', String(port)], { env });
      expect(got.code).toBe(5);
      expect(got.stderr).toBe(`keysmith: port ${port} on 127.0.0.1 is in use\nhint: choose another --port, or leave --port out to use a free one\n`);
      expect((await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout).toBe(before);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('a --port that is not a port is a usage error, not a raw Node message', async () => {
    for (const port of ['http', '65536', '-1', '1.5']) {
      const got = await runBin(['oauth', 'login', 'corp', '--no-browser', '--port', port], { env });
      expect(got.code, port).toBe(2);
      expect(got.stderr, port).toMatch(/^keysmith: --port must be a whole number from 0 to 65535\n/);
    }
  });

  if (kind === 'oidc-provider') {
    it('a tampered ID token signature is refused (exit 4) and nothing is stored (fault injected by oidc-provider only)', async () => {
      const before = await secretJson();
      peer.oidc!.tamperNextIdToken();
      const login = await loginWith(env, ['corp', '--no-browser'], async (text) => peer.actAsUser(url(text)));
      expect(login.code).toBe(4);
      expect(login.stderr).toMatch(/signature|validation/i);
      const after = await secretJson();
      expect(after.value).toBe(before.value);
    });
  }

  if (kind === 'glewlwyd') {
    it('glewlwyd: client credentials without --scope (403, empty body: RFC 6749 §3.3/§4.4.2 make scope optional) and a client registered for client_secret_post sent client_secret_basic (403, empty body: RFC 6749 §5.2 wants 401 invalid_client)', async () => {
      const basic = peer.confidential.find((c) => c.method === 'basic')!;
      await runBin(['oauth', 'add', 'noscope', '--issuer', peer.issuer, '--client-id', basic.clientId, '--client-secret-stdin', '--grant', 'client-credentials'], { env, input: basic.secret });
      const noScope = await runBin(['oauth', 'token', 'noscope'], { env });
      expect(noScope.code, noScope.stderr).toBe(4);
      expect(noScope.stderr).toContain(`keysmith: the provider refused the client credentials grant: HTTP 403 from the token endpoint (${peer.issuer}/token): empty body\n`);
      const post = peer.confidential.find((c) => c.method === 'post')!;
      // Discovery advertises both methods for every client; each client takes only its own.
      await runBin(['oauth', 'add', 'crossed', '--issuer', peer.issuer, '--client-id', post.clientId, '--client-secret-stdin', '--grant', 'client-credentials', '--scope', 'api'], { env, input: post.secret });
      const crossed = await runBin(['oauth', 'token', 'crossed'], { env });
      expect(crossed.code, crossed.stderr).toBe(4);
      expect(crossed.stderr).toBe(`keysmith: the provider refused the client credentials grant: HTTP 403 from the token endpoint (${peer.issuer}/token): empty body\nhint: check the client secret; keysmith authenticated with client_secret_basic: if the client is registered for client_secret_post, add crossed again with --auth-method post\n`);
    });
  }

  it('a provider that is down is exit 5', async () => {
    await peer.close();
    const got = await runBin(['oauth', 'token', 'corp', '--min-valid', '2h'], { env });
    expect(got.code, got.stderr).toBe(5);
    expect(got.stderr).toMatch(/cannot reach the provider/);
    const add = await runBin(['oauth', 'add', 'down', '--issuer', peer.issuer, '--client-id', 'cli'], { env });
    expect(add.code).toBe(5);
  });
}

describe('oauth against a real oidc-provider (Node, HTTPS, test CA)', () => oauthSuite('oidc-provider', oidcPeer));

describeWith(['glewlwyd', 'sqlite3'], 'oauth against a real glewlwyd (Debian, C, sqlite; HTTPS, test CA)', () => oauthSuite('glewlwyd', glewlwydPeer));
