import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseEnv, runMain, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

/**
 * Issue 13: a team vault shared through a bare git remote over ssh:// to a real OpenSSH sshd on
 * 127.0.0.1, by alice (ed25519) and bob (ssh-rsa 3072), each with their own HOME, key, known_hosts
 * and GIT_SSH_COMMAND; real git, real ssh, real age. And what `team join` says when the remote
 * does not answer, or is a git repository that is not a team vault.
 */
describeWith(['git', 'age', 'ssh', 'sshd', 'ssh-keygen'], 'team vaults on git (ssh:// remote, real sshd)', () => {
  const { home: root, cleanup } = tempHome();
  let sshd: TestSshd;
  afterAll(async () => {
    await sshd?.stop();
    cleanup();
  });
  const user = userInfo().username;
  const people = ['alice', 'bob'] as const;
  type Person = (typeof people)[number];
  const keyType: Record<Person, string[]> = { alice: ['-t', 'ed25519'], bob: ['-t', 'rsa', '-b', '3072'] };
  const key = (p: Person) => join(root, p, '.ssh', p === 'bob' ? 'id_rsa' : 'id_ed25519');
  const pub = (p: Person) => readFileSync(`${key(p)}.pub`, 'utf8').trim();
  const env = {} as Record<Person, NodeJS.ProcessEnv>;
  const ks = (p: Person, args: string[], input?: string) => runMain(args, env[p], input === undefined ? {} : { input });
  const ok = async (p: Person, args: string[], input?: string) => {
    const r = await ks(p, args, input);
    expect(r.code, `${p}: keysmith ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const teamsOf = (p: Person) => join(root, p, 'ks', 'teams');
  const teamDir = (p: Person) => join(teamsOf(p), 'acme');
  /** The folders left under KEYSMITH_HOME/teams (none, or none but those named). */
  const teamsLeft = (p: Person) => (existsSync(teamsOf(p)) ? readdirSync(teamsOf(p)).sort() : []);
  /** A bare repository at an absolute path, and its ssh:// address on the test sshd. */
  const bare = (name: string) => {
    const path = join(root, 'srv', `${name}.git`);
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', path]);
    return { path, url: `ssh://${user}@127.0.0.1:${sshd.port}${path}` };
  };
  /** The error lines of a failed run: `keysmith: …`, without the `hint:` line. */
  const errorLines = (stderr: string) => stderr.trim().split('\n').filter((l) => !l.startsWith('hint: '));
  let remote: { path: string; url: string };

  beforeAll(async () => {
    sshd = await startSshd();
    const knownHosts = join(root, 'known_hosts');
    const [type, blob] = readFileSync(join(sshd.dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/);
    writeFileSync(knownHosts, `[127.0.0.1]:${sshd.port} ${type} ${blob}\n`);
    for (const p of people) {
      mkdirSync(join(root, p, '.ssh'), { recursive: true, mode: 0o700 });
      execFileSync('ssh-keygen', ['-q', ...keyType[p], '-N', '', '-C', `${p}@test`, '-f', key(p)]);
      env[p] = baseEnv({
        HOME: join(root, p),
        KEYSMITH_HOME: join(root, p, 'ks'),
        KEYSMITH_VAULT: 'file',
        GIT_CONFIG_GLOBAL: join(root, p, '.gitconfig'),
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_SSH_COMMAND: `ssh -F /dev/null -i ${key(p)} -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes`,
        SSH_AUTH_SOCK: undefined,
      });
    }
    writeFileSync(sshd.authorizedKeys, `${pub('alice')}\n${pub('bob')}\n`);
    mkdirSync(join(root, 'srv'));
    remote = bare('remote');
    // The transport works before keysmith is asked to use it.
    execFileSync('git', ['ls-remote', remote.url], { env: env.bob, stdio: 'pipe' });
  });

  it('alice creates the team over ssh://; bob (ssh-rsa) joins and is told his line; alice adds him; bob reads what alice set', async () => {
    await ok('alice', ['team', 'create', 'acme', '--remote', remote.url, '--as', 'alice']);
    expect(execFileSync('git', ['-C', remote.path, 'log', '--format=%s', 'main'], { encoding: 'utf8' })).toBe('create team acme with alice\n');
    const joined = await ok('bob', ['team', 'join', 'acme', remote.url, '--key', key('bob')]);
    expect(joined.stdout.trim()).toBe(pub('bob'));
    expect(pub('bob')).toMatch(/^ssh-rsa /);
    expect(joined.stderr).toContain('keysmith team add acme NAME');
    await ok('alice', ['team', 'add', 'acme', 'bob', pub('bob')]);
    await ok('alice', ['secret', 'set', '@acme/db/password', '-'], 'hunter2-over-ssh');
    await ok('alice', ['team', 'sync', 'acme']);
    await ok('bob', ['team', 'sync', 'acme']);
    expect((await ok('bob', ['secret', 'get', '@acme/db/password'])).stdout).toBe('hunter2-over-ssh');
    const members = JSON.parse((await ok('bob', ['--json', 'team', 'members', 'acme'])).stdout) as Array<{ name: string; recipient: string; writes: boolean }>;
    expect(members.map((m) => [m.name, m.recipient.split(' ')[0], m.writes])).toEqual([['alice', 'ssh-ed25519', true], ['bob', 'ssh-rsa', true]]);
  });

  it('the age tool decrypts the secret with bob\'s RSA private key', () => {
    const plain = execFileSync('age', ['-d', '-i', key('bob'), join(teamDir('bob'), 'db', 'password.age')], { encoding: 'utf8' });
    expect(JSON.parse(plain)).toMatchObject({ value: 'hunter2-over-ssh' });
  });

  it('bob (ssh-rsa) writes: his RSA-signed commit is pushed over ssh and accepted by alice\'s sync', async () => {
    await ok('bob', ['secret', 'set', '@acme/api/token', '-'], 'tok-from-bob-rsa');
    await ok('bob', ['team', 'sync', 'acme']);
    expect(execFileSync('git', ['-C', remote.path, 'log', '-1', '--format=%an %s', 'main'], { encoding: 'utf8' })).toBe('bob set api/token\n');
    const synced = await ok('alice', ['--json', 'team', 'status', 'acme']);
    expect(JSON.parse(synced.stdout)).toMatchObject({ remote: remote.url, you: 'alice', members: 2 });
    await ok('alice', ['team', 'sync', 'acme']);
    expect((await ok('alice', ['secret', 'get', '@acme/api/token'])).stdout).toBe('tok-from-bob-rsa');
    expect(JSON.parse((await ok('alice', ['--json', 'team', 'status', 'acme'])).stdout)).toMatchObject({ unpushed: 0, unpulled: 0 });
  });

  it('an sshd that does not answer (a closed port): team join exits 5 with one line, nothing left under teams/', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const got = await ks('bob', ['team', 'join', 'other', `ssh://${user}@127.0.0.1:${closed}${remote.path}`, '--key', key('bob')]);
    expect(got.code, got.stderr).toBe(5);
    expect(got.stdout).toBe('');
    const lines = errorLines(got.stderr);
    expect(lines, got.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^keysmith: .*cannot reach the remote.*Connection refused/);
    expect(teamsLeft('bob')).toEqual(['acme']);
  });

  it('a host whose key is not in known_hosts: team join exits 5 with one line, nothing left under teams/', async () => {
    const stranger = { ...env.bob, GIT_SSH_COMMAND: env.bob.GIT_SSH_COMMAND!.replace(/UserKnownHostsFile=\S+/, `UserKnownHostsFile=${join(root, 'empty_known_hosts')}`) };
    const got = await runMain(['team', 'join', 'other', remote.url, '--key', key('bob')], stranger);
    expect(got.code, got.stderr).toBe(5);
    const lines = errorLines(got.stderr);
    expect(lines, got.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^keysmith: .*Host key verification failed/);
    expect(teamsLeft('bob')).toEqual(['acme']);
  });

  it.each(['file', 'ssh'] as const)('joining a git repository that is not a team vault (%s://): exit 1 or 2, one line naming it, nothing left under teams/', async (transport) => {
    const other = bare(`plain-${transport}`);
    const work = join(root, `plain-work-${transport}`);
    execFileSync('git', ['init', '-q', '-b', 'main', work]);
    writeFileSync(join(work, 'README.md'), 'just a project\n');
    const gitEnv = baseEnv({ HOME: root, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@test', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@test' });
    execFileSync('git', ['-C', work, 'add', '.'], { env: gitEnv });
    execFileSync('git', ['-C', work, 'commit', '-qm', 'an ordinary commit'], { env: gitEnv });
    execFileSync('git', ['-C', work, 'push', '-q', other.path, 'main'], { env: gitEnv });
    const url = transport === 'file' ? `file://${other.path}` : other.url;
    const got = await ks('bob', ['team', 'join', 'plain', url, '--key', key('bob')]);
    expect([1, 2], got.stderr).toContain(got.code);
    expect(got.stdout).toBe('');
    const lines = errorLines(got.stderr);
    expect(lines, got.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^keysmith: .*not a keysmith team vault/);
    expect(lines[0]).toContain(url);
    expect(teamsLeft('bob')).toEqual(['acme']);
  });

  it('joining an empty repository (no commit yet): exit 1, one line naming it as not a team vault, nothing left', async () => {
    const empty = bare('empty');
    const got = await ks('bob', ['team', 'join', 'empty', `file://${empty.path}`, '--key', key('bob')]);
    expect(got.code, got.stderr).toBe(1);
    const lines = errorLines(got.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`keysmith: file://${empty.path} is not a keysmith team vault (no valid .keysmith-team.json)`);
    expect(teamsLeft('bob')).toEqual(['acme']);
  });
});
