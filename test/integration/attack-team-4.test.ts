import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runMain, tempHome } from '../helpers/cli.js';
import { teamPeople } from '../helpers/team.js';
import { describeWith } from '../helpers/system.js';

/**
 * Fourth outside security review of team vaults (issue 13), against the version with the 36 holes
 * of attack-team*.test.ts fixed: resealAcross, restoringOnFailure, reseal's drop, resolve with a
 * pending member change, checkCheckout (KEYSMITH_TEAM_SINCE/ROOT), theirSecret, conflicts().
 * FIXED tests failed on that version (4 holes: a badly named file blocks removals and adds; a
 * resealAcross that fails once is skipped by the retry; a removal deletes a secret the others read;
 * team add deletes an untracked .age-recipients) and assert the correct behaviour; HOLDS tests passed then too.
 */
describeWith(['git', 'age', 'age-keygen', 'ssh-keygen'], 'attack 4: team vaults on git', () => {
  const { home: root, cleanup } = tempHome();
  afterAll(cleanup);
  const { acme, rewind, remote, env, pub, ks, ok, teamDir, gitIn: git, setup, signedCommit, record, seal, remoteDecrypt, remoteHas, remoteHead, freshClone, ciEnv } = teamPeople(root, ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory', 'ci'] as const);
  type Person = keyof typeof env;
  const gitIn = (dir: string, args: string[], p: Person = 'mallory', input?: string) => git(dir, args, p, input);

  let good = '';
  const clones = ['alice', 'bob', 'carol', 'dave'] as const;
  const restore = () => {
    rewind(good, clones);
    rmSync(teamDir('erin'), { recursive: true, force: true });
  };

  beforeAll(async () => {
    setup();
    await acme();
    await ok('alice', ['team', 'sync', 'acme']);
    for (const p of ['bob', 'carol', 'dave'] as const) await ok(p, ['team', 'sync', 'acme']);
    good = remoteHead();
  }, 120_000);
  beforeEach(() => restore());

  // ---------------------------------------------------------------------------------------------
  // FINDINGS
  // ---------------------------------------------------------------------------------------------

  /**
   * FINDING (high: a member makes herself unremovable, and blocks every team add/remove on her paths).
   * refusal() lets a member commit any `*.age` path under the folders she reads; reseal() then calls
   * vault.get(name), whose validateName throws a UsageError (ERR_VAULT_BAD_NAME) for a name such as
   * `prod/has space` — not one of the errors reseal's `drop` handles. bob (prod/ only) pushes a
   * signed `prod/has space.age` (a valid record, encrypted to every reader); every `team remove` of
   * a member who reads prod/ (bob himself included) now fails with exit 2, and so does `team add
   * --path prod/`. keysmith cannot delete the file either (`secret rm` validates the name too).
   * Correct: sync refuses a commit adding a file whose name is not a valid secret name (exit 4), or
   * the removal drops/reports it like any other file that is not a team secret; bob is removed.
   */
  it('FIXED: a member blocks her own removal with a secret file whose name is not a valid secret name', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'has space.age'), ['alice', 'bob', 'carol', 'ci', 'dave'], record('trap'));
    signedCommit(clone, 'bob', 'set prod/has space');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    const removed = sync.code === 0 ? await ks('alice', ['team', 'remove', 'acme', 'bob']) : sync;
    const team = JSON.parse(readFileSync(join(teamDir('alice'), '.keysmith-team.json'), 'utf8')) as { members: Record<string, unknown> };
    // Either the sync refused the commit (exit 4), or the removal went through.
    const outcome = sync.code === 4 ? 'refused at sync' : removed.code === 0 && !('bob' in team.members) ? 'removed' : `blocked (exit ${removed.code})`;
    expect(outcome, removed.stderr).toMatch(/^(refused at sync|removed)$/);
  });

  /**
   * FINDING (same root cause, medium): the badly named file also blocks every `team add` of a member
   * who reads prod/ (reseal without drop stops on it), and keysmith offers no way to remove it:
   * `secret rm` validates the name and refuses. Correct: the add succeeds (or the file can be removed).
   */
  it('FIXED: a badly named secret file blocks team add, and secret rm cannot remove it', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'has space.age'), ['alice', 'bob', 'carol', 'ci', 'dave'], record('trap'));
    signedCommit(clone, 'bob', 'set prod/has space');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    if (sync.code === 4) return; // refused at sync: the fix chosen
    const added = await ks('alice', ['team', 'add', 'acme', 'erin', pub('erin')]);
    const rm = added.code === 0 ? added : await ks('alice', ['secret', 'rm', '@acme/prod/has space']);
    expect({ added: added.code === 0 || rm.code === 0 }, `${added.stderr}\n${rm.stderr}`).toEqual({ added: true });
  });

  /**
   * FINDING (high: a removed member keeps reading a teammate's new secret). alice removes bob (prod/)
   * in her clone. Before she syncs, bob (still a member upstream) pushes prod/junk.age, a file that
   * decrypts but is not a record, and carol then sets prod/fresh (sealed to bob, a member for her).
   * alice's sync rebases her removal onto them; resealAcross must re-encrypt prod/fresh without bob,
   * but it stops at prod/junk (it catches NotFoundError/AuthError only, not ERR_VAULT_BAD_RECORD)
   * after the rebase and after refs/keysmith/checked moved. alice runs sync again: the merge base is
   * now upstream, so `base..upstream` is empty, resealAcross re-encrypts nothing, checkOwn passes and
   * the removal is pushed with prod/fresh still encrypted to bob. bob decrypts carol's value from
   * the remote after his removal; `team remove` never listed it as exposed.
   * Correct: resealAcross skips (or drops and reports) a file that is not a record as reseal does, or
   * the failed sync leaves the clone as it was (not rebased), so that a retry re-encrypts.
   */
  it('FIXED: a removed member\'s junk file makes resealAcross fail once; the retry pushes his removal without re-encrypting', async () => {
    await ok('alice', ['team', 'remove', 'acme', 'bob']);
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'junk.age'), ['alice', 'bob', 'carol', 'ci', 'dave'], 'not json at all');
    signedCommit(clone, 'bob', 'set prod/junk');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('carol', ['team', 'sync', 'acme']);
    await ok('carol', ['secret', 'set', '@acme/prod/fresh', '-'], 'carol-fresh-value');
    await ok('carol', ['team', 'sync', 'acme']);
    const first = await ks('alice', ['team', 'sync', 'acme']);
    const second = first.code === 0 ? first : await ks('alice', ['team', 'sync', 'acme']);
    const remoteTeam = JSON.parse(execFileSync('git', ['-C', remote, 'show', 'main:.keysmith-team.json'], { encoding: 'utf8' })) as { members: Record<string, unknown> };
    const bobRemovedUpstream = !('bob' in remoteTeam.members);
    const bobReads = remoteDecrypt('bob', 'prod/fresh.age')?.includes('carol-fresh-value') ?? false;
    expect({ bobRemovedUpstream, bobReadsAfterRemoval: bobRemovedUpstream && bobReads }, `${first.stderr}\n${second.stderr}`).toEqual({ bobRemovedUpstream: true, bobReadsAfterRemoval: false });
  });

  /**
   * FINDING (medium: sabotage attributed to another member, a secret the team and CI use deleted).
   * bob (prod/) re-seals alice's prod/db with the same value to every reader except alice (the
   * member who will run the next removal); nobody sees a change (every other member and CI read
   * the same value). When alice later removes carol (who reads prod/), reseal's `drop` deletes
   * prod/db in alice's signed commit ("not written for the team"), though bob, dave and CI open it.
   * The same works against one remover only with a header whose stanza for her wraps another
   * file key. Correct: a removal does not delete a file that other readers open / that a member
   * wrote in a checked commit: it re-encrypts what it can and stops (or keeps and reports) the rest.
   */
  it('FIXED: a path-limited member gets a secret everyone else reads deleted by the next removal', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'db.age'), ['bob', 'carol', 'ci', 'dave'], record('prod-db-original'));
    signedCommit(clone, 'bob', 'set prod/db');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    const ciBefore = remoteDecrypt('ci', 'prod/db.age')?.includes('prod-db-original') ?? false;
    const removed = await ks('alice', ['team', 'remove', 'acme', 'carol']);
    await ks('alice', ['team', 'sync', 'acme']);
    expect({ ciBefore, removed: removed.code, prodDbSurvives: remoteHas('prod/db.age') }, removed.stdout + removed.stderr).toEqual({ ciBefore: true, removed: 0, prodDbSurvives: true });
  });

  // ---------------------------------------------------------------------------------------------
  // HOLDS
  // ---------------------------------------------------------------------------------------------
  /**
   * FINDING (low-medium: data loss of a file keysmith never wrote, and a blocked change). writeDocument
   * removes every `.age-recipients` in the working tree that the member list does not imply,
   * untracked ones included, then commits the removal: alice keeps her own untracked
   * `personal/.age-recipients` (passage's format) in the clone; `team add` rm's it, `git add --all
   * -- personal/.age-recipients` fails (pathspec matches nothing), restoringOnFailure resets, and
   * the add fails. `reset --hard` cannot bring back an untracked file: it is gone.
   * README: "files of yours that git does not track are never shared, deleted or touched".
   * Correct: only tracked `.age-recipients` files are removed; the add succeeds and hers stays.
   */
  it('FIXED: team add deletes an untracked .age-recipients of the user, then fails', async () => {
    const mine = join(teamDir('alice'), 'personal', '.age-recipients');
    mkdirSync(join(mine, '..'), { recursive: true });
    writeFileSync(mine, `${pub('alice')}\n`);
    const added = await ks('alice', ['team', 'add', 'acme', 'erin', pub('erin')]);
    expect({ code: added.code, kept: existsSync(mine) }, added.stderr).toEqual({ code: 0, kept: true });
  });

  // ---------------------------------------------------------------------------------------------
  // HOLDS
  // ---------------------------------------------------------------------------------------------

  it('HOLDS: resolve --keep theirs with a pending removal resets to upstream; the removal made again reaches the remote', async () => {
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await ok('carol', ['secret', 'set', '@acme/db/password', '-'], 'carol-new');
    await ok('carol', ['team', 'sync', 'acme']);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code, sync.stderr).toBe(1);
    expect((await ks('alice', ['team', 'resolve', 'acme', '--keep', 'mine'])).code).toBe(2);
    await ok('alice', ['team', 'resolve', 'acme', '--keep', 'theirs']);
    expect(gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim()).toBe(remoteHead());
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await ok('alice', ['team', 'sync', 'acme']);
    expect(remoteDecrypt('dave', 'db/password.age')).toBeNull();
    expect(remoteDecrypt('erin', 'db/password.age')).toBeNull();
    expect(remoteDecrypt('alice', 'db/password.age')).toContain('carol-new');
  });

  it('HOLDS: concurrent member changes stop the sync (no textual merge of the list); nothing is pushed', async () => {
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await ok('carol', ['team', 'add', 'acme', 'erin', pub('erin')]);
    await ok('carol', ['team', 'sync', 'acme']);
    const before = remoteHead();
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code, sync.stderr).toBe(1);
    expect(remoteHead()).toBe(before);
  });

  it('HOLDS: a path-limited member\'s pending change cannot steer resealAcross: a teammate\'s secret keeps its readers', async () => {
    // bob (prod/) edits the member list in his clone (refused by checkOwn) while carol removes dave upstream.
    await ok('bob', ['secret', 'set', '@acme/prod/bobs', '-'], 'bobs-value');
    const team = JSON.parse(readFileSync(join(teamDir('bob'), '.keysmith-team.json'), 'utf8')) as { members: Record<string, { recipient: string; paths: string[] }> };
    team.members.mallory = { recipient: pub('mallory'), paths: [''] };
    writeFileSync(join(teamDir('bob'), '.keysmith-team.json'), `${JSON.stringify(team, null, 2)}\n`);
    signedCommit(teamDir('bob'), 'bob', 'widen');
    await ok('carol', ['team', 'remove', 'acme', 'dave']);
    await ok('carol', ['team', 'sync', 'acme']);
    const before = remoteHead();
    const sync = await ks('bob', ['team', 'sync', 'acme']);
    expect(sync.code).not.toBe(0);
    expect(remoteHead()).toBe(before);
    expect(remoteDecrypt('mallory', 'prod/db.age')).toBeNull();
  });

  it('HOLDS: CI with KEYSMITH_TEAM_SINCE naming a commit present in the checkout but not in HEAD\'s history is refused', async () => {
    const clone = freshClone('alice');
    gitIn(clone, ['checkout', '-qb', 'side'], 'alice');
    const side = signedCommit(clone, 'alice', 'side');
    gitIn(clone, ['checkout', '-q', 'main'], 'alice');
    const r = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(clone, { KEYSMITH_TEAM_SINCE: side.toUpperCase() }));
    expect(r.code).toBe(4);
    const okRead = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(clone, { KEYSMITH_TEAM_SINCE: good.toUpperCase() }));
    expect(okRead.stdout).toContain('prod-db-original');
  });
});
