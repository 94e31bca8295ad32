import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runBin, tempHome } from '../helpers/cli.js';
import { actAsUser, clientEnv, startProvider, type TestProvider } from '../helpers/oidc.js';

/** Starts `keysmith oauth login`, waits for the URL it prints, and hands it to `act`. */
async function loginWith(env: NodeJS.ProcessEnv, args: string[], act: (stderrSoFar: string) => Promise<unknown>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [BIN, 'oauth', 'login', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const acted = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/https:\/\/\S+/.test(stderr) && !acted.started) {
        acted.started = true;
        act(stderr).then(() => resolve(), reject);
      }
    });
  }) as Promise<void> & { started?: boolean };
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (acted.started) await acted;
  return { code, stderr, stdout };
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

describe('oauth against a real oidc-provider (HTTPS, test CA)', () => {
  const { home, cleanup } = tempHome();
  let provider: TestProvider;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    provider = await startProvider(home);
    env = await clientEnv(provider, home);
  });
  afterAll(async () => {
    await provider?.close();
    cleanup();
  });

  it('add discovers the provider; login (auth code + PKCE) over the loopback; token; status never shows a token', async () => {
    const add = await runBin(['oauth', 'add', 'corp', '--issuer', provider.issuer, '--client-id', 'cli', '--scope', 'openid profile offline_access'], { env });
    expect(add.code, add.stderr).toBe(0);
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => {
      const url = /https:\/\/\S+/.exec(text)![0];
      expect(url).toContain('code_challenge_method=S256');
      expect(url).toMatch(/state=/);
      const done = await actAsUser(url, provider.ca);
      expect(done.body).toMatch(/Logged in/);
    });
    expect(login.code, login.stderr).toBe(0);
    const token = await runBin(['oauth', 'token', 'corp'], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.length).toBeGreaterThan(20);
    expect((await provider.introspect(token.stdout)).active).toBe(true);
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
    const before = JSON.parse((await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout);
    const refreshes = provider.grants.refresh_token ?? 0;
    const got = await runBin(['oauth', 'token', 'corp', '--min-valid', '2h', '--json'], { env });
    expect(got.code, got.stderr).toBe(0);
    const json = JSON.parse(got.stdout);
    expect(json.refreshed).toBe(true);
    expect(json.accessToken).not.toBe(before.value);
    expect(provider.grants.refresh_token).toBe(refreshes + 1);
    const after = JSON.parse((await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout);
    expect(after.fields.refresh_token).not.toBe(before.fields.refresh_token);
    expect((await provider.introspect(json.accessToken)).active).toBe(true);
    // A cached, valid token: no request at all.
    expect(JSON.parse((await runBin(['oauth', 'token', 'corp', '--json'], { env })).stdout).refreshed).toBe(false);
    expect(provider.grants.refresh_token).toBe(refreshes + 1);
    expect((await runBin(['oauth', 'token', 'corp', '--header'], { env })).stdout).toBe(`Authorization: Bearer ${json.accessToken}`);
  });

  it('10 concurrent token processes with a stale token cause exactly one refresh', async () => {
    await new Promise((r) => setTimeout(r, 3100)); // the 1 h token now has under 3597 s left; a new one keeps more for 3 s
    const refreshes = provider.grants.refresh_token ?? 0;
    const runs = await Promise.all(Array.from({ length: 10 }, () => runBin(['oauth', 'token', 'corp', '--min-valid', '3597s'], { env, timeoutMs: 60_000 })));
    expect(runs.map((r) => r.code)).toEqual(Array(10).fill(0));
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
    expect(provider.grants.refresh_token).toBe(refreshes + 1);
  });

  it('a wrong state on the callback is refused and the listener keeps waiting', async () => {
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => {
      const url = new URL(/https:\/\/\S+/.exec(text)![0]);
      const redirect = url.searchParams.get('redirect_uri')!;
      const forged = await fetch(`${redirect}?code=stolen&state=not-the-state`);
      expect(forged.status).toBe(400);
      expect(await forged.text()).toMatch(/state mismatch/);
      expect((await actAsUser(url.href, provider.ca)).body).toMatch(/Logged in/);
    });
    expect(login.code, login.stderr).toBe(0);
  });

  it('the loopback listener answers only its own Host, escapes what the provider says, and keeps control characters off the terminal', async () => {
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => {
      const url = new URL(/https:\/\/\S+/.exec(text)![0]);
      const redirect = new URL(url.searchParams.get('redirect_uri')!);
      const state = url.searchParams.get('state')!;
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

  it('device flow, honouring slow_down', async () => {
    provider.slowDown(1);
    const polls = provider.grants['urn:ietf:params:oauth:grant-type:device_code'] ?? 0;
    const login = await loginWith(env, ['corp', '--device', '--json'], async (text) => {
      const complete = /\(or open (\S+)\)/.exec(text)?.[1];
      const uri = complete ?? /open (\S+) and enter the code/.exec(text)![1]!;
      const done = await actAsUser(uri, provider.ca, 'bob');
      expect(done.body, done.body.slice(0, 2000)).toMatch(/Sign-in Success|success/i);
    });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stderr).toMatch(/enter the code [A-Z-]+/);
    expect(JSON.parse(login.stdout)).toMatchObject({ name: 'corp', subject: 'bob', refreshToken: true });
    expect(provider.grants['urn:ietf:params:oauth:grant-type:device_code'] ?? 0).toBeGreaterThanOrEqual(polls + 1);
  });

  it('ks://oauth/NAME gives exec and inject a valid access token, masked in the output', async () => {
    const token = (await runBin(['oauth', 'token', 'corp'], { env })).stdout;
    const exec = await runBin(['exec', '--env', 'T=ks://oauth/corp', '--', process.execPath, '-e', 'console.log(process.env.T.length, process.env.T)'], { env });
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toBe(`${token.length} ***\n`);
    const inject = await runBin(['inject'], { env, input: 'Authorization: Bearer {{ ks://oauth/corp }}' });
    expect(inject.stdout).toBe(`Authorization: Bearer ${token}`);
  });

  it('client credentials fetch a token when needed, with the secret only in the vault', async () => {
    const add = await runBin(['oauth', 'add', 'ci', '--issuer', provider.issuer, '--client-id', 'ci', '--client-secret-stdin', '--grant', 'client-credentials'], { env, input: 'ci-secret-value' });
    expect(add.code, add.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(home, 'ks', 'config.json'), 'utf8')).not.toContain('ci-secret-value');
    const got = await runBin(['oauth', 'token', 'ci'], { env });
    expect(got.code, got.stderr).toBe(0);
    expect((await provider.introspect(got.stdout)).active).toBe(true);
    expect((await runBin(['oauth', 'login', 'ci'], { env })).code).toBe(2);
  });

  it('logout revokes at the provider (introspection: inactive) and deletes locally', async () => {
    const token = (await runBin(['oauth', 'token', 'corp'], { env })).stdout;
    const out = await runBin(['oauth', 'logout', 'corp', '--json'], { env });
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).revoked).toEqual(['refresh_token', 'access_token']);
    expect((await provider.introspect(token)).active).toBe(false);
    expect(JSON.parse((await runBin(['oauth', 'status', 'corp', '--json'], { env })).stdout)[0].loggedIn).toBe(false);
    const after = await runBin(['oauth', 'token', 'corp'], { env });
    expect(after.code).toBe(4);
    expect(after.stderr).toMatch(/keysmith oauth login corp/);
  });

  it('a refresh token the provider rejects is exit 4 with "run keysmith oauth login"', async () => {
    await loginWith(env, ['corp', '--no-browser'], async (text) => actAsUser(/https:\/\/\S+/.exec(text)![0], provider.ca));
    const refresh = JSON.parse((await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout).fields.refresh_token;
    await provider.revoke(refresh);
    const got = await runBin(['oauth', 'token', 'corp', '--min-valid', '2h'], { env });
    expect(got.code).toBe(4);
    expect(got.stderr).toMatch(/run keysmith oauth login corp/);
    expect(got.stderr).not.toContain(refresh);
  });

  it('a tampered ID token signature is refused (exit 4) and nothing is stored', async () => {
    const before = JSON.parse((await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout);
    provider.tamperNextIdToken();
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => actAsUser(/https:\/\/\S+/.exec(text)![0], provider.ca));
    expect(login.code).toBe(4);
    expect(login.stderr).toMatch(/signature|validation/i);
    const after = JSON.parse((await runBin(['secret', 'get', 'oauth/corp', '--json'], { env })).stdout);
    expect(after.value).toBe(before.value);
  });

  it('an issuer that does not match its discovery document is refused', async () => {
    const got = await runBin(['oauth', 'add', 'wrong', '--issuer', provider.issuer.replace('127.0.0.1', 'localhost'), '--client-id', 'cli'], { env });
    expect(got.code).toBe(4);
    expect(got.stderr).toMatch(/issuer/i);
  });

  it('bad input to add is a usage error and adds nothing', async () => {
    for (const args of [['--issuer', 'not-a-url'], ['--issuer', 'http://127.0.0.1:1/'], ['--preset', 'myspace'], []]) {
      expect((await runBin(['oauth', 'add', 'bad', '--client-id', 'x', ...args], { env })).code, args.join(' ')).toBe(2);
    }
    expect(JSON.parse((await runBin(['oauth', 'list', '--json'], { env })).stdout).map((p: { name: string }) => p.name)).not.toContain('bad');
  });

  it('login times out cleanly', async () => {
    const got = await runBin(['oauth', 'login', 'corp', '--no-browser', '--timeout', '1s'], { env });
    expect(got.code).toBe(1);
    expect(got.stderr).toMatch(/no login within 1 s/);
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

  it('a provider that is down is exit 5', async () => {
    await provider.close();
    const got = await runBin(['oauth', 'token', 'corp', '--min-valid', '2h'], { env });
    expect(got.code).toBe(5);
    expect(got.stderr).toMatch(/cannot reach the provider/);
    const add = await runBin(['oauth', 'add', 'down', '--issuer', provider.issuer, '--client-id', 'cli'], { env });
    expect(add.code).toBe(5);
  });
});
