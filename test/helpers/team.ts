import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
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
  return {
    remote: join(root, 'remote.git'),
    env,
    key,
    pub: (p: P) => readFileSync(`${key(p)}.pub`, 'utf8').trim(),
    ks,
    /** keysmith as `p`, which must exit 0. */
    ok: async (p: P, args: string[], input?: string) => {
      const r = await ks(p, args, input);
      expect(r.code, `${p}: keysmith ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    },
    teamDir: (p: P) => join(root, p, 'ks', 'teams', 'acme'),
    gitIn: (dir: string, args: string[], p: P, input?: string) =>
      execFileSync('git', ['-C', dir, ...args], { env: env[p], encoding: 'utf8', ...(input === undefined ? {} : { input }) }),
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
