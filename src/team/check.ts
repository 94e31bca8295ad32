import { AuthError } from '../errors.js';
import { commitSigner, commitsIn, git, show, type Repo } from './git.js';
import { allowedSigners, parseTeam, refusal, TEAM_FILE } from './team.js';

/** The upstream a clone follows, and the ref holding the last state of it keysmith checked. */
export const UPSTREAM = 'origin/main';
const CHECKED = 'refs/keysmith/checked';

/**
 * Checks the commits of `range` (limited to those touching `paths`, if given), oldest first,
 * against the member list before each: one not signed by a member, or changing what its signer
 * may not, is refused (AuthError naming it).
 */
export async function verify(repo: Repo, range: string, from: string, paths: string[] = []): Promise<void> {
  for (const commit of await commitsIn(repo, range, paths)) {
    const before = parseTeam(await show(repo, commit.parent ?? commit.id, TEAM_FILE), `commit ${commit.id.slice(0, 12)}`);
    const signer = await commitSigner(repo, commit.id, allowedSigners(before));
    const why = refusal(before, signer, commit.paths, commit.nonFiles);
    if (why) throw new AuthError(`refused commit ${commit.id.slice(0, 12)} from ${from}: ${why}; nothing of it was applied`, undefined, 'ERR_TEAM_UNVERIFIED');
  }
}

/**
 * Checks what upstream adds: it must contain the state last checked (a history rewritten from before
 * a member's removal would pass commit by commit, signed when they were a member), and each commit
 * it adds must pass `verify`. Then marks it checked.
 */
export async function checkUpstream(repo: Repo): Promise<void> {
  const checked = await lastChecked(repo);
  if (checked && (await git(repo, ['merge-base', checked, UPSTREAM], { allowFail: true })).trim() !== checked) {
    throw new AuthError(`refused ${UPSTREAM}: its history was rewritten (it no longer holds ${checked.slice(0, 12)}, the state last checked); nothing of it was applied`, undefined, 'ERR_TEAM_REWRITTEN');
  }
  await verify(repo, `HEAD..${UPSTREAM}`, UPSTREAM);
  await markChecked(repo, UPSTREAM);
}

const lastChecked = async (repo: Repo) => (await git(repo, ['rev-parse', '--verify', '--quiet', CHECKED], { allowFail: true })).trim() || null;

export const markChecked = (repo: Repo, commit: string) => git(repo, ['update-ref', CHECKED, commit]);
