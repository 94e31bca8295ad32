import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeysmithError } from '../../src/errors.js';
import { connect, parseTarget } from '../../src/ssh/connect.js';
import { dropKey } from '../../src/ssh/deploy.js';
import { readRemoteFile, writeRemoteFile } from '../../src/ssh/remote-shell.js';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

/**
 * Issue 14: a host whose sshd_config has no `Subsystem sftp` line. deploy and rotate edit its
 * authorized_keys through the remote shell instead, as ssh-copy-id does, and say so.
 */
describeWith(['ssh-keygen', 'ssh', 'sshd'], 'ssh deploy and rotate reach a host without SFTP through its shell (real OpenSSH sshd)', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  /** No sftp subsystem: the host the file is about, started once. */
  let bare: TestSshd;
  /** An ordinary host, with SFTP. */
  let withSftp: TestSshd;
  // Options, a comment, a CRLF line, a blank line, and a last line without a newline.
  const OTHERS = '# managed by hand\ncommand="echo hi",no-pty,from="10.0.0.0/8" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ4dW5yZWxhdGVka2V5dW5yZWxhdGVka2V5dW5yZWxhdGVk  other key\r\n\n# the end, no newline';
  const boot = join(home, 'boot');
  let before: string;
  const knownHosts = () => join(home, '.ssh', 'known_hosts');
  const target = (h: TestSshd) => `root@127.0.0.1:${h.port}`;
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => runBin(args, { env: { ...env, ...extra }, timeoutMs: 60_000 });
  const pub = (name: string) => readFileSync(join(home, '.ssh', `${name}.pub`), 'utf8').trim();
  const mode = (path: string) => statSync(path).mode & 0o777;
  /** Whether the real ssh client logs in to h with this private key. */
  const sshWorks = (h: TestSshd, key: string) =>
    spawnSync('ssh', ['-i', key, '-p', String(h.port), '-o', `UserKnownHostsFile=${knownHosts()}`, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes', 'root@127.0.0.1', 'true'], { encoding: 'utf8' }).status === 0;
  const keygen = async (name: string) => expect((await run(['ssh', 'keygen', name, '--no-passphrase', '-C', `${name}@test`])).code).toBe(0);

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bootstrap', '-f', boot]);
    bare = await startSshd({ sftp: false });
    withSftp = await startSshd();
    before = readFileSync(`${boot}.pub`, 'utf8') + OTHERS;
    writeFileSync(bare.authorizedKeys, before);
    writeFileSync(withSftp.authorizedKeys, before);
    for (const name of ['work', 'odd', 'fresh', 'plain']) await keygen(name);
  });
  afterAll(async () => {
    await bare?.stop();
    await withSftp?.stop();
    cleanup();
  });

  it('deploy goes through the shell and says so; once only; every other line byte for byte; ssh logs in with the key', async () => {
    const first = await run(['ssh', 'deploy', 'work', target(bare), '-i', boot, '--accept-new', '--authorized-keys', bare.authorizedKeys]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`work deployed to ${target(bare)} via the remote shell (the host has no SFTP)\n`);
    expect(readFileSync(bare.authorizedKeys, 'utf8')).toBe(`${before}\n${pub('work')}\n`);
    expect(mode(bare.authorizedKeys)).toBe(0o600);
    expect(sshWorks(bare, join(home, '.ssh', 'work'))).toBe(true);

    const again = await run(['ssh', 'deploy', 'work', target(bare), '--authorized-keys', bare.authorizedKeys, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ name: 'work', target: target(bare), added: false, via: 'shell' });
    expect(readFileSync(bare.authorizedKeys, 'utf8')).toBe(`${before}\n${pub('work')}\n`);
    expect(readFileSync(bare.authorizedKeys, 'utf8').match(/work@test/g)).toHaveLength(1);
  });

  it('rotate on the host without SFTP: old key refused, new key logs in, the other lines stay', async () => {
    const oldKey = join(home, 'work-old');
    writeFileSync(oldKey, readFileSync(join(home, '.ssh', 'work')));
    chmodSync(oldKey, 0o600);
    const oldPub = pub('work');
    const got = await run(['ssh', 'rotate', 'work', '--json']);
    expect(got.code, got.stderr).toBe(0);
    const result = JSON.parse(got.stdout);
    expect(result.status).toBe('rotated');
    expect(result.hosts).toEqual([{ target: target(bare), state: 'done', ok: true }]);
    expect(pub('work')).not.toBe(oldPub);
    expect(sshWorks(bare, oldKey)).toBe(false);
    expect(sshWorks(bare, join(home, '.ssh', 'work'))).toBe(true);
    expect(readFileSync(bare.authorizedKeys, 'utf8')).toBe(`${before}\n${pub('work')}\n`);
    expect(mode(bare.authorizedKeys)).toBe(0o600);
  });

  it('a path with spaces, quotes and shell syntax in it: created 0600, written and edited there and nowhere else', async () => {
    const dir = join(bare.dir, `it's a "quoted" $HOME $(echo x) \`echo y\` \\ dir`);
    mkdirSync(dir);
    const path = join(dir, "authorized keys 'n' \"more\"");
    const got = await run(['ssh', 'deploy', 'odd', target(bare), '-i', boot, '--authorized-keys', path, '--json']);
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ added: true, via: 'shell' });
    expect(readFileSync(path, 'utf8')).toBe(`${pub('odd')}\n`);
    expect(mode(path)).toBe(0o600);
    expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).toBe("authorized keys 'n' \"more\"\n"); // no temp file left
    // dropKey reaches the same path through the shell, and reports the way it took.
    writeFileSync(path, `# keep me\r\n${pub('odd')}\nno newline`);
    const client = await connect(parseTarget(target(bare)), { privateKey: readFileSync(boot, 'utf8') }, { knownHostsPath: knownHosts(), acceptNew: false });
    try {
      const blob = pub('odd').split(' ')[1]!;
      expect(await dropKey(client, blob, path)).toEqual({ removed: 1, via: 'shell' });
      expect(readFileSync(path, 'utf8')).toBe('# keep me\r\nno newline');
      expect(await dropKey(client, blob, join(dir, 'missing'))).toEqual({ removed: 0, via: 'shell' });
      expect(existsSync(join(dir, 'missing'))).toBe(false);
    } finally {
      client.end();
    }
  });

  it('a file changed between the read and the write is not overwritten', async () => {
    const path = join(bare.dir, 'raced');
    writeFileSync(path, 'one\n');
    const client = await connect(parseTarget(target(bare)), { privateKey: readFileSync(boot, 'utf8') }, { knownHostsPath: knownHosts(), acceptNew: false });
    try {
      const read = await readRemoteFile(client, path);
      expect(read.text).toBe('one\n');
      writeFileSync(path, 'two\n'); // someone else's edit, meanwhile
      const err = await writeRemoteFile(client, path, 'one\nmine\n', { stamp: read.stamp }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeysmithError);
      expect(err).toMatchObject({ kind: 'unavailable', code: 'ERR_SSH_REMOTE_CHANGED' });
      expect(readFileSync(path, 'utf8')).toBe('two\n');
      // A file that appeared since it was read as missing is not overwritten either.
      const missing = await readRemoteFile(client, join(bare.dir, 'appeared'));
      expect(missing.text).toBeUndefined();
      writeFileSync(join(bare.dir, 'appeared'), 'theirs\n');
      await expect(writeRemoteFile(client, join(bare.dir, 'appeared'), 'mine\n', { stamp: missing.stamp })).rejects.toMatchObject({ code: 'ERR_SSH_REMOTE_CHANGED' });
      expect(readFileSync(join(bare.dir, 'appeared'), 'utf8')).toBe('theirs\n');
      // Unchanged: written.
      const now = await readRemoteFile(client, path);
      await writeRemoteFile(client, path, 'two\nmine\n', { stamp: now.stamp });
      expect(readFileSync(path, 'utf8')).toBe('two\nmine\n');
    } finally {
      client.end();
    }
  });

  it('a remote failure is one line with the remote message (exit 5), and nothing is recorded', async () => {
    const path = join(bare.dir, 'no-such-folder', 'authorized_keys');
    const got = await run(['ssh', 'deploy', 'plain', target(bare), '-i', boot, '--authorized-keys', path]);
    expect(got.code).toBe(5);
    expect(got.stderr).toMatch(/^keysmith: cannot write .*no-such-folder\/authorized_keys through the remote shell \(exit \d+\): .*(nonexistent|No such file)/);
    expect(got.stderr.trim().split('\n').filter((l) => !l.startsWith('hint:'))).toHaveLength(1);
    expect(JSON.parse((await run(['ssh', 'show', 'plain', '--json'])).stdout).hosts).toEqual([]);
  });

  it('with SFTP, deploy still uses it and says so', async () => {
    const first = await run(['ssh', 'deploy', 'plain', target(withSftp), '-i', boot, '--accept-new', '--authorized-keys', withSftp.authorizedKeys, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ name: 'plain', target: target(withSftp), added: true, via: 'sftp' });
    const again = await run(['ssh', 'deploy', 'plain', target(withSftp), '--authorized-keys', withSftp.authorizedKeys]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`plain was already on ${target(withSftp)} (via SFTP)\n`);
    expect(readFileSync(withSftp.authorizedKeys, 'utf8')).toBe(`${before}\n${pub('plain')}\n`);
  });

  it('only a refused sftp subsystem falls back: an sftp program that cannot start is an error, and nothing is written', async () => {
    const broken = await startSshd({ sftp: false, config: ['Subsystem sftp /nonexistent/sftp-server'] });
    try {
      writeFileSync(broken.authorizedKeys, before);
      const got = await run(['ssh', 'deploy', 'plain', target(broken), '-i', boot, '--accept-new', '--authorized-keys', broken.authorizedKeys]);
      expect(got.code).not.toBe(0);
      expect(got.stderr).toContain('while establishing SFTP session');
      expect(got.stderr).not.toContain('remote shell');
      expect(readFileSync(broken.authorizedKeys, 'utf8')).toBe(before);
    } finally {
      await broken.stop();
    }
  });

  it('the default ~/.ssh/authorized_keys: ~/.ssh is created 0700, the file 0600 (a fake home, through ForceCommand)', async () => {
    // sshd runs commands in the login's real home; ForceCommand moves them to a temp one, so the
    // test never touches the real ~/.ssh.
    const fake = mkdtempSync(join(tmpdir(), 'keysmith-fake-home-'));
    const homed = await startSshd({ sftp: false, config: [`ForceCommand cd ${fake} && exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"`] });
    try {
      writeFileSync(homed.authorizedKeys, readFileSync(`${boot}.pub`));
      const got = await run(['ssh', 'deploy', 'fresh', target(homed), '-i', boot, '--accept-new', '--json']);
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ added: true, via: 'shell' });
      expect(mode(join(fake, '.ssh'))).toBe(0o700);
      const file = join(fake, '.ssh', 'authorized_keys');
      expect(mode(file)).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toBe(`${pub('fresh')}\n`);
      const again = await run(['ssh', 'deploy', 'fresh', target(homed), '-i', boot, '--json']);
      expect(JSON.parse(again.stdout)).toMatchObject({ added: false, via: 'shell' });
      expect(readFileSync(file, 'utf8')).toBe(`${pub('fresh')}\n`);
    } finally {
      await homed.stop();
      rmSync(fake, { recursive: true, force: true });
    }
  });
});
