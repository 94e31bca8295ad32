import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runMain, tempHome } from '../helpers/cli.js';
import { teamPeople } from '../helpers/team.js';
import { describeWith } from '../helpers/system.js';

/**
 * Outside security review of team vaults (issue 13, README "Team vaults"): attacks by an insider
 * with push access to the remote (mallory, not a member), a path-restricted member (bob, prod/ only),
 * a removed member (dave) and against a CI checkout (ci, prod/ only).
 *
 * Tests marked FIXED failed when this review was made (12 holes: a new root merged in as first
 * parent, merges from before a removal, path-limited members changing the member list or the
 * .age-recipients files, a deleted or damaged member list, shallow and merged CI checkouts, a
 * decrypted value in an error, `..` in names, Object.prototype member names, stray files committed);
 * they assert what the README promises. Tests marked HOLDS passed then too.
 *
 * The README claim under attack: "`team join` and `team sync` check each incoming commit against the
 * member list of its parent: one not signed by a member, one changing files outside the signer's
 * paths, or one by a member removed before it is refused (exit 4, naming the commit) and nothing of
 * it is applied. This is what a plain git + age store lacks: anyone with push access could add
 * themselves or plant a value."
 */
describeWith(['git', 'age', 'age-keygen', 'ssh-keygen'], 'attack: team vaults on git', () => {
  const { home: root, cleanup } = tempHome();
  afterAll(cleanup);
  const { acme, rewind, remote, env, key, pub, ks, ok, teamDir, gitIn: git, setup, signing, signedCommit, record, seal, decryptAs, remoteHead, freshClone, readTeam } = teamPeople(root, ['alice', 'bob', 'carol', 'dave', 'mallory', 'ci'] as const);
  type Person = keyof typeof env;
  const gitIn = (dir: string, args: string[], p: Person = 'mallory', input?: string) => git(dir, args, p, input);
  /** `git commit-tree -S` with chosen parents: merges and roots of the attacker's choosing. */
  const commitTree = (dir: string, p: Person, tree: string, parents: string[], msg: string) =>
    gitIn(dir, [...signing(p), 'commit-tree', '-S', ...parents.flatMap((x) => ['-p', x]), '-m', msg, tree], p).trim();

  /** The last good state: remote main, and alice's clone (the victim of most attacks) at it. */
  let good = '';
  let beforeDaveRemoved = '';
  const restore = () => {
    rewind(good, ['alice']);
  };

  beforeAll(async () => {
    setup();
    await acme();
    await ok('alice', ['team', 'sync', 'acme']);
    beforeDaveRemoved = remoteHead();
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await ok('alice', ['secret', 'set', '@acme/db/password', '-'], 'root-db-after-dave');
    await ok('alice', ['team', 'sync', 'acme']);
    for (const p of ['bob', 'carol'] as const) await ok(p, ['team', 'sync', 'acme']);
    good = remoteHead();
  });
  beforeEach(() => restore());

  // ---------------------------------------------------------------------------------------------
  // VULNERABILITIES
  // ---------------------------------------------------------------------------------------------

  /**
   * VULNERABILITY (critical). Attack: mallory has push access but is no member. She makes a ROOT
   * commit R (no parent) whose .keysmith-team.json lists her as a member reading everything and
   * whose prod/db.age holds a planted value, signed with her own key; then a merge X with FIRST
   * parent R and second parent the real main, signed by her, and pushes X (a fast-forward: main is
   * an ancestor). verify() checks a root commit against its OWN member list (`commit.parent ??
   * commit.id`) and a merge against its FIRST parent's list: both are hers, both pass. The
   * rewrite check passes too (the checked commit is reachable through the second parent).
   * Impact: anyone with push access adds themselves to the team and plants values; every secret a
   * member sets afterwards is encrypted to the attacker. This is exactly what the README says
   * keysmith prevents ("anyone with push access could add themselves or plant a value").
   * Correct: a commit in the range with no parent in the already-checked history (a new root) is
   * refused, and a merge is checked against the list of the checked side / every parent (or merges
   * are refused outright: keysmith itself never makes one).
   */
  it('FIXED: a non-member adds herself via a new root commit merged in as first parent (sync must refuse, exit 4)', async () => {
    const clone = freshClone('mallory');
    const team = readTeam(clone);
    team.members.mallory = { recipient: pub('mallory'), paths: [''] };
    writeFileSync(join(clone, '.keysmith-team.json'), `${JSON.stringify(team, null, 2)}\n`);
    seal(join(clone, 'prod', 'db.age'), ['alice', 'bob', 'ci', 'mallory'], record('planted-by-mallory'));
    gitIn(clone, ['add', '-A']);
    const tree = gitIn(clone, ['write-tree']).trim();
    const rootCommit = commitTree(clone, 'mallory', tree, [], 'team acme');
    const merge = commitTree(clone, 'mallory', tree, [rootCommit, good], 'merge');
    gitIn(clone, ['push', '-q', 'origin', `${merge}:refs/heads/main`]);

    const sync = await ks('alice', ['team', 'sync', 'acme']);
    const got = await ks('alice', ['secret', 'get', '@acme/prod/db']);
    const members = Object.keys(readTeam(teamDir('alice')).members);
    // Show the consequence before asserting: a value alice sets now is readable by mallory.
    await ks('alice', ['secret', 'set', '@acme/new/after', '-'], 'alice-new-value');
    const leaked = existsSync(join(teamDir('alice'), 'new', 'after.age')) ? decryptAs('mallory', join(teamDir('alice'), 'new', 'after.age')) : null;
    expect({ code: sync.code, value: got.stdout, members, mallorySees: leaked?.includes('alice-new-value') ?? false }).toEqual({
      code: 4,
      value: 'prod-db-original',
      members: expect.not.arrayContaining(['mallory']),
      mallorySees: false,
    });
  });

  /**
   * VULNERABILITY (high). Attack: dave was removed (commit "remove dave"). With push access kept
   * (it is rarely revoked at the same moment), he signs a merge whose FIRST parent is the commit
   * just before his removal — where he still is a member reading everything — and whose second
   * parent is the current main, with a tree of his choosing (here: he plants db/password and
   * re-adds himself). The merge is checked against the member list of its first parent (he is in
   * it); its diff against that parent may touch anything he read then.
   * Impact: "removed members ... neither get commits accepted" does not hold; a removed member
   * re-adds himself and plants values.
   * Correct: refused (exit 4), as "one by a member removed before it is refused".
   */
  it('FIXED: a removed member gets a commit accepted through a merge whose first parent predates his removal', async () => {
    const clone = freshClone('dave');
    const team = readTeam(clone);
    team.members.dave = { recipient: pub('dave'), paths: [''] };
    writeFileSync(join(clone, '.keysmith-team.json'), `${JSON.stringify(team, null, 2)}\n`);
    seal(join(clone, 'db', 'password.age'), ['alice', 'carol', 'dave'], record('planted-by-dave'));
    gitIn(clone, ['add', '-A'], 'dave');
    const tree = gitIn(clone, ['write-tree'], 'dave').trim();
    const merge = commitTree(clone, 'dave', tree, [beforeDaveRemoved, good], 'merge');
    gitIn(clone, ['push', '-q', 'origin', `${merge}:refs/heads/main`], 'dave');

    const sync = await ks('alice', ['team', 'sync', 'acme']);
    const got = await ks('alice', ['secret', 'get', '@acme/db/password']);
    expect({ code: sync.code, value: got.stdout, daveBack: 'dave' in readTeam(teamDir('alice')).members }).toEqual({ code: 4, value: 'root-db-after-dave', daveBack: false });
  });

  /**
   * VULNERABILITY (high). Attack: bob is a member limited to prod/. refusal() lets ANY writer change
   * .keysmith-team.json (`if (path === TEAM_FILE ...) continue`), whatever their paths. bob signs a
   * commit giving himself paths [''] (and could add a second key of his, or swap another member's
   * recipient for his own key, or remove the others).
   * Impact: a path-restricted member escalates to reading every secret written afterwards (alice's
   * next `secret set` anywhere is encrypted to bob) and to writing outside prod/ in his next commit.
   * Correct: a change of the member list is refused unless signed by a member who reads everything
   * (or at least: nobody may widen paths beyond their own, nor touch others' entries), exit 4.
   */
  it('FIXED: a member limited to prod/ widens his own paths in .keysmith-team.json (must be refused)', async () => {
    const clone = freshClone('bob');
    const team = readTeam(clone);
    team.members.bob!.paths = [''];
    writeFileSync(join(clone, '.keysmith-team.json'), `${JSON.stringify(team, null, 2)}\n`);
    signedCommit(clone, 'bob', 'widen bob');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');

    const sync = await ks('alice', ['team', 'sync', 'acme']);
    await ks('alice', ['secret', 'set', '@acme/db/after-bob', '-'], 'only-full-members-should-read');
    const file = join(teamDir('alice'), 'db', 'after-bob.age');
    const bobReads = existsSync(file) ? decryptAs('bob', file) : null;
    expect({ code: sync.code, bobReads }).toEqual({ code: 4, bobReads: null });
  });

  /**
   * VULNERABILITY (medium). Attack: bob (prod/ only) rewrites the TOP-LEVEL .age-recipients to add
   * mallory's key. refusal() accepts any path ending in ".age-recipients" from any writer, and
   * nothing checks that the file still matches .keysmith-team.json. keysmith itself never encrypts
   * from it, but the README presents these files as the interop contract ("as passage reads them",
   * "`age -R .age-recipients` writes one keysmith reads").
   * Impact: every secret a teammate writes with passage / `age -R .age-recipients` is readable by
   * an outsider; the tampered file stays (keysmith rewrites it only on the next add/remove).
   * Correct: a commit whose .age-recipients files differ from what its .keysmith-team.json implies
   * (recipientFiles) is refused, or at least one touching a folder outside the signer's paths.
   */
  it('FIXED: a member limited to prod/ adds an outsider to the top .age-recipients (must be refused)', async () => {
    const clone = freshClone('bob');
    writeFileSync(join(clone, '.age-recipients'), `${readFileSync(join(clone, '.age-recipients'), 'utf8')}# mallory\n${pub('mallory')}\n`);
    signedCommit(clone, 'bob', 'recipients');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect(readFileSync(join(teamDir('alice'), '.age-recipients'), 'utf8')).not.toContain(pub('mallory').split(' ')[1]);
  });

  /**
   * VULNERABILITY (medium, denial of service). Attack: bob (prod/ only) deletes .keysmith-team.json,
   * or replaces it with one that does not parse (here a `__proto__` member). The check looks only at
   * the list BEFORE a commit, never validates the list a commit leaves, so the commit is accepted.
   * Impact: alice's vault is gone after sync ("no team vault named acme"), and every later commit on
   * the remote fails verification (its parent has no valid list): the team is bricked for everyone
   * until the remote is rewritten by hand — by the least-privileged member.
   * Correct: a commit that leaves no valid member list is refused (exit 4), nothing applied.
   */
  it.each([
    ['deletes .keysmith-team.json', (dir: string) => rmSync(join(dir, '.keysmith-team.json'))],
    ['writes a .keysmith-team.json with a __proto__ member', (dir: string) => {
      const text = readFileSync(join(dir, '.keysmith-team.json'), 'utf8').replace('"members": {', `"members": {"__proto__": {"recipient": ${JSON.stringify(pub('bob'))}, "paths": [""]},`);
      writeFileSync(join(dir, '.keysmith-team.json'), text);
    }],
  ])('FIXED: a member limited to prod/ %s and bricks the team (must be refused)', async (_what, tamper) => {
    const clone = freshClone('bob');
    tamper(clone);
    signedCommit(clone, 'bob', 'tamper');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code, sync.stderr).toBe(4);
    expect((await ks('alice', ['secret', 'get', '@acme/db/password'])).stdout).toBe('root-db-after-dave');
  });

  /**
   * VULNERABILITY (critical for CI). Attack: mallory (push access, no member) pushes ONE ordinary
   * commit on top of main whose .keysmith-team.json adds her, with prod/db.age planted (encrypted to
   * ci's public key), signed by her own key. A synced clone refuses it. But CI systems check out
   * shallow by default (actions/checkout: fetch-depth 1): git reports the shallow commit with no
   * parent, so verify() checks it against its OWN member list (`commit.parent ?? commit.id`), which
   * lists mallory. CI reads the planted value (a database URL, a deploy token) and uses it.
   * Impact: "CI checkouts checked per read" gives no protection on a shallow checkout: anyone with
   * push access feeds CI chosen values.
   * Correct: a shallow checkout is refused (`git rev-parse --is-shallow-repository`), or the history
   * is anchored (a pinned root commit / a pinned first member list, e.g. KEYSMITH_TEAM_ROOT).
   */
  it('FIXED: CI on a shallow checkout (depth 1) reads a value planted by a non-member', async () => {
    const clone = freshClone('mallory');
    const team = readTeam(clone);
    team.members.mallory = { recipient: pub('mallory'), paths: [''] };
    writeFileSync(join(clone, '.keysmith-team.json'), `${JSON.stringify(team, null, 2)}\n`);
    seal(join(clone, 'prod', 'db.age'), ['ci', 'mallory'], record('planted-for-ci'));
    signedCommit(clone, 'mallory', 'rotate prod db');
    gitIn(clone, ['push', '-q', 'origin', 'main']);
    // A synced member refuses it …
    expect((await ks('alice', ['team', 'sync', 'acme'])).code).toBe(4);
    // … a shallow CI checkout does not.
    const checkout = freshClone('ci', ['--depth', '1']);
    const ci = { ...env.ci, KEYSMITH_TEAM_DIR: checkout, KEYSMITH_TEAM_KEY: readFileSync(key('ci'), 'utf8') };
    const got = await runMain(['secret', 'get', '@acme/prod/db'], ci);
    expect({ code: got.code, stdout: got.stdout }).toEqual({ code: 4, stdout: '' });
  });

  /**
   * VULNERABILITY (critical for CI). Same as the first test, against a full CI checkout: a root
   * commit of mallory's own, merged in as the first parent. CI has no checked state to compare with,
   * and every commit touching prod/db.age and the member list passes (root: its own list; merge:
   * its first parent's).
   * Correct: refused (exit 4); a CI checkout needs an anchor (expected root commit or the first
   * member list) and merges/new roots must be checked against the verified side.
   */
  it('FIXED: CI on a full checkout reads a value planted through a new root merged as first parent', async () => {
    const clone = freshClone('mallory');
    const team = readTeam(clone);
    team.members.mallory = { recipient: pub('mallory'), paths: [''] };
    writeFileSync(join(clone, '.keysmith-team.json'), `${JSON.stringify(team, null, 2)}\n`);
    seal(join(clone, 'prod', 'db.age'), ['ci', 'mallory'], record('planted-for-ci'));
    gitIn(clone, ['add', '-A']);
    const tree = gitIn(clone, ['write-tree']).trim();
    const rootCommit = commitTree(clone, 'mallory', tree, [], 'team acme');
    const merge = commitTree(clone, 'mallory', tree, [rootCommit, good], 'merge');
    gitIn(clone, ['push', '-q', 'origin', `${merge}:refs/heads/main`]);
    const checkout = freshClone('ci');
    const ci = { ...env.ci, KEYSMITH_TEAM_DIR: checkout, KEYSMITH_TEAM_KEY: readFileSync(key('ci'), 'utf8') };
    const got = await runMain(['secret', 'get', '@acme/prod/db'], ci);
    expect({ code: got.code, stdout: got.stdout }).toEqual({ code: 4, stdout: '' });
  });

  /**
   * VULNERABILITY (medium, leak). Attack/accident: the README says "`age -R .age-recipients` writes
   * one keysmith reads"; a teammate does `printf %s "$PW" | age -R .age-recipients > db/raw.age`
   * (the value, not a JSON record) — or a member plants such a file. TeamVault.open() calls
   * JSON.parse on the plaintext, and Node's SyntaxError message quotes the text; main() prints
   * unknown errors as "keysmith: unexpected error: <message>". The decrypted value lands on stderr
   * (CI logs, often public). `secret list` on the team fails the same way.
   * Impact: "nothing keysmith does leaks a value (... error messages)" does not hold.
   * Correct: a one-line "… is not a keysmith record" error (ERR_VAULT_BAD_RECORD) with no plaintext.
   */
  it('FIXED: a secret file that is not a JSON record prints its decrypted value in the error', async () => {
    execFileSync('age', ['-R', join(teamDir('alice'), '.age-recipients'), '-o', join(teamDir('alice'), 'raw.age')], { input: 'SuperSecretValue-42' });
    const got = await ks('alice', ['secret', 'get', '@acme/raw']);
    const listed = await ks('alice', ['secret', 'list', '@acme/']);
    expect(got.code).not.toBe(0);
    expect(got.stderr).not.toContain('SuperSecret');
    expect(listed.stderr).not.toContain('SuperSecret');
  });

  /**
   * VULNERABILITY (low-medium). validateName accepts `..` segments (`a/../../x`), and TeamVault joins
   * the name onto the clone's folder: `secret set @acme/a/../../../outside -` writes an age file
   * OUTSIDE the team's repository (here <KEYSMITH_HOME>/outside.age; deeper `..` reach anywhere the
   * user can write, creating folders), then fails ("nothing to commit"), leaving the file behind.
   * And bob (prod/ only) passes keysmith's own path check with `@acme/prod/../db/by-bob`
   * (readersOf uses startsWith), writing and committing a secret outside his paths — a commit every
   * other member then refuses, blocking the team's sync.
   * Correct: names with `.`/`..` segments are a usage error (exit 2) with nothing written ("bad
   * input is a one-line error with nothing written").
   */
  it('FIXED: names with .. segments escape the clone / the member\'s paths (must be exit 2, nothing written)', async () => {
    const outside = join(root, 'alice', 'ks', 'outside.age');
    const r = await ks('alice', ['secret', 'set', '@acme/a/../../../outside', '-'], 'dotdot');
    const bob = await ks('bob', ['secret', 'set', '@acme/prod/../db/by-bob', '-'], 'by-bob');
    const bobCommitted = gitIn(teamDir('bob'), ['show', '--name-only', '--format=', 'HEAD'], 'bob').trim();
    const escaped = existsSync(outside);
    rmSync(outside, { force: true });
    gitIn(teamDir('bob'), ['reset', '-q', '--hard', good], 'bob');
    expect({ code: r.code, escaped, bob: bob.code, bobCommitted }).toEqual({ code: 2, escaped: false, bob: 2, bobCommitted: expect.not.stringContaining('db/by-bob.age') });
  });

  /**
   * VULNERABILITY (low). Member names are looked up with `team.members[name]` on a plain object:
   * `team remove acme constructor` finds Object.prototype.constructor, then crashes in reads()
   * ("keysmith: unexpected error: Cannot read properties of undefined"), and `team add acme
   * toString KEY` says "toString is a member of acme already".
   * Correct: "constructor is not a member of acme" (exit 3); toString is added like any name.
   */
  it('FIXED: member names that are Object.prototype keys (constructor, toString)', async () => {
    const removed = await ks('alice', ['team', 'remove', 'acme', 'constructor']);
    expect(removed.stderr).not.toContain('unexpected error');
    expect(removed.code).toBe(3);
    const added = await ks('alice', ['team', 'add', 'acme', 'toString', pub('mallory'), '--path', 'prod/']);
    expect(added.stderr).not.toContain('already');
    expect(added.code, added.stderr).toBe(0);
  });

  /**
   * VULNERABILITY (medium, leak into git history). signedCommit() runs `git add --all` in the clone:
   * whatever else is in the working tree is committed and signed with the member's key, and pushed
   * on the next sync. The README invites `age -d -i ~/.ssh/id_ed25519 db/password.age`; a member who
   * decrypts next to the file (`-o db/password.txt`), or an editor's swap file, puts the PLAINTEXT
   * in the team's history on the next `secret set` — and on the remote at `team sync` (other members
   * then refuse the commit, but the value is already pushed, and history is forever).
   * Impact: "nothing keysmith does leaks a value (git history ...)".
   * Correct: stage only the files keysmith wrote (`git add -- <paths>`), or refuse to commit when
   * the tree holds anything but secrets and the generated files (one-line error, nothing written).
   */
  it('FIXED: a stray plaintext file in the clone is committed and pushed by secret set + team sync', async () => {
    const plain = execFileSync('age', ['-d', '-i', key('alice'), join(teamDir('alice'), 'db', 'password.age')], { encoding: 'utf8' });
    writeFileSync(join(teamDir('alice'), 'db', 'password.txt'), plain);
    const set = await ks('alice', ['secret', 'set', '@acme/other', '-'], 'other');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    const onRemote = execFileSync('git', ['-C', remote, 'log', '-p', 'main'], { encoding: 'utf8' });
    expect(onRemote, `secret set exit ${set.code}, team sync exit ${sync.code}`).not.toContain('root-db-after-dave');
  });

  /** HOLDS. keysmith never encrypts from .age-recipients: a hand edit adding mallory to the clone's file is not a recipient of the next secret set. */
  it('HOLDS: a hand-edited .age-recipients is not a source of recipients', async () => {
    const file = join(teamDir('alice'), '.age-recipients');
    writeFileSync(file, `${readFileSync(file, 'utf8')}# mallory\n${pub('mallory')}\n`);
    await ok('alice', ['secret', 'set', '@acme/db/hand', '-'], 'not-for-mallory');
    expect(decryptAs('mallory', join(teamDir('alice'), 'db', 'hand.age'))).toBeNull();
    expect(decryptAs('alice', join(teamDir('alice'), 'db', 'hand.age'))).toContain('not-for-mallory');
  });

  // ---------------------------------------------------------------------------------------------
  // HOLDS (regression tests)
  // ---------------------------------------------------------------------------------------------

  /** HOLDS. A merge signed by a member whose SECOND parent carries an unsigned change: the side commit is in the range and checked. */
  it('HOLDS: a member-signed merge whose second parent is an unsigned change is refused', async () => {
    const clone = freshClone('mallory');
    seal(join(clone, 'prod', 'db.age'), ['alice', 'bob', 'ci', 'mallory'], record('side'));
    gitIn(clone, ['add', '-A']);
    gitIn(clone, ['commit', '-qm', 'unsigned side']);
    const side = gitIn(clone, ['rev-parse', 'HEAD']).trim();
    const tree = gitIn(clone, ['rev-parse', `${side}^{tree}`]).trim();
    const merge = commitTree(clone, 'carol', tree, [good, side], 'merge');
    gitIn(clone, ['push', '-q', 'origin', `${merge}:refs/heads/main`]);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toContain(`refused commit ${side.slice(0, 12)}`);
    expect((await ok('alice', ['secret', 'get', '@acme/prod/db'])).stdout).toBe('prod-db-original');
  });

  /** HOLDS. An octopus merge (three parents) signed by a member, one side unsigned. */
  it('HOLDS: an octopus merge with an unsigned side is refused', async () => {
    const clone = freshClone('mallory');
    writeFileSync(join(clone, 'prod', 'x.age'), 'x');
    gitIn(clone, ['add', '-A']);
    gitIn(clone, ['commit', '-qm', 'unsigned']);
    const side = gitIn(clone, ['rev-parse', 'HEAD']).trim();
    gitIn(clone, ['reset', '-q', '--hard', good]);
    const signedSide = signedCommit(clone, 'carol', 'empty');
    const merge = commitTree(clone, 'carol', gitIn(clone, ['rev-parse', `${side}^{tree}`]).trim(), [good, signedSide, side], 'octopus');
    gitIn(clone, ['push', '-q', 'origin', `${merge}:refs/heads/main`]);
    expect((await ks('alice', ['team', 'sync', 'acme'])).code).toBe(4);
  });

  /** HOLDS. A signature by a member's key made for another namespace ("file") does not verify as a git commit signature. */
  it('HOLDS: a commit signed by a member key under namespace "file" is refused', async () => {
    const clone = freshClone('carol');
    seal(join(clone, 'prod', 'db.age'), ['alice', 'bob', 'ci', 'carol'], record('wrong-namespace'));
    gitIn(clone, ['add', '-A'], 'carol');
    const tree = gitIn(clone, ['write-tree'], 'carol').trim();
    const body = `tree ${tree}\nparent ${good}\nauthor carol <carol@test> 1700000000 +0000\ncommitter carol <carol@test> 1700000000 +0000\n`;
    const payload = `${body}\nwrong namespace\n`;
    writeFileSync(join(root, 'payload'), payload);
    execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'file', '-f', key('carol'), join(root, 'payload')]);
    const sig = readFileSync(join(root, 'payload.sig'), 'utf8').trim().split('\n').join('\n ');
    rmSync(join(root, 'payload.sig'));
    const obj = `${body}gpgsig ${sig}\n\nwrong namespace\n`;
    const id = gitIn(clone, ['hash-object', '-t', 'commit', '-w', '--stdin'], 'carol', obj).trim();
    gitIn(clone, ['push', '-q', 'origin', `${id}:refs/heads/main`], 'carol');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toContain('not signed by a member');
  });

  /** HOLDS. Writes outside the signer's paths via odd paths: a folder outside, a folder named x.age/, a member list in a subfolder, a secret file in a dot-folder. */
  it.each([
    ['db/evil.age (outside prod/)', 'db/evil.age'],
    ['prod/x.age/y (a folder named x.age)', 'prod/x.age/y'],
    ['prod/.keysmith-team.json', 'prod/.keysmith-team.json'],
    ['Prod/db.age (case variant)', 'Prod/db.age'],
    ['prоd/db.age (Cyrillic о)', 'pr\u043Ed/db.age'],
    [`prod/${'a'.repeat(200)}/${'b'.repeat(200)}.age... long path outside`, `${'a'.repeat(200)}/${'b'.repeat(200)}.age`],
  ])('HOLDS: bob (prod/ only) committing %s is refused', async (_what, path) => {
    const clone = freshClone('bob');
    mkdirSync(join(clone, path, '..'), { recursive: true });
    writeFileSync(join(clone, path), 'x');
    const id = signedCommit(clone, 'bob', 'odd path');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toContain(`refused commit ${id.slice(0, 12)}`);
  });

  /** HOLDS. Trees with `..` or `.git` entries (made with mktree) never get in: transfer.fsckObjects refuses them at fetch. */
  it.each(['..', '.git', '.GIT'])('HOLDS: a signed commit whose tree has an entry named %s is refused at fetch', async (name) => {
    const clone = freshClone('carol');
    const blob = gitIn(clone, ['hash-object', '-w', '--stdin'], 'carol', 'evil').trim();
    const inner = gitIn(clone, ['mktree'], 'carol', `100644 blob ${blob}\tconfig.age\n`).trim();
    const top = gitIn(clone, ['ls-tree', good], 'carol') + `040000 tree ${inner}\t${name}\n`;
    let tree: string;
    try {
      tree = gitIn(clone, ['mktree'], 'carol', top).trim();
    } catch {
      return; // git would not even build it
    }
    const id = commitTree(clone, 'carol', tree, [good], 'dotdot');
    try {
      gitIn(clone, ['push', '-q', 'origin', `${id}:refs/heads/main`], 'carol');
    } catch {
      return; // the remote refused it
    }
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).not.toBe(0);
    expect(gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim()).toBe(good);
  });

  /** HOLDS. An age-only member cannot sign; a commit signed by any key not in the list (here mallory's) is refused. Also removed dave's plain signed commit. */
  it.each(['mallory', 'dave'] as const)('HOLDS: a plain commit signed by %s (not a member now) is refused', async (p) => {
    const clone = freshClone(p);
    seal(join(clone, 'prod', 'db.age'), ['alice', 'bob', 'ci', p], record(`by-${p}`));
    const id = signedCommit(clone, p, 'plant');
    gitIn(clone, ['push', '-q', 'origin', 'main'], p);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toContain(`refused commit ${id.slice(0, 12)}`);
  });

  /** HOLDS. A force-push that drops the checked commit (replays carol's signed commits re-ordered / an older main) is refused as a rewrite. */
  it('HOLDS: a force-push to an older main (a replay of old signed history) is refused as a rewrite', async () => {
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', beforeDaveRemoved]);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toContain('history was rewritten');
  });

  /** HOLDS. The remote cannot move refs/keysmith/checked: fetch takes only branches; a pushed refs/keysmith/checked on the remote changes nothing. */
  it('HOLDS: a refs/keysmith/checked on the remote is not taken', async () => {
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/keysmith/checked', beforeDaveRemoved]);
    await ok('alice', ['team', 'sync', 'acme']);
    expect(gitIn(teamDir('alice'), ['rev-parse', 'refs/keysmith/checked'], 'alice').trim()).toBe(good);
    execFileSync('git', ['-C', remote, 'update-ref', '-d', 'refs/keysmith/checked']);
  });

  /** HOLDS. Names with @ and dots in odd places are usage errors with nothing written. */
  it.each([
    ['secret', 'get', '@@acme/x'],
    ['secret', 'get', '@acme/../x'],
    ['secret', 'get', '@acme/.git/config'],
    ['secret', 'set', '@acme/.git/hooks/pre-commit', '-'],
    ['secret', 'set', '@../acme/x', '-'],
    ['exec', '--env', 'X=ks://@acme/.git/config', '--', 'true'],
  ])('HOLDS: %s %s %s is a one-line usage error', async (...args) => {
    const status = gitIn(teamDir('alice'), ['status', '--porcelain', '--ignored'], 'alice');
    const r = await ks('alice', args, 'v');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^keysmith: /);
    expect(gitIn(teamDir('alice'), ['status', '--porcelain', '--ignored'], 'alice')).toBe(status);
    expect(existsSync(join(teamDir('alice'), '.git', 'hooks', 'pre-commit.age'))).toBe(false);
  });

  /** HOLDS. A .keysmith-team.json in a CI checkout that does not parse is a one-line error, no value, no crash. */
  it('HOLDS: a malformed member list in a CI checkout is a one-line error', async () => {
    const checkout = freshClone('ci');
    const ci = { ...env.ci, KEYSMITH_TEAM_DIR: checkout, KEYSMITH_TEAM_KEY: readFileSync(key('ci'), 'utf8') };
    writeFileSync(join(checkout, '.keysmith-team.json'), '{"format":"keysmith-team",');
    gitIn(checkout, ['commit', '-qam', 'broken'], 'ci');
    const broken = await runMain(['secret', 'get', '@acme/prod/db'], ci);
    expect(broken.code).not.toBe(0);
    expect(broken.stdout).toBe('');
    expect(broken.stderr.trim().split('\n')[0]).toMatch(/^keysmith: /);
    expect(broken.stderr).not.toContain('unexpected');
  });

  /**
   * HOLDS. Leaks through argv and the environment of the programs keysmith starts: a wrapper `git`
   * and `ssh-keygen` first on PATH log their argv and environment; no value, no age identity and
   * no CI key reaches them, and no KEYSMITH_* variable does.
   */
  it('HOLDS: no value, KEYSMITH_AGE_IDENTITY or KEYSMITH_TEAM_KEY reaches git or ssh-keygen (argv, env)', async () => {
    const bin = join(root, 'wrap');
    mkdirSync(bin, { recursive: true });
    const log = join(root, 'wrap.log');
    for (const tool of ['git', 'ssh-keygen', 'ssh-add', 'ssh']) {
      const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
      writeFileSync(join(bin, tool), `#!/bin/sh\n{ echo "== ${tool} $*"; env; } >> '${log}'\nexec '${real}' "$@"\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    const wrapped = { ...env.alice, PATH: `${bin}:${env.alice.PATH}` };
    const value = 'CANARY-value-7f3a91';
    const r1 = await runMain(['secret', 'set', '@acme/leak/x', '-'], wrapped, { input: value });
    expect(r1.code, r1.stderr).toBe(0);
    expect((await runMain(['team', 'sync', 'acme'], wrapped)).code).toBe(0);
    expect((await runMain(['secret', 'get', '@acme/leak/x'], wrapped)).stdout).toBe(value);
    expect((await runMain(['exec', '--env', 'V=ks://@acme/leak/x', '--', 'true'], wrapped)).code).toBe(0);
    const checkout = freshClone('ci');
    const ciKey = readFileSync(key('ci'), 'utf8');
    const ci = { ...env.ci, PATH: `${bin}:${env.ci.PATH}`, KEYSMITH_TEAM_DIR: checkout, KEYSMITH_TEAM_KEY: ciKey };
    expect((await runMain(['secret', 'get', '@acme/prod/db'], ci)).stdout).toBe('prod-db-original');
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('== git');
    expect(text).toContain('== ssh-keygen');
    expect(text).not.toContain(value);
    expect(text).not.toContain('prod-db-original');
    expect(text).not.toContain(env.alice.KEYSMITH_AGE_IDENTITY!);
    expect(text).not.toContain(ciKey.split('\n')[1]!);
    expect(text).not.toMatch(/^KEYSMITH_/m);
    // Commit messages and the history name secrets, never values.
    expect(gitIn(teamDir('alice'), ['log', '-p', '--all'], 'alice')).not.toContain(value);
  });
});
