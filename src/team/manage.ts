import { readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AuthError, FailedError, NotFoundError, UsageError } from '../errors.js';
import { mapLimit } from '../concurrency.js';
import { ensurePrivateDir, exists, writeFileAtomic } from '../fs.js';
import type { KeysmithPaths } from '../paths.js';
import { recipientKind, sshRecipientOf } from '../vault/age.js';
import { checkOwn, checkUpstream, firstCommit, lastChecked, markChecked, UPSTREAM, verify } from './check.js';
import { clone, commitsIn, fetch, git, init, push, rebaseOnto, show, signedCommit, type Repo } from './git.js';
import { memberOf, newTeam, normalizePath, parseTeam, readersOf, reads, TEAM_FILE, validateMemberName, validateTeamName, type TeamDocument } from './team.js';
import { committedSecrets, TeamVault, unreadable, type TeamIdentity } from './vault.js';

/** What team functions need from their caller. */
export interface TeamContext {
  paths: KeysmithPaths;
  env: NodeJS.ProcessEnv;
}

const BRANCH = 'main';
/** Where keysmith keeps a team's clone: `<data>/teams/<name>`. */
export const teamDir = (paths: KeysmithPaths, name: string) => join(paths.data, 'teams', validateTeamName(name));

/** The public line of a member's key: the `.pub` beside it, else derived from the private key. */
async function publicLine(keyPath: string): Promise<string> {
  const pub = await readFile(`${keyPath}.pub`, 'utf8').catch(() => undefined);
  const line = pub?.trim() || (await sshRecipientOf(await readFile(keyPath, 'utf8')));
  recipientKind(line);
  return line;
}

const sameKey = (a: string, b: string) => a.trim().split(/\s+/).slice(0, 2).join(' ') === b.trim().split(/\s+/).slice(0, 2).join(' ');

/** Opens a team's vault: the local clone and its member's key, or in CI the checkout and key of KEYSMITH_TEAM_DIR / KEYSMITH_TEAM_KEY (read-only). */
export async function openTeam(ctx: TeamContext, name: string): Promise<TeamVault> {
  const ciKey = ctx.env.KEYSMITH_TEAM_KEY;
  const dir = ctx.env.KEYSMITH_TEAM_DIR && ciKey ? ctx.env.KEYSMITH_TEAM_DIR : teamDir(ctx.paths, name);
  if (!(await exists(join(dir, TEAM_FILE)))) {
    throw new NotFoundError(`no team vault named ${name} here (${dir})`, { hint: 'create it or join it (createTeam, joinTeam)', detail: { kind: 'no-team', team: name } }, 'ERR_TEAM_NOT_FOUND');
  }
  const repo: Repo = { dir, env: ctx.env };
  if (ciKey && ctx.env.KEYSMITH_TEAM_DIR) {
    const team = parseTeam(await readFile(join(dir, TEAM_FILE)), dir);
    if (team.name !== name) throw new NotFoundError(`no team vault named ${name} here (KEYSMITH_TEAM_DIR holds ${team.name})`, undefined, 'ERR_TEAM_NOT_FOUND');
    return new TeamVault(name, repo, { key: ciKey }, true);
  }
  const { key: keyPath, member } = await yourKey(repo);
  if (!keyPath) throw new UsageError(`the team vault ${name} has no key of yours recorded; join it again with your key`, undefined, 'ERR_TEAM_NO_KEY');
  const identity: TeamIdentity = { key: await readFile(keyPath, 'utf8') };
  if (member) identity.signer = { name: member, keyPath };
  return new TeamVault(name, repo, identity);
}

/** Creates a team vault with its creator as the first member (reading everything), and pushes it to `remote` if given. */
export async function createTeam(ctx: TeamContext, name: string, options: { member: string; keyPath: string; remote?: string }): Promise<TeamVault> {
  const dir = teamDir(ctx.paths, name);
  if (await exists(dir)) throw new UsageError(`a team vault named ${name} exists already (${dir})`, { detail: { kind: 'exists', what: 'file', names: [dir] } }, 'ERR_TEAM_EXISTS');
  validateMemberName(options.member);
  const recipient = await publicLine(options.keyPath);
  if (recipientKind(recipient) === 'x25519') throw new UsageError('a team is created with an SSH key (it signs the commits)', undefined, 'ERR_TEAM_KEY_TYPE');
  try {
    await ensurePrivateDir(dirname(dir));
    const repo = await init(dir, ctx.env, { branch: BRANCH, ...(options.remote ? { remote: options.remote } : {}) });
    await recordKey(repo, options.member, options.keyPath);
    const vault = new TeamVault(name, repo, { key: await readFile(options.keyPath, 'utf8'), signer: { name: options.member, keyPath: options.keyPath } });
    const team = newTeam(name);
    team.members[options.member] = { recipient, paths: [''] };
    const paths = await vault.writeDocument(team);
    await markChecked(repo, await signedCommit(repo, `create team ${name} with ${options.member}`, { name: options.member, keyPath: options.keyPath }, paths));
    if (options.remote) await push(repo);
    return vault;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function adoptMembership(repo: Repo, team: TeamDocument): Promise<void> {
  const { key: keyPath } = await yourKey(repo);
  if (!keyPath) return;
  const line = await publicLine(keyPath);
  const member = Object.entries(team.members).find(([, m]) => sameKey(m.recipient, line))?.[0];
  if (member) await recordKey(repo, member, keyPath);
}

/** Your key and member name in a clone, kept in its .git folder (read on every command: no git process). */
const settings = (repo: Repo) => join(repo.dir, '.git', 'keysmith.json');

async function yourKey(repo: Repo): Promise<{ key?: string; member?: string }> {
  const text = await readFile(settings(repo), 'utf8').catch(() => '{}');
  const { key, member } = JSON.parse(text) as { key?: unknown; member?: unknown };
  return { ...(typeof key === 'string' ? { key } : {}), ...(typeof member === 'string' ? { member } : {}) };
}

const recordKey = (repo: Repo, member: string | undefined, keyPath: string) =>
  writeFileAtomic(settings(repo), `${JSON.stringify({ key: keyPath, ...(member ? { member } : {}) })}\n`, { overwrite: true });

/**
 * Clones a team vault and checks its whole history: every commit signed by a member of the list
 * before it (the first by a member of its own). Returns the member name the key has, or null with
 * the recipient line a member adds (`addMember`).
 */
export async function joinTeam(ctx: TeamContext, name: string, remote: string, keyPath: string, options: { root?: string } = {}): Promise<{ member: string | null; recipient: string; root: string }> {
  const dir = teamDir(ctx.paths, name);
  if (await exists(dir)) throw new UsageError(`a team vault named ${name} exists already (${dir})`, { detail: { kind: 'exists', what: 'file', names: [dir] } }, 'ERR_TEAM_EXISTS');
  const recipient = await publicLine(keyPath);
  try {
    await ensurePrivateDir(dirname(dir));
    const repo = await clone(remote, dir, ctx.env);
    // An empty repository has no HEAD commit yet: not a team vault either.
    const head = (await git(repo, ['rev-parse', '--verify', '--quiet', 'HEAD'], { allowFail: true })).trim();
    const team = parseTeam(head ? await show(repo, 'HEAD', TEAM_FILE) : null, remote);
    // The first commit is taken on trust (as ssh takes a new host key) unless pinned; every later one is checked.
    const root = await firstCommit(repo, remote, options.root);
    await verify(repo, 'HEAD', remote, { root });
    await markChecked(repo, 'HEAD');
    const member = Object.entries(team.members).find(([, m]) => sameKey(m.recipient, recipient))?.[0] ?? null;
    await recordKey(repo, member ?? undefined, keyPath);
    return { member, recipient, root };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Pulls (each commit checked, then rebased onto) and pushes. Your unpushed changes are re-encrypted
 * to the member list upstream has now when it changed, and checked as the others will check them
 * before they are pushed. A conflict on a secret stops with both versions kept.
 */
export async function syncTeam(ctx: TeamContext, name: string): Promise<{ received: number; sent: number }> {
  const vault = await openTeam(ctx, name);
  const { repo } = vault;
  await fetch(repo);
  // Nothing new either way: one rev-parse, not the checks.
  const [head, up] = (await git(repo, ['rev-parse', 'HEAD', UPSTREAM], { allowFail: true })).trim().split('\n');
  if (head && head === up) return { received: 0, sent: 0 };
  let received = 0;
  let upstream: string | undefined;
  if (await hasUpstream(repo)) {
    const base = (await git(repo, ['merge-base', 'HEAD', UPSTREAM], { allowFail: true })).trim();
    upstream = await checkUpstream(repo);
    received = (await commitsIn(repo, `HEAD..${upstream}`)).length;
    const signer = vault.describe().writable ? vault.writer() : undefined;
    const both = await conflicts(repo, upstream);
    const rebased = both.length ? { ok: false as const, conflicts: both.map((s) => `${s}.age`) } : await rebaseOnto(repo, upstream, signer);
    if (!rebased.ok) {
      const secrets = rebased.conflicts.map((p) => p.replace(/\.age$/, ''));
      throw new FailedError(`both sides changed ${secrets.map((s) => `@${name}/${s}`).join(', ')}: nothing was merged, both versions are readable`, { hint: 'read theirs (theirSecret), then resolveTeam keeping mine or theirs', detail: { kind: 'team-conflict', team: name, secrets } }, 'ERR_TEAM_CONFLICT');
    }
    try {
      // Joined before being added: the clone learns its member name once the list has the key.
      if (!signer) await adoptMembership(repo, await vault.document());
      else if (base) await resealAcross(vault, base, upstream, signer);
      await checkOwn(repo, upstream);
    } catch (err) {
      // All or nothing: a retry rebases and re-encrypts again, from where it started.
      await git(repo, ['reset', '--quiet', '--hard', head!], { allowFail: true });
      throw err;
    }
  }
  const sent = upstream ? (await commitsIn(repo, `${upstream}..HEAD`)).length : 1;
  if (sent > 0 && vault.describe().writable) {
    await push(repo);
    await markChecked(repo, 'HEAD');
  }
  return { received, sent };
}

/**
 * After a rebase across a change of the member list (upstream's, or one of your unpushed commits),
 * the secrets either side wrote since they parted are encrypted again to the list as it is now: a
 * member removed must not read them, a member added must. One more signed commit.
 */
async function resealAcross(vault: TeamVault, base: string, upstream: string, signer: { name: string; keyPath: string }): Promise<void> {
  const changed = async (range: string) => (await commitsIn(vault.repo, range)).flatMap((c) => c.paths);
  const [theirs, mine] = await Promise.all([changed(`${base}..${upstream}`), changed(`${upstream}..HEAD`)]);
  const paths = new Set<string>();
  if (theirs.includes(TEAM_FILE)) mine.forEach((p) => paths.add(p));
  if (mine.includes(TEAM_FILE)) theirs.forEach((p) => paths.add(p));
  const team = await vault.document();
  const sealed: string[] = [];
  for (const path of [...paths].filter((p) => p.endsWith('.age'))) {
    const secret = path.slice(0, -'.age'.length);
    const record = await vault.get(secret).catch((err: unknown) => {
      if (err instanceof NotFoundError || unreadable(err)) return undefined; // removed since; or not yours to read (checkOwn refuses what you may not write)
      throw err;
    });
    if (record && readersOf(team, secret).length > 0) sealed.push(await vault.seal(team, secret, record));
  }
  if (sealed.length) await signedCommit(vault.repo, `re-encrypt ${sealed.length} secret(s) to the members now`, signer, sealed);
}

/** The member list, with what each reads and whether they can write. */
export async function teamMembers(ctx: TeamContext, name: string) {
  const team = await (await openTeam(ctx, name)).document();
  return Object.entries(team.members)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([member, m]) => ({ name: member, recipient: m.recipient, paths: m.paths, writes: recipientKind(m.recipient) !== 'x25519' }));
}

/**
 * Adds a member (an SSH public key line or an age1… recipient) reading `paths`, and re-encrypts
 * every secret under them to the new set of readers, in one signed commit.
 */
export async function addMember(ctx: TeamContext, name: string, member: string, recipient: string, readPaths: string[] = ['']): Promise<{ reencrypted: string[] }> {
  validateMemberName(member);
  recipientKind(recipient);
  const vault = await openTeam(ctx, name);
  const signer = vault.writer();
  const team = await vault.document();
  if (memberOf(team, member)) throw new UsageError(`${member} is a member of ${name} already`, { detail: { kind: 'exists', what: 'records', names: [member] } }, 'ERR_TEAM_MEMBER_EXISTS');
  const clash = Object.entries(team.members).find(([, m]) => sameKey(m.recipient, recipient));
  if (clash) throw new UsageError(`that key is ${clash[0]}'s already`, undefined, 'ERR_TEAM_MEMBER_EXISTS');
  const next: TeamDocument = { ...team, members: { ...team.members, [member]: { recipient: recipient.trim(), paths: [...new Set(readPaths.map(normalizePath))] } } };
  return restoringOnFailure(vault, async () => {
    const { names: reencrypted } = await reseal(vault, next, (secret) => reads(next.members[member]!, secret));
    const paths = await vault.writeDocument(next);
    await signedCommit(vault.repo, `add ${member} to ${name}`, signer, [...paths, ...reencrypted.map((n) => `${n}.age`)]);
    return { reencrypted };
  });
}

/**
 * Removes a member and re-encrypts every secret they could read without them, in one signed commit.
 * Returns those secrets: the member saw their values, which only a rotation makes worthless.
 */
export async function removeMember(ctx: TeamContext, name: string, member: string, options: { rotate?: boolean; now?: Date } = {}): Promise<{ exposed: string[]; rotated: string[]; skipped: string[] }> {
  const vault = await openTeam(ctx, name);
  const signer = vault.writer();
  const team = await vault.document();
  const gone = memberOf(team, member);
  if (!gone) throw new NotFoundError(`${member} is not a member of ${name}`, undefined, 'ERR_TEAM_NO_MEMBER');
  if (member === signer.name) throw new UsageError('a member cannot remove themselves; ask another member', undefined, 'ERR_TEAM_SELF');
  const next: TeamDocument = { ...team, members: Object.fromEntries(Object.entries(team.members).filter(([n]) => n !== member)) };
  return restoringOnFailure(vault, async () => {
    const { names: exposed, skipped } = await reseal(vault, next, (secret) => reads(gone, secret), true);
    // They saw the values: with `rotate`, the ones keysmith generated get new ones, made alike.
    const rotated: string[] = [];
    for (const secret of options.rotate ? exposed : []) {
      const record = await vault.get(secret);
      const how = record.meta?.generated as { length?: unknown; charset?: unknown } | undefined;
      if (typeof how?.length !== 'number' || typeof how.charset !== 'string') continue;
      // As recorded, but never weaker than the default: any reader of the record could have rewritten it.
      const { CHARSETS, entropyBits, generatePassword } = await import('../vault/generate.js');
      const alike = Object.hasOwn(CHARSETS, how.charset) && Number.isInteger(how.length) && how.length <= 4096 && entropyBits(how.length, how.charset as keyof typeof CHARSETS) >= 128;
      await vault.seal(next, secret, { ...record, value: alike ? generatePassword(how.length, how.charset) : generatePassword(32, 'alnum'), updated: (options.now ?? new Date()).toISOString() });
      rotated.push(secret);
    }
    const paths = await vault.writeDocument(next);
    await signedCommit(vault.repo, `remove ${member} from ${name}${rotated.length ? `, rotate ${rotated.length} secret(s)` : ''}`, signer, [...paths, ...exposed.map((n) => `${n}.age`)]);
    return { exposed, rotated, skipped };
  });
}

/** Runs a change of the working tree; if it fails, the tree is put back as committed (nothing half re-encrypted is left). */
async function restoringOnFailure<T>(vault: TeamVault, change: () => Promise<T>): Promise<T> {
  // Only keysmith's own work is undone: a clone with changes of yours (edited, staged) is not touched.
  if ((await git(vault.repo, ['status', '--porcelain', '--untracked-files=no'])).trim()) {
    throw new UsageError(`the clone of ${vault.team} has changes not committed (${vault.repo.dir}): commit or undo them first`, undefined, 'ERR_TEAM_DIRTY');
  }
  try {
    return await change();
  } catch (err) {
    await git(vault.repo, ['reset', '--quiet', '--hard', 'HEAD'], { allowFail: true });
    throw err;
  }
}

/** Re-encrypts the secrets `which` selects to their readers in `team`; every one must be readable by the signer. */
/**
 * Re-encrypts the secrets `which` selects (as committed) to their readers in `team`. A file the
 * signer, who reads everything, cannot open as a record was not written for the team as it is
 * meant to be: with `skip` (a removal, which must not be blocked by it) it is left as it is and
 * reported, else the change stops naming it. Never deleted: other members may open it.
 */
async function reseal(vault: TeamVault, team: TeamDocument, which: (secret: string) => boolean, skip = false): Promise<{ names: string[]; skipped: string[] }> {
  const names = (await committedSecrets(vault.repo)).filter(which);
  const skipped: string[] = [];
  // A few at once: one file's reads and writes overlap another's encryption.
  await mapLimit(names, 8, async (secret) => {
    const record = await vault.get(secret).catch((err: unknown) => {
      if (!unreadable(err)) throw err;
      if (skip) return undefined;
      throw new AuthError(`cannot re-encrypt @${vault.team}/${secret}: your key does not open it as a record, so it was not written for the team as it should be; remove it, then try again`, undefined, 'ERR_TEAM_CANNOT_RESEAL');
    });
    if (!record) {
      skipped.push(secret);
      return;
    }
    if (readersOf(team, secret).length === 0) throw new UsageError(`nobody would read @${vault.team}/${secret} any more`, undefined, 'ERR_TEAM_NO_READERS');
    await vault.seal(team, secret, record);
  });
  return { names: names.filter((n) => !skipped.includes(n)), skipped: skipped.sort() };
}

/** Remote, last fetch, members, commits not yet pushed or pulled. */
export async function teamStatus(ctx: TeamContext, name: string) {
  const vault = await openTeam(ctx, name);
  const { repo } = vault;
  const remote = (await git(repo, ['remote', 'get-url', 'origin'], { allowFail: true })).trim() || null;
  const fetched = await stat(join(repo.dir, '.git', 'FETCH_HEAD')).then((s) => s.mtime.toISOString(), () => null);
  const upstream = await hasUpstream(repo);
  const count = async (range: string) => (upstream ? (await commitsIn(repo, range)).length : null);
  return {
    team: name,
    dir: repo.dir,
    root: (await git(repo, ['rev-list', '--max-parents=0', 'HEAD'])).trim(),
    remote,
    lastSync: fetched,
    members: Object.keys((await vault.document()).members).length,
    you: vault.describe().writable ? vault.writer().name : null,
    unpushed: await count(`${UPSTREAM}..HEAD`),
    unpulled: await count(`HEAD..${UPSTREAM}`),
    conflicts: await teamConflicts(ctx, name),
  };
}

/** The secrets changed both in your unpushed commits and upstream since they parted: what `syncTeam` stops on. */
export async function teamConflicts(ctx: TeamContext, name: string): Promise<string[]> {
  const { repo } = await openTeam(ctx, name);
  return (await hasUpstream(repo)) ? conflicts(repo, UPSTREAM) : [];
}

/**
 * The secrets changed both by your unpushed commits and upstream since they parted. Paths, not
 * git's merge: a teammate's rename is a deletion and an addition, so your edit of the old name
 * conflicts instead of following the file to its new name.
 */
async function conflicts(repo: Repo, upstream: string): Promise<string[]> {
  const base = (await git(repo, ['merge-base', 'HEAD', upstream])).trim();
  const changed = async (range: string) => new Set((await commitsIn(repo, range)).flatMap((c) => c.paths));
  const [mine, theirs] = await Promise.all([changed(`${base}..HEAD`), changed(`${base}..${upstream}`)]);
  return [...mine].filter((p) => theirs.has(p) && p.endsWith('.age')).map((p) => p.slice(0, -'.age'.length)).sort();
}

const hasUpstream = async (repo: Repo) => (await git(repo, ['rev-parse', '--verify', '--quiet', UPSTREAM], { allowFail: true })).trim() !== '';

/** The other side's version of a secret, as last fetched (`secret get @team/x --theirs`). */
export async function theirSecret(ctx: TeamContext, name: string, secret: string) {
  const vault = await openTeam(ctx, name);
  // Only a checked state: what a refused sync fetched is never read.
  const checked = await lastChecked(vault.repo);
  const fetched = (await git(vault.repo, ['rev-parse', '--verify', '--quiet', UPSTREAM], { allowFail: true })).trim();
  if (checked && fetched && checked !== fetched) {
    throw new AuthError(`${UPSTREAM} holds changes not checked (a sync refused them, or none ran since the fetch); sync first`, undefined, 'ERR_TEAM_UNVERIFIED');
  }
  const bytes = checked ? await show(vault.repo, checked, `${secret}.age`) : null;
  if (!bytes) throw new NotFoundError(`no secret named @${name}/${secret} upstream (${UPSTREAM})`, undefined, 'ERR_VAULT_NOT_FOUND');
  return vault.open(secret, bytes);
}

/**
 * Ends a conflict: your unpushed changes become one commit on top of upstream, re-encrypted to its
 * member list, with the conflicting secrets as you `keep` them (`mine` or `theirs`). Upstream is
 * checked again first.
 */
export async function resolveTeam(ctx: TeamContext, name: string, keep: 'mine' | 'theirs'): Promise<{ resolved: string[] }> {
  const vault = await openTeam(ctx, name);
  const { repo } = vault;
  const signer = vault.writer();
  const conflicts = await teamConflicts(ctx, name);
  if (conflicts.length === 0) throw new UsageError(`${name} has no conflict to resolve; sync it`, undefined, 'ERR_TEAM_NO_CONFLICT');
  const upstream = await checkUpstream(repo);
  const base = (await git(repo, ['merge-base', 'HEAD', upstream])).trim();
  const mine = [...new Set((await commitsIn(repo, `${base}..HEAD`)).flatMap((c) => c.paths))];
  if (mine.includes(TEAM_FILE)) {
    // Your unpushed member change cannot be merged secret by secret: keeping theirs drops your unpushed changes, to be made again.
    if (keep === 'mine') throw new UsageError('your unpushed changes include a member change: keep theirs (it drops your unpushed changes), then make them again', undefined, 'ERR_TEAM_CONFLICT');
    await git(repo, ['reset', '--hard', '--quiet', upstream]);
    return { resolved: conflicts };
  }
  // Your versions, decrypted now: re-sealed below to upstream's members.
  const kept = new Map<string, import('../vault/types.js').SecretRecord | null>();
  for (const path of mine.filter((p) => p.endsWith('.age'))) {
    const secret = path.slice(0, -'.age'.length);
    if (keep === 'theirs' && conflicts.includes(secret)) continue;
    const bytes = await show(repo, 'HEAD', path);
    kept.set(secret, bytes ? await vault.open(secret, bytes) : null);
  }
  await git(repo, ['reset', '--hard', '--quiet', upstream]);
  const team = await vault.document();
  for (const [secret, record] of kept) {
    if (record) await vault.seal(team, secret, record);
    else await rm(join(repo.dir, `${secret}.age`), { force: true });
  }
  await signedCommit(repo, `resolve ${conflicts.join(', ')}: keep ${keep}`, signer, [...kept.keys()].map((secret) => `${secret}.age`));
  return { resolved: conflicts };
}
