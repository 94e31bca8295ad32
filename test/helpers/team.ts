import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { baseEnv, runMain } from './cli.js';

/**
 * People sharing a team vault in tests: each with a HOME, an ed25519 SSH key, a file vault and a git
 * config of their own, over a bare remote `remote.git` in `root`. Call `setup()` in beforeAll.
 */
export function teamPeople<P extends string>(root: string, people: readonly P[]) {
  const env = {} as Record<P, NodeJS.ProcessEnv>;
  const key = (p: P) => join(root, p, '.ssh', 'id_ed25519');
  const ks = (p: P, args: string[], input?: string) => runMain(args, env[p], input === undefined ? {} : { input });
  const pub = (p: P) => readFileSync(`${key(p)}.pub`, 'utf8').trim();
  const remote = join(root, 'remote.git');
  const gitIn = (dir: string, args: string[], p: P, input?: string) =>
    execFileSync('git', ['-C', dir, ...args], { env: env[p], encoding: 'utf8', ...(input === undefined ? {} : { input }) });
  const signing = (p: P) => ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key(p)}`];
  const decryptAs = (p: P, file: string) => {
    try {
      return execFileSync('age', ['-d', '-i', key(p), file], { encoding: 'utf8', stdio: 'pipe' });
    } catch {
      return null;
    }
  };
  let counter = 0;
  const ok = async (p: P, args: string[], input?: string) => {
    const r = await ks(p, args, input);
    expect(r.code, `${p}: keysmith ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r;
  };
  const teamDir = (p: P) => join(root, p, 'ks', 'teams', 'acme');
  return {
    remote,
    env,
    key,
    pub,
    ks,
    signing,
    decryptAs,
    /** A plain `git commit -S` by `p` (not keysmith): what an insider with push access does. */
    signedCommit: (dir: string, p: P, msg: string) => {
      gitIn(dir, ['add', '-A'], p);
      gitIn(dir, [...signing(p), 'commit', '-qS', '--allow-empty', '-m', msg], p);
      return gitIn(dir, ['rev-parse', 'HEAD'], p).trim();
    },
    /** A keysmith record's JSON, as an attacker writes one by hand. */
    record: (value: string, meta?: object) => JSON.stringify({ kind: 'password', value, fields: {}, created: '2026-01-01T00:00:00.000Z', updated: '2026-01-01T00:00:00.000Z', ...(meta ? { meta } : {}) }),
    /** An age file to these SSH recipients (what any member or pusher can make: the keys are public). */
    seal: (out: string, recipients: P[], plaintext: string) => {
      mkdirSync(join(out, '..'), { recursive: true });
      rmSync(out, { force: true });
      execFileSync('age', [...recipients.flatMap((r) => ['-r', pub(r)]), '-o', out], { input: plaintext });
    },
    /** Decrypts `path` as it is in `rev` of the bare remote (null: absent or not for `p`). */
    remoteDecrypt: (p: P, path: string, rev = 'main') => {
      const out = join(root, `blob-${++counter}`);
      try {
        writeFileSync(out, execFileSync('git', ['-C', remote, 'cat-file', 'blob', `${rev}:${path}`], { stdio: 'pipe' }));
      } catch {
        return null;
      }
      return decryptAs(p, out);
    },
    remoteHas: (path: string, rev = 'main') => {
      try {
        execFileSync('git', ['-C', remote, 'cat-file', '-e', `${rev}:${path}`], { stdio: 'pipe' });
        return true;
      } catch {
        return false;
      }
    },
    remoteHead: () => execFileSync('git', ['-C', remote, 'rev-parse', 'refs/heads/main'], { encoding: 'utf8' }).trim(),
    /** A plain git clone of the remote (or `from`) as `p`. */
    freshClone: (p: P, extra: string[] = [], from = `file://${remote}`) => {
      const dir = join(root, p, `clone-${++counter}`);
      execFileSync('git', ['clone', '-q', ...extra, from, dir], { env: env[p] });
      return dir;
    },
    readTeam: (dir: string) => JSON.parse(readFileSync(join(dir, '.keysmith-team.json'), 'utf8')) as { members: Record<string, { recipient: string; paths: string[] }> },
    /** The environment of a CI job reading `checkout` with ci's key. */
    ciEnv: (checkout: string, extra: Record<string, string> = {}) => ({ ...env['ci' as P], KEYSMITH_TEAM_DIR: checkout, KEYSMITH_TEAM_KEY: readFileSync(key('ci' as P), 'utf8'), ...extra }),
    /** keysmith as `p`, which must exit 0. */
    ok,
    teamDir,
    /**
     * The team every attack starts from (not yet synced): alice creates acme; bob, carol and dave
     * join; bob and ci read prod/ only, carol and dave everything; two secrets.
     */
    async acme() {
      await ok('alice' as P, ['team', 'create', 'acme', '--remote', `file://${remote}`, '--as', 'alice']);
      for (const p of ['bob', 'carol', 'dave'] as P[]) await ok(p, ['team', 'join', 'acme', `file://${remote}`]);
      await ok('alice' as P, ['team', 'add', 'acme', 'bob', pub('bob' as P), '--path', 'prod/']);
      await ok('alice' as P, ['team', 'add', 'acme', 'carol', pub('carol' as P)]);
      await ok('alice' as P, ['team', 'add', 'acme', 'dave', pub('dave' as P)]);
      await ok('alice' as P, ['team', 'add', 'acme', 'ci', pub('ci' as P), '--path', 'prod/']);
      await ok('alice' as P, ['secret', 'set', '@acme/prod/db', '-'], 'prod-db-original');
      await ok('alice' as P, ['secret', 'set', '@acme/db/password', '-'], 'root-db-original');
    },
    /** Puts the remote's main and these people's clones back at `commit`, their working trees clean. */
    rewind(commit: string, clones: readonly P[]) {
      execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', commit]);
      for (const p of clones) {
        const d = teamDir(p);
        gitIn(d, ['reset', '-q', '--hard', commit], p);
        gitIn(d, ['clean', '-qfdx'], p);
        gitIn(d, ['update-ref', 'refs/keysmith/checked', commit], p);
        gitIn(d, ['update-ref', 'refs/remotes/origin/main', commit], p);
      }
    },
    gitIn,
    setup() {
      execFileSync('git', ['init', '-q', '--bare', '-b', 'main', join(root, 'remote.git')]);
      for (const p of people) {
        mkdirSync(join(root, p, '.ssh'), { recursive: true, mode: 0o700 });
        execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${p}@test`, '-f', key(p)]);
        env[p] = baseEnv({
          HOME: join(root, p),
          KEYSMITH_HOME: join(root, p, 'ks'),
          KEYSMITH_VAULT: 'file',
          KEYSMITH_AGE_IDENTITY: execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!,
          GIT_CONFIG_GLOBAL: join(root, p, '.gitconfig'),
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_AUTHOR_NAME: p,
          GIT_AUTHOR_EMAIL: `${p}@test`,
          GIT_COMMITTER_NAME: p,
          GIT_COMMITTER_EMAIL: `${p}@test`,
          SSH_AUTH_SOCK: undefined,
        });
      }
    },
  };
}
