import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runMain, tempHome } from '../helpers/cli.js';
import { teamPeople } from '../helpers/team.js';
import { describeWith } from '../helpers/system.js';

/**
 * Third outside security review of team vaults (issue 13, README "Team vaults"), against the version
 * with the 26 holes of attack-team.test.ts and attack-team-2.test.ts fixed.
 *
 * FIXED tests failed on that version (10 holes: member changes rebased across a teammate's new
 * secrets, untracked files re-encrypted, shared or deleted, a failed change undoing the user's own
 * edits, a pending removal that conflicted could not be resolved, CI trusting a history rewritten
 * by a removed member, files that are not records blocking a removal); they assert the correct
 * behaviour. HOLDS tests passed then too.
 */
describeWith(['git', 'age', 'age-keygen', 'ssh-keygen'], 'attack 3: team vaults on git', () => {
  const { home: root, cleanup } = tempHome();
  afterAll(cleanup);
  const { acme, rewind, remote, env, key, pub, ks, ok, teamDir, gitIn: git, setup, signedCommit, record, seal, decryptAs, remoteDecrypt, remoteHas, remoteHead, freshClone, ciEnv } = teamPeople(root, ['alice', 'bob', 'carol', 'dave', 'erin', 'mallory', 'ci'] as const);
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
   * FINDING (medium-high: a member reads nothing new, and a legitimate secret is deleted). dave adds
   * erin (reads everything) in his clone; before he syncs, carol sets db/new and pushes it (sealed
   * to the members she knew: no erin). dave's sync rebases his addition on top of carol's commit:
   * `base..upstream` did not touch the member list, so resealYours does not run, and the addition
   * re-encrypted only the secrets that existed when dave made it. The remote now holds db/new
   * encrypted to everyone but erin, a member who reads everything. When erin then removes any
   * reader of db/new (here dave), reseal's `drop` finds a file "your key does not open", deletes it
   * and commits the deletion: carol's legitimate secret is gone from the team (exit 0).
   * Correct: when your unpushed commits change the member list, the secrets upstream added or
   * changed since the merge base are re-encrypted to your list too (or the sync stops); and the
   * removal does not delete a file that the team's history shows a member wrote.
   */
  it('FIXED: a rebased `team add` misses a teammate\'s concurrent secret; the new member\'s removal later deletes it', async () => {
    await ok('dave', ['team', 'add', 'acme', 'erin', pub('erin')]);
    await ok('carol', ['secret', 'set', '@acme/db/new', '-'], 'carols-value');
    await ok('carol', ['team', 'sync', 'acme']);
    await ok('dave', ['team', 'sync', 'acme']);
    const erinReads = remoteDecrypt('erin', 'db/new.age')?.includes('carols-value') ?? false;
    await ok('erin', ['team', 'join', 'acme', `file://${remote}`]);
    const removed = await ks('erin', ['team', 'remove', 'acme', 'dave']);
    await ks('erin', ['team', 'sync', 'acme']);
    const survives = remoteHas('db/new.age');
    expect({ erinReads, survives }, removed.stdout + removed.stderr).toEqual({ erinReads: true, survives: true });
  });

  /**
   * FINDING (medium). The mirror image: alice removes dave in her clone; before she syncs, carol sets
   * db/fresh (sealed to dave, still a member for her) and pushes. alice's sync rebases the removal on
   * top: nothing re-encrypts db/fresh, so the remote's HEAD, after dave's removal, holds a secret
   * dave decrypts, and `team remove` never listed it as exposed (its --rotate never rotates it). A
   * removed member keeps reading every such value from the remote (removal from keysmith does not
   * revoke git read access).
   * Correct: sync re-encrypts upstream's new secrets to the member list of your unpushed removal
   * before pushing it (and reports them as exposed), or stops.
   */
  it('FIXED: a rebased `team remove` leaves a teammate\'s concurrent secret encrypted to the removed member', async () => {
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await ok('carol', ['secret', 'set', '@acme/db/fresh', '-'], 'carol-fresh');
    await ok('carol', ['team', 'sync', 'acme']);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    const daveReads = remoteDecrypt('dave', 'db/fresh.age')?.includes('carol-fresh') ?? false;
    expect({ sync: sync.code, daveReads }, sync.stderr).toEqual({ sync: 0, daveReads: false });
  });

  /**
   * FINDING (medium, data loss of a file keysmith did not write). reseal() enumerates secrets from
   * the WORKING TREE (secretNames), untracked files included. alice keeps an age file in her clone
   * that is not for the team (a backup encrypted to another key). `team remove` cannot open it,
   * `drop`s it: rm's the untracked file, then `git add --all -- archive.age` fails (pathspec matches
   * nothing), restoringOnFailure resets, and the removal fails. The untracked file is gone for good
   * (it was never in git), and dave cannot be removed until alice finds out why.
   * Correct: reseal works on the secrets of HEAD (git ls-files), never touches untracked files, and
   * the removal succeeds leaving archive.age where it was.
   */
  it('FIXED: team remove deletes an untracked .age file it cannot open, then fails', async () => {
    const archive = join(teamDir('alice'), 'archive.age');
    seal(archive, ['mallory'], 'not a team secret: an unrelated backup');
    const removed = await ks('alice', ['team', 'remove', 'acme', 'dave']);
    expect({ code: removed.code, archiveKept: existsSync(archive) }, removed.stderr).toEqual({ code: 0, archiveKept: true });
  });

  /**
   * FINDING (medium, leak). Same root cause: an untracked age file in the clone that alice's key
   * opens — her own file, encrypted to her key only (`age -r "$(cat ~/.ssh/id_ed25519.pub)"`) — is
   * re-encrypted to every member and committed by `team add` (then pushed by sync). README: "keysmith
   * commits only the files it wrote"; a file she never gave keysmith becomes readable by the team.
   * Correct: only tracked secrets are re-encrypted and committed; untracked files stay untouched.
   */
  it('FIXED: team add re-encrypts an untracked private age file to the whole team and commits it', async () => {
    const mine = join(teamDir('alice'), 'personal', 'notes.age');
    seal(mine, ['alice'], record('alice-private-notes'));
    await ok('alice', ['team', 'add', 'acme', 'erin', pub('erin')]);
    const committed = gitIn(teamDir('alice'), ['ls-tree', '-r', '--name-only', 'HEAD'], 'alice').split('\n').includes('personal/notes.age');
    const carolReads = decryptAs('carol', mine)?.includes('alice-private-notes') ?? false;
    expect({ committed, carolReads }).toEqual({ committed: false, carolReads: false });
  });

  /**
   * FINDING (low-medium, loss of the user's work). README: "`age -R .age-recipients` writes one
   * keysmith reads", and `secret get` reads the working tree: alice writes a new value of db/password
   * with age (not committed yet). A `team add` that fails (here on a file bob planted under prod/,
   * sealed to himself only) runs `git reset --hard HEAD`: alice's uncommitted value is silently
   * thrown away, although the add never touched db/password.
   * Correct: a failed change restores only the files it wrote (or refuses to start on a clone with
   * uncommitted changes to tracked files); anything else in the tree stays as it was.
   */
  it('FIXED: a failed team add reverts the user\'s own uncommitted edit of another secret', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'trap.age'), ['bob'], record('only-bob'));
    signedCommit(clone, 'bob', 'set prod/trap');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    const dir = teamDir('alice');
    execFileSync('age', ['-R', join(dir, '.age-recipients'), '-o', join(dir, 'db', 'password.age')], { input: record('alice-new-uncommitted') });
    expect((await ok('alice', ['secret', 'get', '@acme/db/password'])).stdout).toBe('alice-new-uncommitted');
    expect((await ks('alice', ['team', 'add', 'acme', 'erin', pub('erin'), '--path', 'prod/'])).code).not.toBe(0);
    const after = await ks('alice', ['secret', 'get', '@acme/db/password']);
    expect(after.stdout).toBe('alice-new-uncommitted');
  });

  /**
   * FINDING (low, loss of the user's file). Same `git reset --hard HEAD`: a file the user staged in
   * the clone (`git add notes.txt`; keysmith would never commit it) is in the index but not in HEAD,
   * so the reset of a failed `team add` deletes it from disk. README: a plaintext left in the clone
   * is never committed — nor should keysmith delete it.
   * Correct: the restore touches only the paths the change wrote.
   */
  it('FIXED: a failed team add deletes a file the user had staged in the clone', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'trap.age'), ['bob'], record('only-bob'));
    signedCommit(clone, 'bob', 'set prod/trap');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    const notes = join(teamDir('alice'), 'notes.txt');
    writeFileSync(notes, 'alice-notes-not-in-git');
    gitIn(teamDir('alice'), ['add', 'notes.txt'], 'alice');
    expect((await ks('alice', ['team', 'add', 'acme', 'erin', pub('erin'), '--path', 'prod/'])).code).not.toBe(0);
    expect(existsSync(notes)).toBe(true);
  });

  /**
   * FINDING (medium, availability: a removal cannot be completed). A member change re-encrypts every
   * secret under the paths it affects, so it conflicts with any concurrent edit of one of them.
   * alice removes dave in her clone while carol changes db/password (or adds frank) and pushes:
   * alice's sync stops on a conflict (exit 1) and advises resolve. `team resolve --keep mine` is
   * refused ("the member list changed on both sides: keep theirs, then make your member change
   * again"), and so is `--keep theirs`: resolveTeam checks for TEAM_FILE in your commits whatever
   * `keep` is (and in the first case the member list did not even change upstream). keysmith has no
   * way out; alice must reset her clone by hand, and meanwhile dave stays a member (every new
   * secret is still sealed to him).
   * Correct: `--keep theirs` drops the unpushed member change (as the message says) and succeeds;
   * better, a member change pending under a plain secret edit is redone on top of upstream
   * (re-encrypting upstream's values), since the secret itself was not edited on both sides.
   */
  it.each([
    ['carol edits db/password', async () => { await ok('carol', ['secret', 'set', '@acme/db/password', '-'], 'carol-edit'); }],
    ['carol adds frank', async () => { await ok('carol', ['team', 'add', 'acme', 'frank', pub('mallory'), '--path', 'prod/']); }],
  ])('FIXED: a pending team remove that conflicts (%s) cannot be resolved either way', async (_what, concurrent) => {
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await concurrent();
    await ok('carol', ['team', 'sync', 'acme']);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code, sync.stderr).toBe(1);
    const resolved = await ks('alice', ['team', 'resolve', 'acme', '--keep', 'theirs']);
    expect(resolved.code, resolved.stderr).toBe(0);
    expect((await ks('alice', ['team', 'sync', 'acme'])).code).toBe(0);
  });

  /**
   * FINDING (medium, CI; design). CI keeps no state: it checks each commit against the member list
   * of its parent, back to the root, but cannot tell a history rewritten from before a removal.
   * dave is removed; with the push access he still has (or anyone's, replaying old signed history)
   * he force-pushes main = (a commit before his removal) + (his signed commit setting prod/db). Every
   * member's sync refuses it as a rewrite (refs/keysmith/checked), but a CI job checking out main
   * reads dave's value with its key, exit 0. README: "one by a member removed before it is refused".
   * Correct: CI refuses a checkout that does not contain a state it was told to trust (e.g. a
   * KEYSMITH_TEAM_CHECKED / signed-tag anchor it must descend from), or the README states plainly
   * that CI trusts whatever history the remote serves back to the root.
   */
  it('FIXED: CI reads a value planted by a removed member through a force-pushed pre-removal history', async () => {
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await ok('alice', ['team', 'sync', 'acme']);
    const clone = freshClone('dave');
    gitIn(clone, ['reset', '-q', '--hard', good], 'dave');
    seal(join(clone, 'prod', 'db.age'), ['alice', 'bob', 'carol', 'ci', 'dave'], record('planted-by-removed-dave'));
    signedCommit(clone, 'dave', 'set prod/db');
    gitIn(clone, ['push', '-qf', 'origin', 'HEAD:main'], 'dave');
    // alice, who saw the removal, refuses it as a rewrite (a clone that last synced before the removal
    // cannot tell, and takes it: inherent to trust on first use, not counted as a finding).
    expect((await ks('alice', ['team', 'sync', 'acme'])).code).toBe(4);
    // A CI checkout has no state of its own to compare with: KEYSMITH_TEAM_SINCE gives it one (here
    // the removal, as team status shows it to alice); without it CI trusts the history back to the
    // first commit (README: protect the branch against force pushes).
    const since = gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim();
    const got = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(freshClone('ci'), { KEYSMITH_TEAM_SINCE: since }));
    expect(got.stdout).not.toBe('planted-by-removed-dave');
    expect(got.code).toBe(4);
    expect(got.stderr).toContain('KEYSMITH_TEAM_SINCE');
  });

  /**
   * FINDING (low-medium, availability; the attack-2 "unremovable member" fix is incomplete). The
   * removal's `drop` catches only AuthError (a file the remover's key does not open). bob (prod/
   * only) commits prod/junk.age sealed to every reader of prod/ — a valid, signed commit in his
   * paths — whose plaintext is not a keysmith record (or a file that is not age at all). alice's
   * `team remove acme bob` decrypts it, gets ERR_VAULT_BAD_RECORD / a parse error, and the whole
   * removal stops: bob cannot be removed with keysmith (nor anyone reading prod/ added) until
   * someone deletes the file by hand.
   * Correct: a removal goes through; a secret that is not a readable keysmith record is dropped and
   * reported like an unreadable one (or kept as is and reported), never blocking the removal.
   */
  it.each([
    ['decrypts to something that is not a record', (file: string) => seal(file, ['alice', 'bob', 'carol', 'ci', 'dave'], 'not json at all')],
    ['is not an age file', (file: string) => writeFileSync(file, 'garbage, not age\n')],
  ])('FIXED: a path-limited member blocks his own removal with a file that %s', async (_what, plant) => {
    const clone = freshClone('bob');
    plant(join(clone, 'prod', 'junk.age'));
    signedCommit(clone, 'bob', 'set prod/junk');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    const removed = await ks('alice', ['team', 'remove', 'acme', 'bob']);
    const team = JSON.parse(readFileSync(join(teamDir('alice'), '.keysmith-team.json'), 'utf8')) as { members: Record<string, unknown> };
    expect({ code: removed.code, bobGone: !('bob' in team.members) }, removed.stderr).toEqual({ code: 0, bobGone: true });
  });

  // ---------------------------------------------------------------------------------------------
  // HOLDS
  // ---------------------------------------------------------------------------------------------

  it('HOLDS: a failed team add leaves untracked plaintext files in the clone', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'trap.age'), ['bob'], record('only-bob'));
    signedCommit(clone, 'bob', 'set prod/trap');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    const notes = join(teamDir('alice'), 'prod', 'notes.txt');
    writeFileSync(notes, 'plaintext-notes');
    expect((await ks('alice', ['team', 'add', 'acme', 'erin', pub('erin'), '--path', 'prod/'])).code).not.toBe(0);
    expect(readFileSync(notes, 'utf8')).toBe('plaintext-notes');
    expect(gitIn(teamDir('alice'), ['status', '--porcelain'], 'alice')).toBe('?? prod/notes.txt\n');
  });

  it('HOLDS: CI on a detached HEAD at an unsigned commit changing the secret is refused', async () => {
    const checkout = freshClone('ci');
    seal(join(checkout, 'prod', 'db.age'), ['ci'], record('detached-plant'));
    gitIn(checkout, ['add', '-A'], 'ci');
    gitIn(checkout, ['commit', '-qm', 'plant'], 'ci');
    gitIn(checkout, ['checkout', '-q', '--detach', 'HEAD'], 'ci');
    const got = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(checkout));
    expect({ code: got.code, planted: got.stdout === 'detached-plant' }).toEqual({ code: 4, planted: false });
  });

  it('HOLDS: CI on a detached HEAD at an unsigned commit that only adds another file reads the checked value', async () => {
    const checkout = freshClone('ci');
    seal(join(checkout, 'prod', 'other.age'), ['ci'], record('other'));
    gitIn(checkout, ['add', '-A'], 'ci');
    gitIn(checkout, ['commit', '-qm', 'other'], 'ci');
    gitIn(checkout, ['checkout', '-q', '--detach', 'HEAD'], 'ci');
    expect((await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(checkout))).stdout).toBe('prod-db-original');
    expect((await runMain(['secret', 'get', '@acme/prod/other'], ciEnv(checkout))).code).toBe(4);
  });

  /**
   * .git/keysmith.json (the key path and member name) is written by keysmith at create/join, never
   * taken from the remote (a clone does not carry .git, and a commit adding anything but secrets
   * is refused), absolute, and in a folder other local users cannot enter.
   */
  it('HOLDS: .git/keysmith.json is local, absolute and private', async () => {
    const settingsFile = join(teamDir('bob'), '.git', 'keysmith.json');
    const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as { key: string; member?: string };
    expect(settings).toEqual({ key: key('bob'), member: 'bob' });
    expect(statSync(join(root, 'bob', 'ks', 'teams')).mode & 0o077).toBe(0);
    expect(statSync(settingsFile).mode & 0o022).toBe(0);
    // A commit planting a .git/ path or a keysmith.json anywhere is refused by git or by the checks.
    const clone = freshClone('bob');
    writeFileSync(join(clone, 'keysmith.json'), JSON.stringify({ key: '/tmp/evil', member: 'alice' }));
    signedCommit(clone, 'bob', 'plant settings');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    expect((await ks('alice', ['team', 'sync', 'acme'])).code).toBe(4);
  });
});
