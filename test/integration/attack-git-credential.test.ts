import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

const BIN_DIR = fileURLToPath(new URL('../../bin/', import.meta.url));

/**
 * An outside review of `git-credential-keysmith`: a credential must never be given to, overwritten
 * by, or erased for another protocol, host, port or path; bad input is exit 2; a secret never reaches
 * stderr. Reference behaviour is git 2.39's own `git credential-store` (gitcredentials(7),
 * git-credential(1)), run side by side where it matters. Tests marked SAFE pin behaviour that holds.
 */
describeWith(['git'], 'attack: git-credential-keysmith', () => {
  const { home, cleanup } = tempHome();
  let identity: string;
  let n = 0;

  /** A fresh, empty file vault per test, so one test's records never answer another's. */
  const freshEnv = (extra: NodeJS.ProcessEnv = {}) => baseEnv({
    HOME: home, KEYSMITH_HOME: join(home, `ks-${++n}`), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity,
    PATH: `${join(home, 'bin')}${delimiter}${BIN_DIR}${delimiter}${process.env.PATH}`, ...extra,
  });
  const ks = (env: NodeJS.ProcessEnv, op: string, input: string, pre: string[] = []) => runBin([...pre, 'helper', 'git', op], { env, input });
  const cred = (a: Record<string, string>) => `${Object.entries(a).map(([k, v]) => `${k}=${v}`).join('\n')}\n\n`;

  /** git's own credential-store as the reference (async spawn: some tests run a server in-process). */
  const gitStore = (file: string, op: string, input: string) => new Promise<string>((resolve) => {
    const child = spawn('git', ['credential-store', '--file', file, op], { env: { ...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1' }, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('close', () => resolve(out));
    child.stdin.end(input);
  });

  beforeAll(async () => {
    identity = await generateIdentity();
    mkdirSync(join(home, 'bin'));
    writeFileSync(join(home, 'bin', 'git-credential-keysmith'), `#!/bin/sh\nexec "${process.execPath}" "${join(BIN_DIR, 'git-credential-keysmith.js')}" "$@"\n`, { mode: 0o755 });
  });
  afterAll(() => cleanup());

  // ---------------------------------------------------------------- findings (expected to fail)

  it('finding (fixed) 1: store for http:// does not overwrite (destroy) the https:// credential of the same host', async () => {
    const env = freshEnv();
    const https = { protocol: 'https', host: 'git.example.com', username: 'alice', password: 'https-secret' };
    const http = { protocol: 'http', host: 'git.example.com', username: 'alice', password: 'typed-over-plain-http' };
    // Reference: git credential-store keeps both; each answers only for its protocol.
    const file = join(home, `store-${n}`);
    await gitStore(file, 'store', cred(https));
    await gitStore(file, 'store', cred(http));
    expect(await gitStore(file, 'get', cred({ protocol: 'https', host: 'git.example.com' }))).toContain('password=https-secret');

    expect((await ks(env, 'store', cred(https))).code).toBe(0);
    expect((await ks(env, 'store', cred(http))).code).toBe(0);
    const got = await ks(env, 'get', cred({ protocol: 'https', host: 'git.example.com' }));
    expect(got.stdout).toBe('username=alice\npassword=https-secret\n');
  });

  it('finding (fixed) 2: host "a:8443" and host "a_8443" (one record name) do not overwrite each other', async () => {
    const env = freshEnv();
    const port = { protocol: 'https', host: 'a:8443', username: 'alice', password: 'port-8443-secret' };
    const under = { protocol: 'https', host: 'a_8443', username: 'mallory', password: 'other' };
    const file = join(home, `store-${n}`);
    await gitStore(file, 'store', cred(port));
    await gitStore(file, 'store', cred(under));
    expect(await gitStore(file, 'get', cred({ protocol: 'https', host: 'a:8443' }))).toContain('password=port-8443-secret');

    await ks(env, 'store', cred(port));
    await ks(env, 'store', cred(under));
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'a:8443' }))).stdout).toBe('username=alice\npassword=port-8443-secret\n');
  });

  it('finding (fixed) 3: useHttpPath paths, IDN hosts and a host holding a "/" that collide after sanitising do not overwrite each other', async () => {
    const pairs: Array<[Record<string, string>, Record<string, string>]> = [
      [{ protocol: 'https', host: 'h.example', path: 'team/my app.git' }, { protocol: 'https', host: 'h.example', path: 'team/my_app.git' }],
      [{ protocol: 'https', host: 'h.example', path: 'team/app.git' }, { protocol: 'https', host: 'h.example', path: 'team/app.git/' }],
      [{ protocol: 'https', host: 'h.example', path: 'a/b' }, { protocol: 'https', host: 'h.example', path: 'a//b' }],
      [{ protocol: 'https', host: 'bücher.example' }, { protocol: 'https', host: 'bächer.example' }],
      [{ protocol: 'https', host: 'h.example', path: 'x' }, { protocol: 'https', host: 'h.example/x' }],
      [{ protocol: 'https', host: '[::1]:8443' }, { protocol: 'https', host: '1__8443' }],
    ];
    const survived: string[] = [];
    for (const [victim, attacker] of pairs) {
      const env = freshEnv();
      await ks(env, 'store', cred({ ...victim, username: 'alice', password: 'victim-secret' }));
      await ks(env, 'store', cred({ ...attacker, username: 'mallory', password: 'attacker' }));
      const got = await ks(env, 'get', cred(victim));
      survived.push(`${JSON.stringify(victim)}: ${got.stdout.includes('password=victim-secret') ? 'kept' : 'OVERWRITTEN'}`);
    }
    expect(survived.filter((s) => s.endsWith('OVERWRITTEN'))).toEqual([]);
  });

  it('finding (fixed) 4: store never silently replaces a record at git/<host> that is not a git credential (the user\'s own secret)', async () => {
    const env = freshEnv();
    const set = await runBin(['secret', 'set', 'git/github.com', '-', '--kind', 'token'], { env, input: 'ghp_users_own_token' });
    expect(set.code, set.stderr).toBe(0);
    await ks(env, 'store', cred({ protocol: 'https', host: 'github.com', username: 'x', password: 'y' }));
    const kept = await runBin(['secret', 'get', 'git/github.com', '--json'], { env });
    expect(JSON.parse(kept.stdout)).toMatchObject({ kind: 'token', value: 'ghp_users_own_token' });
  });

  it('finding (fixed) 5: a long useHttpPath path (record name > 128 chars) is still stored and given back, not exit 2', async () => {
    const env = freshEnv();
    const path = `group/subgroup/${'very-long-project-name-'.repeat(6)}.git`; // 155 chars: a GitLab nested group path
    const store = await ks(env, 'store', cred({ protocol: 'https', host: 'gitlab.example.com', path, username: 'alice', password: 'p' }));
    expect({ code: store.code, stderr: store.stderr }).toEqual({ code: 0, stderr: '' });
    const got = await ks(env, 'get', cred({ protocol: 'https', host: 'gitlab.example.com', path }));
    expect({ code: got.code, stdout: got.stdout }).toEqual({ code: 0, stdout: 'username=alice\npassword=p\n' });
  });

  it('finding (fixed) 6: url= that is not a URL is bad input (exit 2), not an "unexpected error" (exit 1)', async () => {
    const env = freshEnv();
    const got = await ks(env, 'get', 'url=not a url\n\n');
    expect(got.code).toBe(2);
    expect(got.stderr).not.toContain('unexpected error');
  });

  it('finding (fixed) 7: url= stands for all its parts, as in git (a host= read before it does not win)', async () => {
    const env = freshEnv();
    await ks(env, 'store', cred({ protocol: 'https', host: 'good.example', username: 'alice', password: 'good-secret' }));
    // git-credential(1): url= "is parsed as a URL and treated as if its constituent parts were read";
    // git itself resets the credential on url= (credential_from_url): this asks for evil.example.
    const got = await ks(env, 'get', 'protocol=https\nhost=good.example\nurl=https://evil.example/\n\n');
    expect(got.stdout).toBe('');
  });

  // ---------------------------------------------------------------- SAFE: pinned behaviour

  it('SAFE: get answers only the exact protocol, host, port, path and username stored', async () => {
    const env = freshEnv();
    await ks(env, 'store', cred({ protocol: 'https', host: 'h.example:8443', username: 'alice', password: 's3cret' }));
    const answer = 'username=alice\npassword=s3cret\n';
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'H.Example:8443' }))).stdout).toBe(answer); // DNS is case-blind
    for (const other of <Array<Record<string, string>>>[
      { protocol: 'http', host: 'h.example:8443' }, { protocol: 'https', host: 'h.example' }, { protocol: 'https', host: 'h.example:443' },
      { protocol: 'https', host: 'h.example.:8443' }, { protocol: 'https', host: 'h.example_8443' }, { protocol: 'https', host: 'h.example:8443', path: 'x.git' },
      { protocol: 'https', host: 'h.example:8443', username: 'bob' }, { protocol: 'https', host: 'xh.example:8443' },
    ]) {
      const got = await ks(env, 'get', cred(other));
      expect({ other, code: got.code, stdout: got.stdout }).toEqual({ other, code: 0, stdout: '' });
    }
    // WHATWG vs git URL-parsing tricks in url=: never good.example's credential for a URL git reads as evil.example.
    for (const url of ['https://good.example\\@evil.example/', 'https://evil.example#@good.example/', 'https://evil.example?@good.example/']) {
      await ks(env, 'store', cred({ protocol: 'https', host: 'good.example', username: 'alice', password: 'good' }));
      expect((await ks(env, 'get', `url=${url}\n\n`)).stdout).toBe('');
    }
  });

  it('SAFE: erase only drops the record git tried (protocol, username and password must match)', async () => {
    const env = freshEnv();
    const stored = { protocol: 'https', host: 'h.example', username: 'alice', password: 's3cret' };
    await ks(env, 'store', cred(stored));
    await ks(env, 'erase', cred({ ...stored, protocol: 'http' }));
    await ks(env, 'erase', cred({ ...stored, username: 'bob' }));
    await ks(env, 'erase', cred({ ...stored, password: 'an older one' }));
    await ks(env, 'erase', cred({ ...stored, host: 'h.example:443' }));
    await ks(env, 'erase', cred({ ...stored, path: 'x.git' }));
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'h.example' }))).stdout).toBe('username=alice\npassword=s3cret\n');
    await ks(env, 'erase', cred(stored));
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'h.example' }))).stdout).toBe('');
  });

  it('SAFE: no injection: "=", "@", ":" in values round-trip; host and path are never echoed back; an empty password is kept as git credential-store keeps it', async () => {
    const env = freshEnv();
    await ks(env, 'store', cred({ protocol: 'https', host: 'h.example', username: 'a@b:c=d', password: 'p=w@x:y\r z' }));
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'h.example' }))).stdout).toBe('username=a@b:c=d\npassword=p=w@x:y\r z\n');
    // A path or host is never printed, so a crafted one cannot add lines to git's answer.
    await ks(env, 'store', cred({ protocol: 'https', host: 'h.example', path: 'x\rhost=evil', username: 'u', password: 'p' }));
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'h.example', path: 'x\rhost=evil' }))).stdout).toBe('username=u\npassword=p\n');
    // A NUL is refused, exit 2, and the value is not echoed.
    const nul = await ks(env, 'store', 'protocol=https\nhost=h.example\nusername=u\npassword=sec\0ret\n\n');
    expect(nul.code).toBe(2);
    expect(nul.stderr).not.toContain('sec');
    // Empty password: git credential-store 2.39 keeps and returns it too.
    const file = join(home, `store-${n}`);
    await gitStore(file, 'store', cred({ protocol: 'https', host: 'e.example', username: 'u', password: '' }));
    expect(await gitStore(file, 'get', cred({ protocol: 'https', host: 'e.example' }))).toContain('password=\n');
    await ks(env, 'store', cred({ protocol: 'https', host: 'e.example', username: 'u', password: '' }));
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'e.example' }))).stdout).toBe('username=u\npassword=\n');
  });

  it('SAFE: a huge input is refused quickly with a short message', async () => {
    const env = freshEnv();
    const got = await ks(env, 'get', `protocol=https\nhost=${'a'.repeat(5_000_000)}\n\n`);
    expect(got.code).toBe(2);
    expect(got.stdout).toBe('');
    expect(got.stderr.length).toBeLessThan(1000);
  });

  it('SAFE: env (read-only) and locked vaults: never a credential on stdout, a non-zero code, and no secret in stderr even with --debug', async () => {
    const input = cred({ protocol: 'https', host: 'h.example', username: 'alice', password: 'NEVER-IN-STDERR' });
    const envVault = freshEnv({ KEYSMITH_VAULT: 'env', KEYSMITH_SECRET_GIT_H_EXAMPLE: 'NEVER-IN-STDERR' });
    const get = await ks(envVault, 'get', cred({ protocol: 'https', host: 'h.example' }), ['--debug']);
    expect({ code: get.code, stdout: get.stdout }).toEqual({ code: 0, stdout: '' }); // a plain env secret is not a git credential
    const store = await ks(envVault, 'store', input, ['--debug']);
    expect(store.code).toBe(2);
    expect(store.stdout).toBe('');
    expect(store.stderr).toContain('read-only');
    expect(store.stderr).not.toContain('NEVER-IN-STDERR');

    const env = freshEnv();
    await ks(env, 'store', input);
    const locked = { ...env, KEYSMITH_AGE_IDENTITY: await generateIdentity() };
    for (const op of ['get', 'store', 'erase']) {
      const r = await ks(locked, op, input, ['--debug']);
      expect({ op, code: r.code, stdout: r.stdout }).toEqual({ op, code: 4, stdout: '' });
      expect(r.stderr).not.toContain('NEVER-IN-STDERR');
    }
    expect((await ks(env, 'get', cred({ protocol: 'https', host: 'h.example' }))).stdout).toBe('username=alice\npassword=NEVER-IN-STDERR\n');
  });

  it('SAFE: with real git, a server that redirects to another host:port never receives keysmith\'s stored password (curl drops Authorization on the host:port change)', async () => {
    const env = freshEnv();
    const seenByB: string[] = [];
    let authedAtA = 0;
    const listen = (handler: (req: IncomingMessage, res: ServerResponse) => void) => new Promise<Server>((resolve) => {
      const s = createServer(handler);
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const b = await listen((req, res) => {
      seenByB.push(req.headers.authorization ?? '');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="b"' }).end();
    });
    const portB = (b.address() as AddressInfo).port;
    const a = await listen((req, res) => {
      const ok = req.headers.authorization === `Basic ${Buffer.from('alice:A-secret').toString('base64')}`;
      if (!ok) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="a"' }).end();
      authedAtA++;
      res.writeHead(302, { Location: `http://127.0.0.1:${portB}${req.url}` }).end();
    });
    const portA = (a.address() as AddressInfo).port;
    try {
      await ks(env, 'store', cred({ protocol: 'http', host: `127.0.0.1:${portA}`, username: 'alice', password: 'A-secret' }));
      const log = join(home, `asked-${n}`);
      writeFileSync(join(home, `gitconfig-${n}`), `[credential]\n\thelper = "!f() { echo \\"$1\\" >> ${log}; cat >> ${log}; }; f"\n\thelper = keysmith\n`);
      const result = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn('git', ['ls-remote', `http://127.0.0.1:${portA}/app.git`], {
          env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(home, `gitconfig-${n}`) },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        child.on('close', (status) => resolve({ status, stderr }));
      });
      expect(result.status).not.toBe(0);
      expect(authedAtA).toBeGreaterThan(0); // keysmith did give A its credential
      expect(seenByB.some((h) => h.includes(Buffer.from('alice:A-secret').toString('base64')))).toBe(false);
      expect(seenByB.join('\n')).not.toContain('A-secret');
      // git 2.39 never asks keysmith about B: B's 401 makes git reject (erase) A's credential, as it
      // would with credential-store — a redirecting server can make git drop a good credential.
      const asked = readFileSync(log, 'utf8');
      expect(asked).not.toContain(`host=127.0.0.1:${portB}`);
    } finally {
      await new Promise((r) => a.close(r));
      await new Promise((r) => b.close(r));
    }
  });
});
