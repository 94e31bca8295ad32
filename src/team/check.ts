import { AuthError, UsageError } from '../errors.js';
import { commitSigner, commitsIn, git, show, type Repo } from './git.js';
import { allowedSigners, parseTeam, RECIPIENTS_FILE, refusal, TEAM_FILE, type TeamDocument } from './team.js';

/** The upstream a clone follows, and the ref holding the last state of it keysmith checked. */
export const UPSTREAM = 'origin/main';
const CHECKED = 'refs/keysmith/checked';

const refuse = (what: string, why: string) =>
  new AuthError(`refused ${what}: ${why}; nothing of it was applied`, undefined, 'ERR_TEAM_UNVERIFIED');

/**
 * Checks the commits of `range` (limited to those touching `paths`, if given), oldest first. A team
 * vault's history is a line from one first commit (`root`, taken on trust): a merge, or another
 * commit without a parent, is refused. Each commit is checked against the member list before it
 * (`refusal`), and one that changes the list must leave a valid one, with the `.age-recipients`
 * files it implies.
 */
export async function verify(repo: Repo, range: string, from: string, options: { paths?: string[]; root?: string } = {}): Promise<void> {
  for (const commit of await commitsIn(repo, range, options.paths)) {
    const what = `commit ${commit.id.slice(0, 12)} from ${from}`;
    if (commit.merge) throw refuse(what, 'it is a merge (a team vault\'s history is a line)');
    if (commit.parent === null && commit.id !== options.root) throw refuse(what, 'it starts a history of its own');
    const before = parseTeam(await show(repo, commit.parent ?? commit.id, TEAM_FILE), what);
    const signer = await commitSigner(repo, commit.id, allowedSigners(before));
    let after: TeamDocument | null = before;
    if (commit.paths.includes(TEAM_FILE)) {
      try {
        after = parseTeam(await show(repo, commit.id, TEAM_FILE), what);
      } catch {
        after = null;
      }
    }
    const recipients = new Map<string, string | null>();
    for (const path of commit.paths.filter((p) => p === RECIPIENTS_FILE || p.endsWith(`/${RECIPIENTS_FILE}`))) {
      recipients.set(path, (await show(repo, commit.id, path))?.toString('utf8') ?? null);
    }
    const why = refusal(before, signer, commit, after, recipients);
    if (why) throw refuse(what, why);
  }
}

/**
 * Checks what upstream adds: it must contain the state last checked (a history rewritten from before
 * a member's removal would pass commit by commit, signed when they were a member), and each commit
 * it adds must pass `verify`. Then marks it checked.
 */
export async function checkUpstream(repo: Repo): Promise<string> {
  // One commit id from here on: a fetch landing between the checks and their use must change nothing.
  const upstream = (await git(repo, ['rev-parse', '--verify', `${UPSTREAM}^{commit}`])).trim();
  const checked = await lastChecked(repo);
  if (checked && (await git(repo, ['merge-base', checked, upstream], { allowFail: true })).trim() !== checked) {
    throw refuse(UPSTREAM, `its history was rewritten (it no longer holds ${checked.slice(0, 12)}, the state last checked)`);
  }
  await verify(repo, `HEAD..${upstream}`, UPSTREAM);
  await markChecked(repo, upstream);
  return upstream;
}

/** Checks your own commits not yet pushed, as the others will check them: a member removed or narrowed since cannot push them. */
export async function checkOwn(repo: Repo, upstream: string): Promise<void> {
  await verify(repo, `${upstream}..HEAD`, 'your unpushed changes');
}

/**
 * Checks a checkout keysmith did not sync (CI) before reading `secret` from it: the whole history
 * (not a shallow clone), one first commit (`pinned`, KEYSMITH_TEAM_ROOT, if given), and every
 * commit that touched the secret or the member list.
 */
export async function checkCheckout(repo: Repo, secret: string, pinned?: string, since?: string): Promise<void> {
  const where = `the checkout ${repo.dir}`;
  // A state known good (KEYSMITH_TEAM_SINCE: say, a member's removal) the checkout must hold: a
  // history rewritten from before it, signed while its signer still was a member, is refused.
  if (since) {
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(since)) throw new UsageError('KEYSMITH_TEAM_SINCE must be a full commit id (40 or 64 hex digits)', undefined, 'ERR_TEAM_BAD_ROOT');
    if ((await git(repo, ['merge-base', since, 'HEAD'], { allowFail: true })).trim() !== since.toLowerCase()) {
      throw refuse(where, `it does not hold ${since.slice(0, 12)} (KEYSMITH_TEAM_SINCE): its history was rewritten`);
    }
  }
  if ((await git(repo, ['rev-parse', '--is-shallow-repository'])).trim() === 'true') {
    throw new AuthError(`${where} is shallow: its history cannot be checked`, { hint: 'check out the whole history (git fetch --unshallow; actions/checkout: fetch-depth: 0)' }, 'ERR_TEAM_SHALLOW');
  }
  const root = await firstCommit(repo, where, pinned);
  const merge = (await git(repo, ['rev-list', '--min-parents=2', '--max-count=1', 'HEAD'])).trim();
  if (merge) throw refuse(where, `its history has a merge (${merge.slice(0, 12)}); a team vault's history is a line`);
  await verify(repo, 'HEAD', where, { paths: [`${secret}.age`, TEAM_FILE], root });
}

/**
 * The first commit of HEAD's history: the one the member list starts from, taken on trust unless
 * `pinned` (its full id: a short prefix can be matched by a commit made to order) says which.
 */
export async function firstCommit(repo: Repo, where: string, pinned?: string): Promise<string> {
  const roots = (await git(repo, ['rev-list', '--max-parents=0', 'HEAD'])).trim().split('\n');
  if (roots.length !== 1) throw refuse(where, 'its history has more than one first commit');
  if (pinned !== undefined && pinned !== '') {
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/i.test(pinned)) throw new UsageError('the pinned first commit must be its full id (40 or 64 hex digits)', undefined, 'ERR_TEAM_BAD_ROOT');
    if (roots[0] !== pinned.toLowerCase()) throw refuse(where, `its first commit is ${roots[0]!.slice(0, 12)}, not the pinned ${pinned.slice(0, 12)}`);
  }
  return roots[0]!;
}

export const lastChecked = async (repo: Repo) => (await git(repo, ['rev-parse', '--verify', '--quiet', CHECKED], { allowFail: true })).trim() || null;

export const markChecked = (repo: Repo, commit: string) => git(repo, ['update-ref', CHECKED, commit]);
