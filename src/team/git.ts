import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { childEnvironment } from '../child-env.js';
import { AuthError, FailedError, type KeysmithError, NotFoundError, UnavailableError } from '../errors.js';

/**
 * The git layer of team vaults: a thin typed wrapper over the `git` program (argv, never a shell).
 * Transport is the user's (their ssh config, GIT_SSH_COMMAND, credential helpers); what decides a
 * result is pinned on every command (PINNED), so that no user config or hook changes what keysmith
 * commits, reads or trusts. Needs git 2.34 or later (SSH signatures).
 */

/** A working copy, and the environment its commands start from (the user's; KEYSMITH_* never reaches git). */
export interface Repo { dir: string; env: NodeJS.ProcessEnv }

/** A member who commits: author and committer `name <name@keysmith>`, signed with the SSH private key at `keyPath`. */
export interface Signer { name: string; keyPath: string }

/**
 * A commit of a range, with its first parent (null for a root commit), the paths it changes against
 * it, and those of them it makes something other than a regular file (a symlink, a submodule).
 */
export interface CommitInfo { id: string; parent: string | null; merge: boolean; paths: string[]; nonFiles: string[] }

/** Settings where the user's git config must not decide, passed as `-c` to every command. */
const PINNED = [
  // No hook runs on keysmith's commands: neither the user's (core.hooksPath) nor the repository's.
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  // The bytes written are the bytes committed.
  'core.autocrlf=false',
  'color.ui=false',
  'log.showSignature=false',
  // Signed only where keysmith signs, with the member's SSH key; only SSH signatures are checked.
  'commit.gpgSign=false',
  'push.gpgSign=false',
  'gpg.format=ssh',
  'gpg.ssh.program=ssh-keygen',
  'gpg.minTrustLevel=fully',
  'gpg.openpgp.program=false',
  'gpg.x509.program=false',
  'rebase.backend=merge',
  // A teammate's rename must not carry your edit of one secret into another: it is a conflict.
  'merge.renames=false',
  'diff.renames=false',
  'rebase.autoStash=false',
  'rebase.autoSquash=false',
  'rebase.updateRefs=false',
  'rerere.enabled=false',
  'transfer.fsckObjects=true',
  // No background gc left running after a command returns.
  'gc.autoDetach=false',
  'maintenance.autoDetach=false',
].flatMap((setting) => ['-c', setting]);

/** Variables that point git at another repository, set when keysmith runs in a git hook or alias (`git rev-parse --local-env-vars`). */
const DROPPED = [
  'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_OBJECT_DIRECTORY',
  'GIT_DIR', 'GIT_WORK_TREE', 'GIT_IMPLICIT_WORK_TREE', 'GIT_GRAFT_FILE', 'GIT_INDEX_FILE', 'GIT_NO_REPLACE_OBJECTS',
  'GIT_REPLACE_REF_BASE', 'GIT_PREFIX', 'GIT_INTERNAL_SUPER_PREFIX', 'GIT_SHALLOW_FILE', 'GIT_COMMON_DIR',
];

interface Result { status: number; stdout: Buffer; stderr: string }

/** Runs a program with `input` on its stdin, then EOF: nothing it starts can read a passphrase there. */
function spawnTool(command: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: { ...childEnvironment(env), LC_ALL: 'C' } });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new UnavailableError(`${command} is not installed (or not on PATH)`, { cause: err, hint: 'team vaults need git 2.34 or later and OpenSSH (ssh-keygen, ssh-add)' }, 'ERR_TEAM_MISSING_PROGRAM') : err);
    });
    child.on('close', (code) => resolvePromise({ status: code ?? 128, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() }));
    // git may exit before reading all of its input.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/**
 * git in `dir` (never in a repository above it), or with no `dir` outside any repository (clone,
 * init). `as`: committing as that member, signing with their key (SSH signatures: `user.signingKey`
 * is the private key file; ssh-keygen uses ssh-agent when it holds the key). The identity is set in
 * the environment, which outranks any configured one.
 */
function run(repo: { dir?: string; env: NodeJS.ProcessEnv }, args: string[], options: { input?: string | Buffer; as?: Signer } = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...repo.env, GIT_TERMINAL_PROMPT: '0' };
  for (const name of DROPPED) delete env[name];
  // A checkout's replace refs would let git show other objects than the ones signed.
  env.GIT_NO_REPLACE_OBJECTS = '1';
  const prefix = [...PINNED];
  if (repo.dir !== undefined) {
    prefix.unshift('-C', resolve(repo.dir));
    env.GIT_CEILING_DIRECTORIES = dirname(resolve(repo.dir));
  }
  if (options.as) {
    const { name, keyPath } = options.as;
    Object.assign(env, { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: `${name}@keysmith`, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: `${name}@keysmith` });
    prefix.push('-c', `user.signingKey=${resolve(keyPath)}`);
  }
  return spawnTool('git', [...prefix, ...args], env, options.input);
}

/** `result`'s stdout, or the error for its failure. */
function check(args: string[], result: Result): Buffer {
  if (result.status === 0) return result.stdout;
  throw failure(args, result);
}

/** What git says when it cannot reach or read a remote (ssh's or curl's reason is on a line before). */
const UNREACHABLE = /^fatal: (Could not read from remote repository|unable to access '|'.*' does not appear to be a git repository|repository '.*' does not exist|could not read (Username|Password))/m;
const GENERIC = 'fatal: Could not read from remote repository.';

function failure(args: string[], result: Result): KeysmithError {
  const command = args.find((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-c') ?? '';
  const reason = reasonOf(result.stderr.trim() ? result.stderr : result.stdout.toString());
  if (UNREACHABLE.test(result.stderr)) {
    return new UnavailableError(`git ${command}: cannot reach the remote: ${reason}`, { hint: "check the remote's address, the network, and your access to it" }, 'ERR_TEAM_UNREACHABLE');
  }
  return new FailedError(`git ${command} failed: ${reason}`, undefined, 'ERR_TEAM_GIT');
}

/**
 * The line of a program's output that says why: the line before git's generic remote failure
 * (ssh's reason), else git's first error (later ones follow from it), else the last line.
 */
function reasonOf(text: string): string {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line && !line.startsWith('hint:'));
  const generic = lines.indexOf(GENERIC);
  const line = generic > 0 ? lines[generic - 1] : (lines.find((l) => /^(fatal|error): /.test(l)) ?? lines.at(-1));
  return (line ?? 'no message').replace(/^(fatal|error): /, '');
}

/**
 * Runs git in the repository and resolves its stdout. A failure is a KeysmithError: a remote it
 * cannot reach is an UnavailableError (exit 5, ERR_TEAM_UNREACHABLE), anything else a FailedError
 * naming the git command and git's reason (one line). With `allowFail`, a failing git resolves its stdout too.
 * @example const url = (await git(repo, ['remote', 'get-url', 'origin'], { allowFail: true })).trim();
 */
export async function git(repo: Repo, args: string[], options: { input?: string | Buffer; allowFail?: boolean } = {}): Promise<string> {
  const result = await run(repo, args, { input: options.input });
  return (options.allowFail ? result.stdout : check(args, result)).toString();
}

/** Clones `remote` (its remote is `origin`) into `dir`. */
export async function clone(remote: string, dir: string, env: NodeJS.ProcessEnv): Promise<Repo> {
  const args = ['clone', '--quiet', '--origin', 'origin', '--', remote, resolve(dir)];
  check(args, await run({ env }, args));
  return { dir: resolve(dir), env };
}

/** A new repository in `dir` on `branch` (main), with `remote` as `origin` if given. */
export async function init(dir: string, env: NodeJS.ProcessEnv, options: { remote?: string; branch?: string } = {}): Promise<Repo> {
  const args = ['init', '--quiet', `--initial-branch=${options.branch ?? 'main'}`, '--', resolve(dir)];
  check(args, await run({ env }, args));
  const repo = { dir: resolve(dir), env };
  if (options.remote !== undefined) await git(repo, ['remote', 'add', '--', 'origin', options.remote]);
  return repo;
}

/**
 * Signing must never stop at a passphrase prompt: the key is unencrypted, or ssh-agent holds it
 * (tested through its .pub). `-P ''` makes ssh-keygen fail rather than ask.
 */
async function assertCanSign(repo: Repo, keyPath: string): Promise<void> {
  const plain = await spawnTool('ssh-keygen', ['-y', '-P', '', '-f', keyPath], repo.env);
  if (plain.status === 0) return;
  if (!/passphrase/.test(plain.stderr)) throw new FailedError(`cannot sign with ${keyPath}: ${reasonOf(plain.stderr)}`, undefined, 'ERR_TEAM_SIGNING_KEY');
  if ((await spawnTool('ssh-add', ['-T', `${keyPath}.pub`], repo.env)).status === 0) return;
  throw new AuthError(`${keyPath} needs its passphrase to sign, and ssh-agent does not hold it`, { hint: `ssh-add ${keyPath}` }, 'ERR_TEAM_SIGNING_KEY');
}

/**
 * Stages `paths` (files written or removed, relative to the repository) and commits them, and
 * nothing else, as `signer`, signed with their SSH key.
 * The key must sign without a prompt (unencrypted, or held by ssh-agent): otherwise an AuthError,
 * before anything is staged. Returns the commit id.
 */
export async function signedCommit(repo: Repo, message: string, signer: Signer, paths: string[]): Promise<string> {
  await assertCanSign(repo, signer.keyPath);
  // Only what the caller wrote: a plaintext someone left in the clone is never committed.
  await git(repo, ['add', '--all', '--', ...paths]);
  const args = ['commit', '--quiet', '--gpg-sign', '--cleanup=verbatim', '--message', message, '--only', '--', ...paths];
  check(args, await run(repo, args, { as: signer }));
  return (await git(repo, ['rev-parse', 'HEAD'])).trim();
}

/**
 * The member who signed `commit`, checked against `allowedSigners` (lines of git's allowed_signers
 * format: `name namespaces="git" ssh-ed25519 AAAA…`): their name, or null when the commit is
 * unsigned, signed by a key not in the list, or the signature does not match the commit. The
 * commit's author is never consulted.
 */
export async function commitSigner(repo: Repo, commit: string, allowedSigners: string[]): Promise<string | null> {
  const dir = await mkdtemp(join(tmpdir(), 'keysmith-signers-'));
  try {
    const file = join(dir, 'allowed_signers');
    await writeFile(file, allowedSigners.map((line) => `${line}\n`).join(''), { mode: 0o600 });
    const result = await run(repo, ['-c', `gpg.ssh.allowedSignersFile=${file}`, 'verify-commit', '--raw', '--end-of-options', commit]);
    const principal = result.status === 0 ? /^Good "git" signature for (\S+) with /m.exec(result.stderr)?.[1] : undefined;
    const names = new Set(allowedSigners.flatMap((line) => line.trim().split(/\s+/)[0]!.split(',')));
    return principal !== undefined && names.has(principal) ? principal : null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The commits of `range` (`HEAD..origin/main`), parents before children. */
export async function commitsIn(repo: Repo, range: string, paths: string[] = []): Promise<CommitInfo[]> {
  // --raw -z: each commit is `id parent…`, then for each path a `:modes ids status` field and the path.
  // Merges are compared with their first parent, root commits with the empty tree. Limited to
  // `paths`: every commit that touches them (--full-history: none simplified away).
  const limit = paths.length ? ['--full-history'] : [];
  const out = await git(repo, ['log', ...limit, '--topo-order', '--reverse', '--format=%H %P', '--raw', '--no-abbrev', '--no-renames', '--root', '--diff-merges=first-parent', '-z', '--end-of-options', range, '--', ...paths]);
  const fields = out.split('\0');
  const commits: CommitInfo[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!.replace(/^\n/, '');
    if (field.startsWith(':')) {
      const path = fields[++i]!;
      const commit = commits.at(-1)!;
      commit.paths.push(path);
      const mode = field.slice(1).split(' ')[1];
      if (mode !== '100644' && mode !== '100755' && mode !== '000000') commit.nonFiles.push(path);
    } else if (field) {
      const [id, parent, ...others] = field.split(' ');
      commits.push({ id: id!, parent: parent || null, merge: others.length > 0, paths: [], nonFiles: [] });
    }
  }
  return commits;
}

/** The content of the file at `path` in `commit`, or null if there is none. A commit that does not exist is a NotFoundError. */
export async function show(repo: Repo, commit: string, path: string): Promise<Buffer | null> {
  const blob = await run(repo, ['cat-file', 'blob', `${commit}:${path}`]);
  if (blob.status === 0) return blob.stdout;
  if ((await run(repo, ['cat-file', '-e', '--end-of-options', `${commit}^{commit}`])).status !== 0) {
    throw new NotFoundError(`no commit ${commit} in ${repo.dir}`, undefined, 'ERR_TEAM_NO_COMMIT');
  }
  return null;
}

/** Fetches `origin`. */
export async function fetch(repo: Repo): Promise<void> {
  await git(repo, ['fetch', '--quiet', 'origin']);
}

/** Pushes the current branch to `origin`. Refused when the remote has commits this clone lacks: ERR_TEAM_PUSH_REJECTED (fetch, rebase, push again). */
export async function push(repo: Repo): Promise<void> {
  const args = ['push', '--quiet', 'origin', 'HEAD'];
  const result = await run(repo, args);
  if (result.status !== 0 && /^ ! \[rejected\]/m.test(result.stderr)) {
    throw new FailedError('the remote has commits this clone does not: fetch and rebase, then push again', undefined, 'ERR_TEAM_PUSH_REJECTED');
  }
  check(args, result);
}

/**
 * Replays the local commits onto `upstream`, each signed again by `signer` (needed only when there
 * are local commits). On a conflict the rebase is aborted, leaving HEAD and the working tree as
 * they were, and the conflicting paths are reported.
 */
export async function rebaseOnto(repo: Repo, upstream: string, signer?: Signer): Promise<{ ok: true } | { ok: false; conflicts: string[] }> {
  const local = (await git(repo, ['rev-list', '--max-count=1', '--end-of-options', `${upstream}..HEAD`, '--'])).trim();
  if (local) {
    if (!signer) throw new FailedError('local commits cannot be rebased without a member key to sign them', undefined, 'ERR_TEAM_NO_SIGNER');
    await assertCanSign(repo, signer.keyPath);
  }
  const args = ['rebase', '--quiet', '--strategy-option=no-renames', ...(signer ? ['--gpg-sign'] : []), '--end-of-options', upstream];
  const result = await run(repo, args, signer ? { as: signer } : {});
  if (result.status === 0) return { ok: true };
  const conflicts = (await git(repo, ['diff', '--name-only', '--diff-filter=U', '-z'])).split('\0').filter(Boolean);
  // A rebase refused before it began (a dirty tree) has nothing to abort.
  const abort = await run(repo, ['rebase', '--abort']);
  if (conflicts.length === 0) throw failure(args, result);
  check(['rebase', '--abort'], abort);
  return { ok: false, conflicts: [...new Set(conflicts)] };
}
