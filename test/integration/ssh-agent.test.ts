import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readOpenSshContainer } from '../../src/ssh/keys.js';
import { Reader } from '../../src/ssh/wire.js';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, BIN, runBin, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

/** One person's keysmith: a HOME, a file vault, and the agent's socket in the data folder. */
async function person(root: string, name: string) {
  const home = join(root, name);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined, SSH_ASKPASS: undefined });
  const sock = join(home, 'ks', 'agent', 'agent.sock');
  const ks = (args: string[], extra: Record<string, string> = {}, input?: string) => runBin(args, { env: { ...env, ...extra }, ...(input !== undefined ? { input } : {}) });
  const agentEnv = { ...env, SSH_AUTH_SOCK: sock };
  const sshAdd = (args: string[], input?: string) => spawnSync('ssh-add', args, { env: agentEnv, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { home, env, sock, ks, agentEnv, sshAdd };
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** A raw request on the agent socket; resolves with the reply bytes, or 'closed'. */
function raw(sock: string, bytes: Buffer): Promise<Buffer | 'closed'> {
  return new Promise((resolve) => {
    const c = createConnection(sock, () => c.write(bytes));
    let got = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        c.end();
        resolve(got.subarray(4));
      }
    });
    c.on('error', () => resolve('closed'));
    c.on('close', () => resolve(got.length ? got.subarray(4) : 'closed'));
  });
}
const frame = (body: Buffer) => Buffer.concat([Buffer.from([body.length >>> 24, (body.length >>> 16) & 255, (body.length >>> 8) & 255, body.length & 255]), body]);

describeWith(['ssh-keygen', 'ssh-add', 'ssh', 'sshd', 'git', 'script'], 'keysmith ssh agent, with OpenSSH and git', () => {
  const { home: root, cleanup } = tempHome();
  let sshd: TestSshd;
  const agents: string[] = [];
  let alice: Awaited<ReturnType<typeof person>>;

  const start = async (p: Awaited<ReturnType<typeof person>>, args: string[] = [], extra: Record<string, string> = {}) => {
    const got = await p.ks(['ssh', 'agent', 'start', ...args], extra);
    expect(got.code, got.stderr).toBe(0);
    agents.push(p.home);
    return got;
  };
  const stop = async (p: Awaited<ReturnType<typeof person>>) => p.ks(['ssh', 'agent', 'stop']);
  const sshTo = (p: Awaited<ReturnType<typeof person>>, extra: string[] = []) => spawnSync('ssh', [
    '-F', 'none', '-o', `IdentityAgent=${p.sock}`, '-o', `UserKnownHostsFile=${join(p.home, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'PasswordAuthentication=no', ...extra, '-p', String(sshd.port), `${process.env.USER ?? 'root'}@127.0.0.1`, 'echo logged-in',
  ], { env: p.agentEnv, encoding: 'utf8', timeout: 30_000 });

  beforeAll(async () => {
    sshd = await startSshd();
    alice = await person(root, 'alice');
    writeFileSync(join(alice.home, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${readFileSync(`${sshd.hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    for (const [name, args] of [['work', []], ['ecd', ['-t', 'ecdsa', '-b', '384']], ['big', ['-t', 'rsa']]] as const) {
      const made = await alice.ks(['ssh', 'keygen', name, '--vault-only', ...args]);
      expect(made.code, made.stderr).toBe(0);
    }
  }, 60_000);

  afterAll(async () => {
    for (const home of agents) {
      try {
        const state = JSON.parse(readFileSync(join(home, 'ks', 'agent', 'agent.json'), 'utf8')) as { pid: number };
        process.kill(state.pid, 'SIGKILL');
      } catch { /* stopped */ }
    }
    await sshd?.stop();
    cleanup();
  });

  it('--vault-only keys never touch the disk: only NAME.pub is written, the vault keeps the key', async () => {
    expect(readdirSync(join(alice.home, '.ssh')).sort()).toEqual(['big.pub', 'ecd.pub', 'work.pub']);
    const list = JSON.parse((await alice.ks(['ssh', 'list', '--json'])).stdout) as Array<{ name: string; vaultOnly: boolean }>;
    expect(list.map((k) => [k.name, k.vaultOnly])).toEqual([['big', true], ['ecd', true], ['work', true]]);
    // A passphrase makes no sense for a key the vault encrypts.
    expect((await alice.ks(['ssh', 'keygen', 'x', '--vault-only', '--passphrase-stdin'], {}, 'p')).code).toBe(2);
  });

  it('ssh-add -l and -L list the vault keys with the fingerprints ssh-keygen gives their .pub files', async () => {
    await start(alice);
    const l = alice.sshAdd(['-l']);
    expect(l.status, l.stderr).toBe(0);
    for (const name of ['work', 'ecd', 'big']) {
      const want = execFileSync('ssh-keygen', ['-l', '-f', join(alice.home, '.ssh', `${name}.pub`)], { encoding: 'utf8' }).trim();
      expect(l.stdout).toContain(want);
      expect(alice.sshAdd(['-L']).stdout).toContain(readFileSync(join(alice.home, '.ssh', `${name}.pub`), 'utf8').trim());
    }
    const status = JSON.parse((await alice.ks(['ssh', 'agent', 'status', '--json'])).stdout);
    expect(status).toMatchObject({ running: true, socket: alice.sock, identities: 3 });
    expect(statSync(alice.sock).mode & 0o777).toBe(0o600);
    expect(statSync(join(alice.home, 'ks', 'agent')).mode & 0o777).toBe(0o700);
    // A second start while one runs is refused; the running one is untouched.
    expect((await alice.ks(['ssh', 'agent', 'start'])).code).toBe(2);
    expect(alice.sshAdd(['-l']).status).toBe(0);
  });

  it('ssh logs in to a real sshd through the agent with each key type (ed25519, ecdsa-384, rsa with rsa-sha2)', async () => {
    for (const name of ['work', 'ecd', 'big']) {
      writeFileSync(sshd.authorizedKeys, readFileSync(join(alice.home, '.ssh', `${name}.pub`)));
      const got = sshTo(alice);
      expect(got.stdout.trim(), `${name}: ${got.stderr}`).toBe('logged-in');
    }
    writeFileSync(sshd.authorizedKeys, '');
    expect(sshTo(alice).status).not.toBe(0); // and the key is what let it in
  });

  it("keysmith's own deploy logs in through the agent (SSH_AUTH_SOCK), with no key file anywhere", async () => {
    writeFileSync(sshd.authorizedKeys, readFileSync(join(alice.home, '.ssh', 'work.pub')));
    expect((await alice.ks(['ssh', 'keygen', 'second', '--vault-only'])).code).toBe(0);
    const without = await alice.ks(['ssh', 'deploy', 'second', `root@127.0.0.1:${sshd.port}`, '--known-hosts', join(alice.home, 'known_hosts'), '--authorized-keys', sshd.authorizedKeys]);
    expect(without.code).toBe(4); // 'second' is not on the host yet, and there is no agent to ask
    const got = await alice.ks(['ssh', 'deploy', 'second', `root@127.0.0.1:${sshd.port}`, '--known-hosts', join(alice.home, 'known_hosts'), '--authorized-keys', sshd.authorizedKeys, '--json'], { SSH_AUTH_SOCK: alice.sock });
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ added: true, via: 'sftp' });
    expect(readFileSync(sshd.authorizedKeys, 'utf8')).toContain(readFileSync(join(alice.home, '.ssh', 'second.pub'), 'utf8').split(' ')[1]);
    expect((await alice.ks(['secret', 'rm', 'ssh/second'])).code).toBe(0);
    writeFileSync(sshd.authorizedKeys, '');
  });

  it('git commit -S with gpg.format=ssh signs through the agent, and git verify-commit accepts it', async () => {
    const repo = join(alice.home, 'repo');
    const git = (...args: string[]) => spawnSync('git', ['-C', repo, ...args], { env: { ...alice.agentEnv, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' });
    execFileSync('git', ['init', '-q', repo]);
    const pub = readFileSync(join(alice.home, '.ssh', 'work.pub'), 'utf8').trim();
    writeFileSync(join(alice.home, 'allowed_signers'), `alice@example.com ${pub}\n`);
    for (const [k, v] of [['user.name', 'Alice'], ['user.email', 'alice@example.com'], ['gpg.format', 'ssh'], ['user.signingkey', `key::${pub}`], ['gpg.ssh.allowedSignersFile', join(alice.home, 'allowed_signers')]]) git('config', k!, v!);
    writeFileSync(join(repo, 'f'), 'x');
    git('add', 'f');
    const commit = git('commit', '-S', '-q', '-m', 'signed by the agent');
    expect(commit.status, commit.stderr).toBe(0);
    const verify = git('verify-commit', 'HEAD');
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stderr).toContain('Good "git" signature for alice@example.com');
  });

  it('serves a key with the certificate in KEY-cert.pub; ssh logs in with it to an sshd trusting the CA', async () => {
    const ca = join(root, 'ca');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', ca]);
    execFileSync('ssh-keygen', ['-q', '-s', ca, '-I', 'alice', '-n', process.env.USER ?? 'root', '-V', '-5m:+1h', join(alice.home, '.ssh', 'work.pub')]);
    const l = alice.sshAdd(['-l']);
    expect(l.stdout).toMatch(/ED25519-CERT/);
    const certSshd = await startSshd({ config: [`TrustedUserCAKeys ${ca}.pub`] });
    try {
      const got = spawnSync('ssh', ['-F', 'none', '-o', `IdentityAgent=${alice.sock}`, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
        '-p', String(certSshd.port), `${process.env.USER ?? 'root'}@127.0.0.1`, 'echo cert-login'], { env: alice.agentEnv, encoding: 'utf8', timeout: 30_000 });
      expect(got.stdout.trim(), got.stderr).toBe('cert-login'); // authorized_keys is empty: only the certificate lets it in
    } finally {
      await certSshd.stop();
    }
  });

  it('malformed requests get SSH_AGENT_FAILURE and never stop the agent; an oversized one only closes that connection', async () => {
    const failure = Buffer.from([5]);
    const cases = [
      Buffer.alloc(0), Buffer.from([0xff]), Buffer.from([13]), Buffer.from([13, 0, 0, 0, 9, 1]), Buffer.from([11, 0]),
      Buffer.from([17, 0, 0, 0, 11, ...Buffer.from('ssh-ed25519'), 0, 0, 0, 1, 0]), Buffer.from([18]), Buffer.from([22]), Buffer.from([27, 0, 0, 0, 5, 113, 117, 101, 114, 121]),
      Buffer.from([13, 0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 0, 1, 9, 0, 0, 0, 0]),
    ];
    for (const body of cases) expect(await raw(alice.sock, frame(body)), body.toString('hex')).toEqual(failure);
    for (let i = 0; i < 50; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + (i * 37) % 300 }, (_, j) => (i * 31 + j * 7) & 255));
      const got = await raw(alice.sock, frame(junk));
      expect(got === 'closed' || got[0] === 5 || got[0] === 12, junk.toString('hex')).toBe(true);
    }
    expect(await raw(alice.sock, Buffer.from([0x7f, 0xff, 0xff, 0xff, 11]))).toBe('closed');
    expect(alice.sshAdd(['-l']).status).toBe(0);
  });

  it('refuses ssh-add and ssh-add -d/-D without --allow-add; ssh-add -x/-X lock and unlock it', async () => {
    const extra = join(root, 'extra');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', extra]);
    expect(alice.sshAdd([extra]).status).not.toBe(0);
    expect(alice.sshAdd(['-D']).status).not.toBe(0);
    expect(alice.sshAdd(['-d', join(alice.home, '.ssh', 'work.pub')]).status).not.toBe(0);
    expect(alice.sshAdd(['-l']).stdout.split('\n').filter(Boolean)).toHaveLength(4); // 3 keys and a certificate
    // ssh-add -x reads the lock passphrase from the terminal or SSH_ASKPASS.
    const askpass = join(root, 'askpass-pass');
    writeFileSync(askpass, '#!/bin/sh\necho lockword\n', { mode: 0o755 });
    const env = { ...alice.agentEnv, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' };
    expect(spawnSync('ssh-add', ['-x'], { env, encoding: 'utf8' }).status).toBe(0);
    expect(alice.sshAdd(['-l']).status).toBe(1);
    expect(sshTo(alice).status).not.toBe(0);
    expect(spawnSync('ssh-add', ['-X'], { env, encoding: 'utf8' }).status).toBe(0);
    expect(alice.sshAdd(['-l']).status).toBe(0);
  });

  it('vault lock makes the agent forget every key; stop ends it and removes the socket', async () => {
    const lock = await alice.ks(['vault', 'lock', '--json']);
    expect(JSON.parse(lock.stdout)).toMatchObject({ agentForgot: true });
    const l = alice.sshAdd(['-l']);
    expect(l.status).toBe(1);
    expect(l.stdout + l.stderr).toContain('no identities');
    const stopped = await stop(alice);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toBe('unset SSH_AUTH_SOCK;\nunset SSH_AGENT_PID;\n');
    expect(existsSync(alice.sock)).toBe(false);
    expect((await alice.ks(['ssh', 'agent', 'status'])).code).toBe(3);
    expect((await stop(alice)).code).toBe(3);
  });

  it('--confirm asks SSH_ASKPASS before each signature: a refusal makes ssh fail, a yes lets it in; a second client is served while one waits', async () => {
    const bob = await person(root, 'bob');
    writeFileSync(join(bob.home, 'known_hosts'), readFileSync(join(alice.home, 'known_hosts')));
    expect((await bob.ks(['ssh', 'keygen', 'work', '--vault-only'])).code).toBe(0);
    writeFileSync(sshd.authorizedKeys, readFileSync(join(bob.home, '.ssh', 'work.pub')));
    const answer = join(bob.home, 'answer');
    const gate = join(bob.home, 'gate');
    const askpass = join(bob.home, 'askpass');
    // Waits for the gate file, then answers as the file says (exit 1: "no").
    writeFileSync(askpass, `#!/bin/sh\necho "$SSH_ASKPASS_PROMPT" >> ${bob.home}/asked\nwhile [ ! -e ${gate} ]; do sleep 0.05; done\n[ "$(cat ${answer})" = yes ] && exit 0\nexit 1\n`, { mode: 0o755 });
    chmodSync(askpass, 0o755);
    expect((await bob.ks(['ssh', 'agent', 'start', '--confirm'])).code).toBe(2); // no way to ask: refused at start
    await start(bob, ['--confirm'], { SSH_ASKPASS: askpass });

    writeFileSync(answer, 'no');
    const refused = spawn('ssh', ['-F', 'none', '-o', `IdentityAgent=${bob.sock}`, '-o', `UserKnownHostsFile=${join(bob.home, 'known_hosts')}`, '-o', 'BatchMode=yes', '-p', String(sshd.port), `${process.env.USER ?? 'root'}@127.0.0.1`, 'echo logged-in'], { env: bob.agentEnv });
    let out = '';
    refused.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const refusedDone = new Promise<number | null>((r) => refused.on('close', r));
    await until(() => existsSync(join(bob.home, 'asked')), 'the confirmation to be asked');
    // While the signature waits for a person, another client is answered.
    expect(bob.sshAdd(['-l']).status).toBe(0);
    writeFileSync(gate, '');
    expect(await refusedDone).not.toBe(0);
    expect(out).toBe('');
    expect(readFileSync(join(bob.home, 'asked'), 'utf8')).toContain('confirm');

    writeFileSync(answer, 'yes');
    const allowed = sshTo(bob);
    expect(allowed.stdout.trim(), allowed.stderr).toBe('logged-in');
    await stop(bob);
  });

  it('--keys serves managed key files too: an unencrypted one, and an encrypted one opened with the passphrase the vault keeps', async () => {
    const fay = await person(root, 'fay');
    expect((await fay.ks(['ssh', 'keygen', 'plain', '--no-passphrase', '-C', 'plain'])).code).toBe(0);
    expect((await fay.ks(['ssh', 'keygen', 'locked', '--passphrase-stdin', '--store-passphrase', '--rounds', '2', '-C', 'locked'], {}, 'pass phrase')).code).toBe(0);
    await start(fay, ['--keys', 'plain,locked']);
    const listed = fay.sshAdd(['-l']).stdout;
    for (const name of ['plain', 'locked']) expect(listed).toContain(execFileSync('ssh-keygen', ['-l', '-f', join(fay.home, '.ssh', `${name}.pub`)], { encoding: 'utf8' }).trim());
    await stop(fay);
  });

  it('--foreground --confirm asks on its own terminal (a pty, through script): y lets a signature through, anything else refuses it', async () => {
    const erin = await person(root, 'erin');
    expect((await erin.ks(['ssh', 'keygen', 'work', '--vault-only'])).code).toBe(0);
    // script(1) gives the agent a terminal; what is written to script's stdin is typed there.
    const agent = spawn('script', ['-qfec', `${process.execPath} ${BIN} ssh agent start --foreground --confirm`, '/dev/null'], { env: erin.env });
    agents.push(erin.home);
    let screen = '';
    agent.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    try {
      await until(() => screen.includes('SSH_AUTH_SOCK='), 'the foreground agent');
      const message = join(erin.home, 'msg');
      writeFileSync(message, 'signed on a terminal\n');
      const sign = () => new Promise<number | null>((resolve) => {
        const c = spawn('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'file', '-f', join(erin.home, '.ssh', 'work.pub'), message], { env: erin.agentEnv, stdio: 'ignore' });
        c.on('close', resolve);
      });
      for (const [answer, want] of [['y', 0], ['no', 255]] as const) {
        const asked = screen.split('[y/N]').length;
        const signing = sign();
        await until(() => screen.split('[y/N]').length > asked, 'the question on the terminal');
        expect(screen).toContain('Allow use of key work?');
        agent.stdin.write(`${answer}\r`);
        expect(await signing).toBe(want);
      }
    } finally {
      agent.kill('SIGTERM');
      await stop(erin);
    }
  });

  it('--lifetime forgets a key when its time is over (per key); --allow-add lets ssh-add add and remove keys, with their own constraints', async () => {
    const carol = await person(root, 'carol');
    for (const name of ['work', 'keep']) expect((await carol.ks(['ssh', 'keygen', name, '--vault-only', '-C', name])).code).toBe(0);
    expect((await carol.ks(['ssh', 'agent', 'start', '--lifetime', '2s,nosuch=1h'])).code).toBe(2);
    expect((await carol.ks(['ssh', 'agent', 'start', '--confirm', 'nosuch'], { SSH_ASKPASS: '/bin/true' })).code).toBe(2);
    expect((await carol.ks(['ssh', 'agent', 'start', '--lifetime', 'soon'])).code).toBe(2);
    await start(carol, ['--lifetime', '2s,keep=1h', '--allow-add']);
    expect(carol.sshAdd(['-l']).stdout.split('\n').filter(Boolean)).toHaveLength(2);
    await until(() => carol.sshAdd(['-l']).stdout.split('\n').filter(Boolean).length === 1, 'the lifetime of work to end');
    expect(carol.sshAdd(['-l']).stdout).toMatch(/ keep \(ED25519\)/);
    expect(carol.sshAdd(['-D']).status).toBe(0); // --allow-add: clients may remove
    const extra = join(carol.home, 'extra');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-C', 'added', '-f', extra]);
    const add = carol.sshAdd(['-t', '600', extra]);
    expect(add.status, add.stderr).toBe(0);
    expect(carol.sshAdd(['-l']).stdout).toContain(execFileSync('ssh-keygen', ['-l', '-f', `${extra}.pub`], { encoding: 'utf8' }).split(' ')[1]);
    expect(carol.sshAdd(['-d', `${extra}.pub`]).status).toBe(0);
    expect(carol.sshAdd(['-l']).status).toBe(1);
    await stop(carol);
  });

  it('no private key byte is on disk: not in HOME, not in the data folder (the vault file is age-encrypted)', async () => {
    const dave = await person(root, 'dave');
    expect((await dave.ks(['ssh', 'keygen', 'work', '--vault-only'])).code).toBe(0);
    await start(dave);
    writeFileSync(sshd.authorizedKeys, readFileSync(join(dave.home, '.ssh', 'work.pub')));
    writeFileSync(join(dave.home, 'known_hosts'), readFileSync(join(alice.home, 'known_hosts')));
    expect(sshTo(dave).stdout.trim()).toBe('logged-in');
    // The private key, as the vault holds it: its PEM body and the raw ed25519 seed.
    const record = JSON.parse((await dave.ks(['secret', 'get', 'ssh/work', '--json'])).stdout) as { fields: { privateKey: string } };
    const pem = record.fields.privateKey;
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    // The ed25519 seed: the private section is check, check, type, public key, then seed || public key.
    const section = new Reader(readOpenSshContainer(pem)!.body, 'the key');
    section.uint32();
    section.uint32();
    section.string();
    section.string();
    const seed = section.string().subarray(0, 32);
    const needles = [Buffer.from(body.slice(0, 60)), Buffer.from(body.slice(-60)), seed, Buffer.from(seed.toString('base64'))];
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
    for (const file of walk(dave.home)) {
      const bytes = readFileSync(file);
      // Node 22's compile cache (~/.cache/keysmith/v8-…) holds keysmith's code, PEM header constants
      // included: the header is looked for in data files only; the key's own bytes everywhere.
      if (!/\/\.cache\/keysmith\/v8-/.test(file)) expect(bytes.includes('OPENSSH PRIVATE KEY'), file).toBe(false);
      for (const n of needles) expect(bytes.includes(n), file).toBe(false);
    }
    await stop(dave);
  });
});
