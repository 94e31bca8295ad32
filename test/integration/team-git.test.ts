/**
 * Issue 13: the git layer of team vaults (src/team/git.ts) against real git and ssh-keygen: SSH-signed
 * commits and who signed them, history, clones sharing a bare file:// remote, rebase with and
 * without conflicts, unreachable remotes. The user's git config and environment are set up to break
 * every command that depends on them: keysmith's commands must not.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/exit-codes.js';
import { KeysmithError } from '../../src/errors.js';
import { clone, commitSigner, commitsIn, fetch, git, init, push, rebaseOnto, show, signedCommit, type Repo, type Signer } from '../../src/team/git.js';
import { baseEnv, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

describeWith(['git', 'ssh-keygen', 'ssh', 'ssh-agent', 'ssh-add'], 'team vault git layer', () => {
  const { home: root, cleanup } = tempHome();
  afterAll(cleanup);
  const hookRan = join(root, 'hook-ran');
  const home = join(root, 'home');
  /** The user's environment: a hostile ~/.gitconfig, another repository in GIT_DIR, another author. */
  const env = baseEnv({ HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_DIR: join(root, 'elsewhere'), GIT_AUTHOR_NAME: 'Wrong Person', SSH_AUTH_SOCK: undefined });
  /** Plain git, as a user (or an attacker) would run it: no keysmith, no hostile config. */
  const plainEnv = baseEnv({ HOME: join(root, 'plain'), GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'alice', GIT_AUTHOR_EMAIL: 'alice@keysmith', GIT_COMMITTER_NAME: 'alice', GIT_COMMITTER_EMAIL: 'alice@keysmith' });
  const plain = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, ...args], { env: plainEnv, encoding: 'utf8' });

  let count = 0;
  const fresh = (name: string) => join(root, `${name}-${++count}`);
  const put = (repo: Repo, path: string, content: string) => {
    mkdirSync(dirname(join(repo.dir, path)), { recursive: true });
    writeFileSync(join(repo.dir, path), content);
  };
  const head = async (repo: Repo) => (await git(repo, ['rev-parse', 'HEAD'])).trim();

  interface Key extends Signer { line: string }
  const keys: Record<'alice' | 'bob' | 'mallory', Key> = {} as never;
  /** A member key without passphrase, and its line for git's allowed_signers file. */
  function keygen(name: 'alice' | 'bob' | 'mallory', type: string): Key {
    const keyPath = join(root, 'keys', name);
    execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', `${name}@laptop`, '-f', keyPath]);
    return { name, keyPath, line: `${name} namespaces="git" ${readFileSync(`${keyPath}.pub`, 'utf8').trim()}` };
  }

  /** A bare remote holding one commit by alice, and two clones of it (alice's and bob's). */
  async function team(): Promise<{ a: Repo; b: Repo; first: string }> {
    const remote = `file://${fresh('remote')}.git`;
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote.slice('file://'.length)], { env: plainEnv });
    const a = await init(fresh('alice'), env, { remote });
    put(a, '.keysmith-team.json', '{}\n');
    const first = await signedCommit(a, 'create', keys.alice, ['.']);
    await push(a);
    return { a, b: await clone(remote, fresh('bob'), env), first };
  }

  beforeAll(() => {
    mkdirSync(join(root, 'keys'));
    keys.alice = keygen('alice', 'ed25519');
    keys.bob = keygen('bob', 'rsa');
    keys.mallory = keygen('mallory', 'ed25519');
    const hooks = join(home, 'hooks');
    mkdirSync(hooks, { recursive: true });
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'pre-push', 'pre-rebase', 'post-rewrite', 'post-checkout', 'reference-transaction']) {
      // A remote's own hooks (the bare repository's) are the remote's business.
      writeFileSync(join(hooks, hook), `#!/bin/sh\n[ "$(git rev-parse --is-bare-repository)" = true ] && exit 0\necho ${hook} >> '${hookRan}'\nexit 1\n`, { mode: 0o755 });
    }
    writeFileSync(join(home, '.gitconfig'), [
      '[user]', 'name = Wrong Person', 'email = wrong@example.com', 'signingKey = /nonexistent',
      '[commit]', 'gpgSign = true', '[gpg]', 'format = openpgp', 'minTrustLevel = ultimate', '[gpg "ssh"]', 'program = false', '[push]', 'gpgSign = true',
      '[core]', `hooksPath = ${hooks}`, 'autocrlf = true',
      '[log]', 'showSignature = true', 'showRoot = false', '[color]', 'ui = always',
      '[init]', 'defaultBranch = trunk', '[clone]', 'defaultRemoteName = upstream',
      '[rebase]', 'autoStash = true', 'backend = apply', '',
    ].join('\n'));
    mkdirSync(join(root, 'plain'));
  });

  it('names the member whose key signed (ed25519 or RSA), only from the allowed signers given', async () => {
    const repo = await init(fresh('sign'), env);
    put(repo, 'members/alice', 'a');
    const byAlice = await signedCommit(repo, 'alice joins', keys.alice, ['.']);
    put(repo, 'members/bob', 'b');
    const byBob = await signedCommit(repo, 'bob joins', keys.bob, ['.']);

    expect(await commitSigner(repo, byAlice, [keys.alice.line, keys.bob.line])).toBe('alice');
    expect(await commitSigner(repo, byBob, [keys.alice.line, keys.bob.line])).toBe('bob');
    expect(await commitSigner(repo, byAlice, [keys.bob.line, keys.mallory.line])).toBeNull();
    expect(await commitSigner(repo, byAlice, [])).toBeNull();
    expect(await git(repo, ['log', '-1', '--format=%an <%ae>|%cn <%ce>|%B', byAlice])).toBe('alice <alice@keysmith>|alice <alice@keysmith>|alice joins\n\n');
    expect(await git(repo, ['rev-parse', '--abbrev-ref', 'HEAD'])).toBe('main\n');
    expect(existsSync(hookRan)).toBe(false);
  });

  it('an unsigned commit, or one signed by a key not in the list under a member name, has no signer', async () => {
    const repo = await init(fresh('unsigned'), env);
    put(repo, 'a', '1');
    plain(repo.dir, 'add', '-A');
    plain(repo.dir, 'commit', '-q', '-m', 'unsigned');
    expect(await commitSigner(repo, await head(repo), [keys.alice.line])).toBeNull();

    put(repo, 'a', '2');
    const forged = await signedCommit(repo, 'as alice', { name: 'alice', keyPath: keys.mallory.keyPath }, ['.']);
    expect(await git(repo, ['log', '-1', '--format=%an', forged])).toBe('alice\n');
    expect(await commitSigner(repo, forged, [keys.alice.line])).toBeNull();
    expect(await commitSigner(repo, forged, [keys.alice.line, keys.mallory.line])).toBe('mallory');
  });

  it('a signed commit changed after signing has no signer', async () => {
    const repo = await init(fresh('tampered'), env);
    put(repo, 'a', '1');
    const signed = await signedCommit(repo, 'alice writes', keys.alice, ['.']);
    const object = await git(repo, ['cat-file', 'commit', signed]);
    const changed = (await git(repo, ['hash-object', '-t', 'commit', '-w', '--stdin'], { input: object.replace('alice writes', 'alice writes!') })).trim();
    expect(changed).not.toBe(signed);
    expect(await commitSigner(repo, changed, [keys.alice.line])).toBeNull();
  });

  it('refuses a key that would need its passphrase, before staging anything, and a missing key', async () => {
    const repo = await init(fresh('locked'), env);
    put(repo, 'a', '1');
    const locked = join(root, 'keys', 'alice-locked');
    copyFileSync(keys.alice.keyPath, locked);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'correct horse', '-f', locked]);
    await expect(signedCommit(repo, 'x', { name: 'alice', keyPath: locked }, ['.'])).rejects.toMatchObject({
      kind: 'auth', code: 'ERR_TEAM_SIGNING_KEY', message: expect.stringMatching(/needs its passphrase/), hint: `ssh-add ${locked}`,
    });
    await expect(signedCommit(repo, 'x', { name: 'alice', keyPath: join(root, 'keys', 'none') }, ['.'])).rejects.toMatchObject({ kind: 'failed', code: 'ERR_TEAM_SIGNING_KEY' });
    expect(await git(repo, ['status', '--porcelain'])).toBe('?? a\n');
  });

  it('signs with an encrypted key that ssh-agent holds', async () => {
    const dir = fresh('agent');
    mkdirSync(dir);
    const socket = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    try {
      while (!existsSync(socket)) await new Promise((r) => setTimeout(r, 20));
      const agentEnv = { ...env, SSH_AUTH_SOCK: socket };
      const locked = join(dir, 'alice');
      copyFileSync(keys.alice.keyPath, locked);
      copyFileSync(`${keys.alice.keyPath}.pub`, `${locked}.pub`);
      execFileSync('ssh-add', ['-q', locked], { env: agentEnv, stdio: 'ignore' });
      execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'correct horse', '-f', locked]);
      const repo = await init(join(dir, 'repo'), agentEnv);
      put(repo, 'a', '1');
      const commit = await signedCommit(repo, 'from the agent', { name: 'alice', keyPath: locked }, ['.']);
      expect(await commitSigner(repo, commit, [keys.alice.line])).toBe('alice');
    } finally {
      agent.kill();
    }
  });

  it('lists commits oldest first with their first parent and changed paths, and shows files as they were', async () => {
    const repo = await init(fresh('history'), env);
    put(repo, 'a', 'one\r\n');
    const c1 = await signedCommit(repo, 'one', keys.alice, ['.']);
    put(repo, 'a', 'two\r\n');
    put(repo, 'dir/with space', '\u00e9');
    const c2 = await signedCommit(repo, 'two', keys.alice, ['.']);
    rmSync(join(repo.dir, 'a'));
    const c3 = await signedCommit(repo, 'three', keys.alice, ['.']);

    expect(await commitsIn(repo, 'HEAD')).toEqual([
      { id: c1, parent: null, paths: ['a'], merge: false, nonFiles: [] },
      { id: c2, parent: c1, paths: ['a', 'dir/with space'], merge: false, nonFiles: [] },
      { id: c3, parent: c2, paths: ['a'], merge: false, nonFiles: [] },
    ]);
    expect(await commitsIn(repo, `${c1}..HEAD`)).toEqual([expect.objectContaining({ id: c2 }), expect.objectContaining({ id: c3 })]);
    expect(await commitsIn(repo, 'HEAD..HEAD')).toEqual([]);

    expect(await show(repo, c1, 'a')).toEqual(Buffer.from('one\r\n'));
    expect(await show(repo, c2, 'dir/with space')).toEqual(Buffer.from('\u00e9'));
    expect(await show(repo, c3, 'a')).toBeNull();
    expect(await show(repo, c1, 'dir/with space')).toBeNull();
    expect(await show(repo, c2, 'dir')).toBeNull();
    await expect(show(repo, 'f'.repeat(40), 'a')).rejects.toMatchObject({ kind: 'not-found', code: 'ERR_TEAM_NO_COMMIT' });

    // A merge's paths are those it changes against its first parent: nothing hides in a merge.
    plain(repo.dir, 'checkout', '-q', '-b', 'side', c1);
    put(repo, 'side', 's');
    plain(repo.dir, 'add', '-A');
    plain(repo.dir, 'commit', '-q', '-m', 'side');
    const side = await head(repo);
    plain(repo.dir, 'checkout', '-q', 'main');
    plain(repo.dir, 'merge', '-q', '--no-edit', 'side');
    expect(await commitsIn(repo, `${c3}..HEAD`)).toEqual([
      { id: side, parent: c1, paths: ['side'], merge: false, nonFiles: [] },
      { id: await head(repo), parent: c3, paths: ['side'], merge: true, nonFiles: [] },
    ]);
  });

  it('clones, fetches and pushes between two clones through a bare remote; a push behind the remote is refused', async () => {
    const { a, b, first } = await team();
    expect(readFileSync(join(b.dir, '.keysmith-team.json'), 'utf8')).toBe('{}\n');
    expect(await git(b, ['rev-parse', '--abbrev-ref', 'HEAD', '@{upstream}'])).toBe('main\norigin/main\n');

    put(b, 'api.age', 'b');
    const fromBob = await signedCommit(b, 'bob sets api', keys.bob, ['.']);
    await push(b);
    await fetch(a);
    expect(await commitsIn(a, 'HEAD..origin/main')).toEqual([{ id: fromBob, parent: first, paths: ['api.age'], merge: false, nonFiles: [] }]);
    expect(await show(a, 'origin/main', 'api.age')).toEqual(Buffer.from('b'));

    put(a, 'db.age', 'a');
    await signedCommit(a, 'alice sets db', keys.alice, ['.']);
    await expect(push(a)).rejects.toMatchObject({ kind: 'failed', code: 'ERR_TEAM_PUSH_REJECTED' });
    expect(existsSync(hookRan)).toBe(false);
  });

  it('rebases local commits onto the remote, signed again by their member; with nothing local, no key is needed', async () => {
    const { a, b } = await team();
    put(b, 'api.age', 'b');
    const fromBob = await signedCommit(b, 'bob sets api', keys.bob, ['.']);
    await push(b);
    put(a, 'db.age', 'a');
    const mine = await signedCommit(a, 'alice sets db', keys.alice, ['.']);
    await fetch(a);

    expect(await rebaseOnto(a, 'origin/main', keys.alice)).toEqual({ ok: true });
    const [rebased] = await commitsIn(a, 'origin/main..HEAD');
    expect(rebased).toMatchObject({ parent: fromBob, paths: ['db.age'] });
    expect(rebased!.id).not.toBe(mine);
    expect(await commitSigner(a, rebased!.id, [keys.alice.line, keys.bob.line])).toBe('alice');
    await push(a);

    await fetch(b);
    expect(await rebaseOnto(b, 'origin/main')).toEqual({ ok: true });
    expect(await head(b)).toBe(rebased!.id);
  });

  it('a rebase on a conflict names the paths and leaves HEAD and the working tree as they were', async () => {
    const { a, b } = await team();
    put(b, 'shared.age', 'from bob');
    put(b, 'b-only.age', 'b');
    await signedCommit(b, 'bob', keys.bob, ['.']);
    await push(b);
    put(a, 'shared.age', 'from alice');
    put(a, 'a-only.age', 'a');
    const mine = await signedCommit(a, 'alice', keys.alice, ['.']);
    await fetch(a);

    expect(await rebaseOnto(a, 'origin/main', keys.alice)).toEqual({ ok: false, conflicts: ['shared.age'] });
    expect(await head(a)).toBe(mine);
    expect(await git(a, ['status', '--porcelain'])).toBe('');
    expect(readFileSync(join(a.dir, 'shared.age'), 'utf8')).toBe('from alice');
    expect(existsSync(join(a.dir, 'b-only.age'))).toBe(false);
    expect(existsSync(join(a.dir, '.git', 'rebase-merge'))).toBe(false);
    await expect(rebaseOnto(a, 'origin/main')).rejects.toMatchObject({ code: 'ERR_TEAM_NO_SIGNER' });
  });

  it.each(['file:///nonexistent/team.git', 'ssh://127.0.0.1:1/team.git'])('an unreachable remote (%s) is exit 5 with a one-line reason', async (remote) => {
    // One after the other: a second promise rejecting while the first is awaited is an unhandled rejection.
    const attempts = [() => clone(remote, fresh('unreachable'), env), () => init(fresh('unreachable'), env, { remote }).then(fetch)];
    for (const attempt of attempts) {
      const err = (await attempt().then(() => undefined, (e: unknown) => e)) as KeysmithError;
      expect(err).toBeInstanceOf(KeysmithError);
      expect(err).toMatchObject({ kind: 'unavailable', code: 'ERR_TEAM_UNREACHABLE' });
      expect(EXIT_CODES[err.kind]).toBe(5);
      expect(err.message).not.toContain('\n');
      expect(err.message).toMatch(remote.startsWith('ssh') ? /Connection refused/ : /nonexistent/);
    }
  });

  it('any other failure names the git command and its last line; allowFail resolves what git printed', async () => {
    const repo = await init(fresh('fail'), env);
    await expect(git(repo, ['rev-parse', '--verify', 'nope'])).rejects.toMatchObject({ kind: 'failed', code: 'ERR_TEAM_GIT', message: 'git rev-parse failed: Needed a single revision' });
    expect(await git(repo, ['config', '--get', 'keysmith.none'], { allowFail: true })).toBe('');
    await expect(signedCommit(repo, 'nothing', keys.alice, ['.'])).rejects.toMatchObject({ code: 'ERR_TEAM_GIT', message: expect.stringMatching(/^git commit failed: /) });
  });
});
