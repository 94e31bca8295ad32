import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startGitHttp, type GitHttpServer } from '../helpers/git-http.js';
import { describeWith } from '../helpers/system.js';

const BIN_DIR = fileURLToPath(new URL('../../bin/', import.meta.url));

/**
 * git's credential helper, with the real git: clone and push over HTTPS (keysmith's own CA) to
 * `git http-backend` behind Basic auth, credential.helper=keysmith.
 */
describeWith(['git'], 'git-credential-keysmith with real git over HTTPS', () => {
  const { home, cleanup } = tempHome();
  let server: GitHttpServer;
  let env: NodeJS.ProcessEnv;
  const askLog = join(home, 'asked');
  const answers = join(home, 'answers');

  /**
   * git as a person runs it, with keysmith as its credential helper; askpass answers from a file
   * and logs each question. Not spawnSync: the HTTPS server runs in this process.
   */
  const git = (args: string[], cwd = home) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn('git', args, {
      cwd,
      env: {
        ...env, GIT_ASKPASS: join(home, 'askpass'), GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: join(home, 'gitconfig'), GIT_SSL_CAINFO: join(home, 'ca.pem'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (status) => resolve({ status, stderr }));
  });
  const asked = () => (existsSync(askLog) ? readFileSync(askLog, 'utf8').split('\n').filter(Boolean) : []);
  const record = async () => runBin(['secret', 'get', `git/https/127.0.0.1_3a${new URL(server.url).port}`, '--json'], { env });

  beforeAll(async () => {
    env = baseEnv({
      HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(),
      // git finds git-credential-keysmith on PATH, as after npm install -g.
      PATH: `${BIN_DIR}${delimiter}${process.env.PATH}`,
    });
    // The bin is git-credential-keysmith.js in the package; npm links it without the .js.
    mkdirSync(join(home, 'bin'));
    writeFileSync(join(home, 'bin', 'git-credential-keysmith'), `#!/bin/sh\nexec "${process.execPath}" "${join(BIN_DIR, 'git-credential-keysmith.js')}" "$@"\n`, { mode: 0o755 });
    env.PATH = `${join(home, 'bin')}${delimiter}${env.PATH}`;
    expect((await runBin(['tls', 'ca', 'create', 'dev'], { env })).code).toBe(0);
    expect((await runBin(['tls', 'ca', 'export', '--out', join(home, 'ca.pem')], { env })).code).toBe(0);
    mkdirSync(join(home, 'tls'));
    expect((await runBin(['tls', 'issue', '127.0.0.1', '--out-dir', join(home, 'tls')], { env })).code).toBe(0);
    const files = readdirSync(join(home, 'tls'));
    const cert = readFileSync(join(home, 'tls', files.find((f) => f.endsWith('.pem') && !f.endsWith('-key.pem'))!), 'utf8');
    const key = readFileSync(join(home, 'tls', files.find((f) => f.endsWith('-key.pem'))!), 'utf8');
    const repos = join(home, 'repos');
    mkdirSync(repos);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(repos, 'app.git')]);
    server = await startGitHttp(repos, { cert, key }, { username: 'alice', password: 'first password' });
    writeFileSync(join(home, 'askpass'), `#!/bin/sh\necho "$1" >> ${askLog}\ncase "$1" in Username*) sed -n 1p ${answers};; *) sed -n 2p ${answers};; esac\n`, { mode: 0o755 });
    writeFileSync(join(home, 'gitconfig'), '[credential]\n\thelper = keysmith\n[user]\n\tname = Alice\n\temail = alice@example.com\n[init]\n\tdefaultBranch = main\n');
  });
  afterAll(async () => {
    await server?.stop();
    cleanup();
  });

  it('first clone asks (askpass) and keysmith keeps what worked; the next clone and a push ask nothing', async () => {
    writeFileSync(answers, 'alice\nfirst password\n');
    const first = await git(['clone', '-q', `${server.url}/app.git`, 'one']);
    expect(first.status, first.stderr).toBe(0);
    expect(asked()).toEqual([`Username for '${server.url}': `, `Password for 'https://alice@127.0.0.1:${new URL(server.url).port}': `]);
    const kept = await record();
    expect(kept.code, kept.stderr).toBe(0);
    expect(JSON.parse(kept.stdout)).toMatchObject({ kind: 'git-credential', value: 'first password', fields: { protocol: 'https', host: `127.0.0.1:${new URL(server.url).port}`, username: 'alice' } });
    // The password is nowhere in plaintext: not in git's config or HOME.
    for (const f of ['gitconfig', '.git-credentials']) if (existsSync(join(home, f))) expect(readFileSync(join(home, f), 'utf8')).not.toContain('first password');

    writeFileSync(answers, ''); // a question now would get no answer
    rmSync(askLog, { force: true });
    const second = await git(['clone', '-q', `${server.url}/app.git`, 'two']);
    expect(second.status, second.stderr).toBe(0);
    writeFileSync(join(home, 'two', 'README'), 'hello\n');
    expect((await git(['add', 'README'], join(home, 'two'))).status).toBe(0);
    expect((await git(['commit', '-q', '-m', 'first'], join(home, 'two'))).status).toBe(0);
    const push = await git(['push', '-q', 'origin', 'main'], join(home, 'two'));
    expect(push.status, push.stderr).toBe(0);
    expect(asked()).toEqual([]);
  });

  it('a changed password: git is refused with the kept one, keysmith erases it; the next git asks again and keeps the new one', async () => {
    server.account = { username: 'alice', password: 'second password' };
    writeFileSync(answers, 'alice\nsecond password\n');
    rmSync(askLog, { force: true });
    const refusedBefore = server.refusals;
    // git tries what the helper gives, is refused, tells the helper to erase it, and stops (as git does).
    const refused = await git(['clone', '-q', `${server.url}/app.git`, 'three']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('Authentication failed');
    expect(server.refusals).toBeGreaterThan(refusedBefore);
    expect(asked()).toEqual([]);
    expect((await record()).code).toBe(3);
    const got = await git(['clone', '-q', `${server.url}/app.git`, 'three']);
    expect(got.status, got.stderr).toBe(0);
    expect(asked()).toHaveLength(2);
    expect(JSON.parse((await record()).stdout).value).toBe('second password');
    expect(readFileSync(join(home, 'three', 'README'), 'utf8')).toBe('hello\n');
  });

  it('a wrong answer typed at the prompt is never kept; the protocol is part of the match', async () => {
    server.account = { username: 'alice', password: 'third password' };
    writeFileSync(answers, 'alice\nnot it\n');
    expect((await git(['clone', '-q', `${server.url}/app.git`, 'four'])).status).not.toBe(0); // the kept one, refused and erased
    rmSync(askLog, { force: true });
    expect((await git(['clone', '-q', `${server.url}/app.git`, 'four'])).status).not.toBe(0); // the typed one, refused
    expect(asked()).toHaveLength(2);
    expect((await record()).code).toBe(3);
    // A credential kept for https is not given for http on the same host.
    const input = (protocol: string) => `protocol=${protocol}\nhost=127.0.0.1:${new URL(server.url).port}\n\n`;
    expect((await runBin(['helper', 'git', 'store'], { env, input: `${input('https').trim()}\nusername=alice\npassword=third password\n\n` })).code).toBe(0);
    const https = await runBin(['helper', 'git', 'get'], { env, input: input('https') });
    expect(https.stdout).toBe('username=alice\npassword=third password\n');
    const http = await runBin(['helper', 'git', 'get'], { env, input: input('http') });
    expect({ code: http.code, stdout: http.stdout }).toEqual({ code: 0, stdout: '' });
  });

  it('the helper protocol: unknown hosts print nothing; other operations are ignored; bad input is exit 2; a locked vault is an error, never an empty credential', async () => {
    const get = (input: string, extra: NodeJS.ProcessEnv = {}) => runBin(['helper', 'git', 'get'], { env: { ...env, ...extra }, input });
    expect(await get('protocol=https\nhost=unknown.example\n\n')).toMatchObject({ code: 0, stdout: '' });
    expect((await runBin(['helper', 'git', 'capability'], { env, input: '' })).code).toBe(0);
    const bad = await get('this is not git\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect((await get('host=only.example\n\n')).code).toBe(2);
    const locked = await get(`protocol=https\nhost=127.0.0.1:${new URL(server.url).port}\n\n`, { KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    expect(locked.code).toBe(4);
    expect(locked.stdout).toBe('');
    expect(locked.stderr).toMatch(/^keysmith: /);
    // A record of another kind at the credential's name is the user's own: never replaced.
    expect((await runBin(['secret', 'set', 'git/https/own.example', '-', '--kind', 'token'], { env, input: 'my token' })).code).toBe(0);
    const clash = await runBin(['helper', 'git', 'store'], { env, input: 'protocol=https\nhost=own.example\nusername=u\npassword=p\n\n' });
    expect(clash.code).toBe(2);
    expect(JSON.parse((await runBin(['secret', 'get', 'git/https/own.example', '--json'], { env })).stdout)).toMatchObject({ kind: 'token', value: 'my token' });
    // password_expiry_utc passes through, and an expired password is not given.
    const host = 'expiring.example';
    await runBin(['helper', 'git', 'store'], { env, input: `protocol=https\nhost=${host}\nusername=bot\npassword=p\npassword_expiry_utc=4102444800\noauth_refresh_token=r\n\n` });
    expect((await get(`protocol=https\nhost=${host}\n\n`)).stdout).toBe('username=bot\npassword_expiry_utc=4102444800\noauth_refresh_token=r\npassword=p\n');
    await runBin(['helper', 'git', 'store'], { env, input: `protocol=https\nhost=${host}\nusername=bot\npassword=p\npassword_expiry_utc=1000\n\n` });
    expect((await get(`protocol=https\nhost=${host}\n\n`)).stdout).toBe('');
  });
});
