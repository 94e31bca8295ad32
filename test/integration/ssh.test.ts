import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

const sshKeygen = (args: string[]) => spawnSync('ssh-keygen', args, { encoding: 'utf8' });

describeWith(['ssh-keygen'], 'ssh keys interoperate with ssh-keygen', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  it.each([
    ['ed25519', []],
    ['ecdsa', ['-b', '256']],
    ['ecdsa', ['-b', '384']],
    ['ecdsa', ['-b', '521']],
    ['rsa', ['-b', '3072']],
    ['rsa', ['-b', '4096']],
  ] as const)('%s %s, with and without a passphrase: ssh-keygen -y reads it; fingerprints and randomart agree', async (type, bits) => {
    for (const passphrase of [undefined, 'correct horse']) {
      const name = `k-${type}${bits[1] ?? ''}${passphrase ? '-p' : ''}`;
      const args = ['ssh', 'keygen', name, '-t', type, ...bits, '-C', 'me@test', '--rounds', '4', ...(passphrase ? ['--passphrase-stdin'] : ['--no-passphrase'])];
      const got = await runBin(args, { env, input: passphrase });
      expect(got.code, got.stderr).toBe(0);
      const path = join(home, '.ssh', name);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}.pub`).mode & 0o777).toBe(0o644);
      const y = sshKeygen(['-y', '-P', passphrase ?? '', '-f', path]);
      expect(y.status, y.stderr).toBe(0);
      expect(readFileSync(`${path}.pub`, 'utf8').startsWith(y.stdout.trim())).toBe(true);
      if (passphrase) expect(sshKeygen(['-y', '-P', 'wrong', '-f', path]).status).not.toBe(0);
      for (const file of [path, `${path}.pub`]) {
        expect((await runBin(['ssh', 'fingerprint', file], { env })).stdout).toBe(sshKeygen(['-l', '-f', `${path}.pub`]).stdout);
        expect((await runBin(['ssh', 'fingerprint', file, '--md5'], { env })).stdout).toBe(sshKeygen(['-l', '-E', 'md5', '-f', `${path}.pub`]).stdout);
      }
      const show = (await runBin(['ssh', 'show', name], { env })).stdout;
      expect(show).toContain(sshKeygen(['-lv', '-f', `${path}.pub`]).stdout.split('\n').slice(1).join('\n').trim());
    }
  });

  it('refuses to overwrite, RSA below 3072, bad sizes; never takes a passphrase in argv', async () => {
    expect((await runBin(['ssh', 'keygen', 'k-ed25519', '--no-passphrase'], { env })).code).toBe(2);
    expect((await runBin(['ssh', 'keygen', 'small', '-t', 'rsa', '-b', '2048', '--no-passphrase'], { env })).code).toBe(2);
    expect((await runBin(['ssh', 'keygen', 'odd', '-t', 'ecdsa', '-b', '300', '--no-passphrase'], { env })).code).toBe(2);
    expect((await runBin(['ssh', 'keygen', 'noprompt'], { env })).code).toBe(2); // no terminal, no --passphrase-stdin
    expect(existsSync(join(home, '.ssh', 'small'))).toBe(false);
  });

  it('list, show --json, import of an ssh-keygen key', async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'made-by-ssh-keygen', '-f', join(home, 'theirs')]);
    const imported = await runBin(['ssh', 'import', join(home, 'theirs'), '--json'], { env });
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout).fingerprint).toBe(sshKeygen(['-l', '-f', join(home, 'theirs.pub')]).stdout.split(' ')[1]);
    const list = JSON.parse((await runBin(['ssh', 'list', '--json'], { env })).stdout);
    expect(list.map((k: { name: string }) => k.name)).toContain('theirs');
    const show = JSON.parse((await runBin(['ssh', 'show', 'theirs', '--json', '--md5'], { env })).stdout);
    expect(show).toMatchObject({ name: 'theirs', type: 'ED25519', bits: 256, path: join(home, 'theirs'), hosts: [] });
    expect(show.publicKey).toBe(readFileSync(join(home, 'theirs.pub'), 'utf8').trim());
  });

  it('malformed key files and .pub files are exit 2 with a clear message', async () => {
    const cases: Array<[string, string]> = [
      ['garbage.pub', 'not a key at all\n'],
      ['badb64.pub', 'ssh-ed25519 !!!notbase64 me\n'],
      ['mismatch.pub', `ssh-rsa ${readFileSync(join(home, 'theirs.pub'), 'utf8').split(' ')[1]} me\n`],
      ['truncated', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n'],
      ['empty.pub', '\n'],
    ];
    for (const [file, text] of cases) {
      writeFileSync(join(home, file), text);
      const got = await runBin(['ssh', 'fingerprint', join(home, file)], { env });
      expect(got.code, file).toBe(2);
      expect(got.stderr).toMatch(/not an OpenSSH public key|not a usable private key|empty key file/);
      expect(got.stderr).not.toMatch(/\n\s+at /);
    }
    expect((await runBin(['ssh', 'import', join(home, 'garbage.pub'), 'g'], { env })).code).toBe(2);
  });
});

describeWith(['ssh-keygen', 'ssh', 'sshd'], 'ssh deploy and rotate against real OpenSSH sshd', () => {
  const { home, cleanup } = tempHome();
  const hosts: TestSshd[] = [];
  let env: NodeJS.ProcessEnv;
  const UNRELATED = '# managed by hand\ncommand="echo hi",no-pty,from="10.0.0.0/8" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ4dW5yZWxhdGVka2V5dW5yZWxhdGVka2V5dW5yZWxhdGVk  other key\r\n\n';
  const target = (h: TestSshd) => `root@127.0.0.1:${h.port}`;
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) => runBin(args, { env: { ...env, ...extra }, input, timeoutMs: 60_000 });
  /** Whether the real ssh client logs in to h with this private key. */
  const sshWorks = (h: TestSshd, key: string) =>
    spawnSync('ssh', ['-i', key, '-p', String(h.port), '-o', `UserKnownHostsFile=${join(home, '.ssh', 'known_hosts')}`, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes', 'root@127.0.0.1', 'true'], { encoding: 'utf8' }).status === 0;
  const boot = join(home, 'boot');

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bootstrap', '-f', boot]);
    for (let i = 0; i < 3; i++) {
      const h = await startSshd();
      writeFileSync(h.authorizedKeys, readFileSync(`${boot}.pub`, 'utf8') + UNRELATED);
      hosts.push(h);
    }
    expect((await run(['ssh', 'keygen', 'work', '--no-passphrase', '-C', 'work@test'])).code).toBe(0);
  });
  afterAll(async () => {
    for (const h of hosts) await h.stop();
    cleanup();
  });

  it('an unknown host is refused without --accept-new (exit 4), and nothing is recorded', async () => {
    const got = await run(['ssh', 'deploy', 'work', target(hosts[0]!), '-i', boot, '--authorized-keys', hosts[0]!.authorizedKeys]);
    expect(got.code).toBe(4);
    expect(got.stderr).toMatch(/unknown host \(key SHA256:/);
    expect(existsSync(join(home, '.ssh', 'known_hosts'))).toBe(false);
    expect(readFileSync(hosts[0]!.authorizedKeys, 'utf8')).not.toContain('work@test');
  });

  it('deploy (twice: idempotent) to 3 hosts; ssh itself logs in with the key', async () => {
    for (const h of hosts) {
      const first = await run(['ssh', 'deploy', 'work', target(h), '-i', boot, '--accept-new', '--authorized-keys', h.authorizedKeys, '--json']);
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout).added).toBe(true);
      const second = await run(['ssh', 'deploy', 'work', target(h), '--authorized-keys', h.authorizedKeys, '--json']);
      expect(second.code, second.stderr).toBe(0);
      expect(JSON.parse(second.stdout).added).toBe(false);
      const text = readFileSync(h.authorizedKeys, 'utf8');
      expect(text.match(/work@test/g)).toHaveLength(1);
      expect(text).toContain(UNRELATED);
      expect(sshWorks(h, join(home, '.ssh', 'work'))).toBe(true);
    }
    const list = JSON.parse((await run(['ssh', 'hosts', 'list', 'work', '--json'])).stdout);
    expect(list.map((h: { target: string }) => h.target).sort()).toEqual(hosts.map(target).sort());
  });

  // A chroot needs root: skipped otherwise, unless system tests are required (CI runs as root).
  const asRoot = process.getuid?.() === 0 || process.env.KEYSMITH_REQUIRE_SYSTEM_TESTS === '1' ? it : it.skip;
  asRoot('deploy to the default ~/.ssh/authorized_keys creates ~/.ssh 0700 and the file 0600 (chrooted SFTP home)', async () => {
    const jailed = await startSshd({ chroot: true });
    try {
      writeFileSync(jailed.authorizedKeys, readFileSync(`${boot}.pub`));
      const got = await run(['ssh', 'deploy', 'work', target(jailed), '-i', boot, '--accept-new', '--json']);
      expect(got.code, got.stderr).toBe(0);
      expect(statSync(join(jailed.home!, '.ssh')).mode & 0o777).toBe(0o700);
      const file = join(jailed.home!, '.ssh', 'authorized_keys');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toBe(`${readFileSync(join(home, '.ssh', 'work.pub'), 'utf8').trim()}\n`);
      expect(JSON.parse((await run(['ssh', 'deploy', 'work', target(jailed), '-i', boot, '--json'])).stdout).added).toBe(false);
      expect((await run(['ssh', 'hosts', 'rm', 'work', target(jailed)])).code).toBe(0);
    } finally {
      await jailed.stop();
    }
  });

  it('rotate --dry-run changes nothing; --older-than skips a young key', async () => {
    const before = hosts.map((h) => readFileSync(h.authorizedKeys, 'utf8'));
    const dry = await run(['ssh', 'rotate', 'work', '--dry-run', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ status: 'planned' });
    const young = await run(['ssh', 'rotate', 'work', '--older-than', '90d', '--json']);
    expect(young.code).toBe(0);
    expect(JSON.parse(young.stdout).status).toBe('skipped');
    expect(hosts.map((h) => readFileSync(h.authorizedKeys, 'utf8'))).toEqual(before);
  });

  it('rotate across 3 hosts: old key refused, new key accepted, every other line byte for byte', async () => {
    const oldKey = join(home, 'work-old');
    writeFileSync(oldKey, readFileSync(join(home, '.ssh', 'work')));
    chmodSync(oldKey, 0o600);
    const oldPub = readFileSync(join(home, '.ssh', 'work.pub'), 'utf8').trim();
    const got = await run(['ssh', 'rotate', 'work', '--json']);
    expect(got.code, got.stderr).toBe(0);
    const result = JSON.parse(got.stdout);
    expect(result.status).toBe('rotated');
    expect(result.hosts.map((h: { state: string }) => h.state)).toEqual(['done', 'done', 'done']);
    const newPub = readFileSync(join(home, '.ssh', 'work.pub'), 'utf8').trim();
    expect(newPub).not.toBe(oldPub);
    for (const h of hosts) {
      expect(sshWorks(h, oldKey)).toBe(false);
      expect(sshWorks(h, join(home, '.ssh', 'work'))).toBe(true);
      const text = readFileSync(h.authorizedKeys, 'utf8');
      expect(text).toBe(readFileSync(`${boot}.pub`, 'utf8') + UNRELATED + `${newPub}\n`);
      expect(statSync(h.authorizedKeys).mode & 0o777).toBe(0o600);
    }
    // The archive is gone once every host is done; the vault knows the new key.
    expect(readdirSync(join(home, '.ssh')).filter((f) => f.includes('.old-'))).toEqual([]);
    expect(JSON.parse((await run(['ssh', 'show', 'work', '--json'])).stdout).publicKey).toBe(newPub);
  });

  it('one host down: the others complete, exit 5, that host keeps its old key; --resume finishes it', async () => {
    const down = hosts[1]!;
    await down.stop();
    const beforeDown = readFileSync(down.authorizedKeys, 'utf8');
    const got = await run(['ssh', 'rotate', 'work', '--json']);
    expect(got.code).toBe(5);
    const result = JSON.parse(got.stdout);
    expect(result.status).toBe('incomplete');
    const failed = result.hosts.filter((h: { ok: boolean }) => !h.ok);
    expect(failed.map((h: { target: string }) => h.target)).toEqual([target(down)]);
    expect(failed[0].error).toMatch(/ECONNREFUSED|connect/);
    expect(readFileSync(down.authorizedKeys, 'utf8')).toBe(beforeDown);
    expect(readdirSync(join(home, '.ssh')).filter((f) => f.includes('.old-'))).toHaveLength(2); // archive and its .pub
    // A new rotation is refused while this one is unfinished.
    expect((await run(['ssh', 'rotate', 'work'])).code).toBe(2);
    await down.restart();
    const resumed = await run(['ssh', 'rotate', 'work', '--resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe('rotated');
    for (const h of hosts) expect(sshWorks(h, join(home, '.ssh', 'work'))).toBe(true);
    expect(readFileSync(down.authorizedKeys, 'utf8').match(/work@test/g)).toHaveLength(1);
  });

  it('killed after the append, before the removal: both keys work meanwhile, --resume completes', async () => {
    const killed = await run(['ssh', 'rotate', 'work', '--concurrency', '1'], { KEYSMITH_FAILPOINT: 'ssh-rotate:new key added' });
    expect(killed.signal).toBe('SIGKILL');
    const withBoth = hosts.filter((h) => (readFileSync(h.authorizedKeys, 'utf8').match(/work@test/g) ?? []).length === 2);
    expect(withBoth).toHaveLength(1);
    const archive = readdirSync(join(home, '.ssh')).find((f) => f.startsWith('work.old-') && !f.endsWith('.pub'))!;
    expect(sshWorks(withBoth[0]!, join(home, '.ssh', archive))).toBe(true);
    expect(sshWorks(withBoth[0]!, join(home, '.ssh', 'work'))).toBe(true);
    const resumed = await run(['ssh', 'rotate', 'work', '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const h of hosts) {
      expect(readFileSync(h.authorizedKeys, 'utf8').match(/work@test/g)).toHaveLength(1);
      expect(sshWorks(h, join(home, '.ssh', 'work'))).toBe(true);
      expect(readFileSync(h.authorizedKeys, 'utf8')).toContain(UNRELATED);
    }
  });

  it('a changed host key is always refused (exit 4), with the fingerprint', async () => {
    const h = hosts[2]!;
    await h.restart({ newHostKey: true });
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(h.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1];
    for (const args of [['ssh', 'deploy', 'work', target(h), '--authorized-keys', h.authorizedKeys, '--accept-new'], ['ssh', 'rotate', 'work', '--hosts', target(h), '--accept-new']]) {
      const got = await run(args);
      expect(got.stdout + got.stderr).toMatch(/HOST KEY CHANGED/);
      expect(got.stdout + got.stderr).toContain(fp);
      expect(got.code).toBe(args[1] === 'deploy' ? 4 : 5);
    }
  });

  it('a wrong passphrase is exit 4 and changes nothing', async () => {
    expect((await run(['ssh', 'keygen', 'locked', '--passphrase-stdin', '--rounds', '4'], {}, 'right')).code).toBe(0);
    expect((await run(['ssh', 'hosts', 'add', 'locked', target(hosts[0]!), '--authorized-keys', hosts[0]!.authorizedKeys])).code).toBe(0);
    const before = readFileSync(join(home, '.ssh', 'locked'), 'utf8');
    const got = await run(['ssh', 'rotate', 'locked', '--passphrase-stdin'], {}, 'wrong');
    expect(got.code).toBe(4);
    expect(got.stderr).toMatch(/wrong passphrase/);
    expect(readFileSync(join(home, '.ssh', 'locked'), 'utf8')).toBe(before);
    expect((await run(['ssh', 'rotate', 'locked', '--resume'])).code).toBe(2); // nothing was started
  });
});
