import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { runMain, tempHome } from '../helpers/cli.js';
import { teamPeople } from '../helpers/team.js';
import { describeWith } from '../helpers/system.js';

/**
 * Second outside security review of team vaults (issue 13, README "Team vaults"), against the version
 * with the 12 holes of attack-team.test.ts fixed. Attackers: mallory (push access, no member), bob (a
 * member limited to prod/), dave/carol (members removed while they have work pending), and whoever
 * can write into a CI job's workspace before the read.
 *
 * FIXED tests failed on that version (14 holes: upstream moving between the checks and their use in
 * sync and resolve, unpushed secrets rebased over a removal still encrypted to the removed member,
 * a removed member's own sync pushing, CI reading the workspace instead of the commit checked,
 * rotation strength taken from an editable record, --theirs reading a refused fetch, dot-named
 * secrets skipped by re-encryption, a recipient line hiding a second line, a short root pin, an
 * unreadable trap file blocking removal, a failed change leaving a half re-encrypted tree, renames
 * carrying an edit to another name); they assert the correct behaviour. HOLDS tests passed then too.
 */
describeWith(['git', 'age', 'age-keygen', 'ssh-keygen'], 'attack 2: team vaults on git', () => {
  const { home: root, cleanup } = tempHome();
  afterAll(cleanup);
  const { acme, rewind, remote, env, pub, ks, ok, teamDir, gitIn: git, setup, signing, signedCommit, record, seal, decryptAs, remoteDecrypt, remoteHead, freshClone, readTeam, ciEnv } = teamPeople(root, ['alice', 'bob', 'carol', 'dave', 'mallory', 'ci'] as const);
  type Person = keyof typeof env;
  const gitIn = (dir: string, args: string[], p: Person = 'mallory', input?: string) => git(dir, args, p, input);
  let counter = 0;
  /** mallory's unsigned commit on top of `base`: she adds herself and plants prod/db; pushed as refs/heads/evil. */
  const pushEvil = (base: string) => {
    const clone = freshClone('mallory');
    gitIn(clone, ['reset', '-q', '--hard', base]);
    const team = readTeam(clone);
    team.members.mallory = { recipient: pub('mallory'), paths: [''] };
    writeFileSync(join(clone, '.keysmith-team.json'), `${JSON.stringify(team, null, 2)}\n`);
    seal(join(clone, 'prod', 'db.age'), ['alice', 'bob', 'carol', 'ci', 'mallory'], record('planted-by-mallory'));
    gitIn(clone, ['add', '-A']);
    gitIn(clone, ['commit', '-qm', 'evil']);
    gitIn(clone, ['push', '-qf', 'origin', 'HEAD:refs/heads/evil']);
    return gitIn(clone, ['rev-parse', 'HEAD']).trim();
  };
  /**
   * A `git` first on PATH that plays a concurrent `git fetch` (an editor's autofetch, a second
   * `team sync` from a cron job or shell prompt): the first time keysmith runs a git command whose
   * argv contains `trigger`, origin/main in that clone moves to origin/evil just before it runs.
   */
  const racingGit = (trigger: string) => {
    const bin = join(root, `race-${++counter}`);
    mkdirSync(bin, { recursive: true });
    const real = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    const mark = join(bin, 'armed');
    writeFileSync(mark, '');
    writeFileSync(join(bin, 'git'), `#!/bin/sh
case "$*" in *'${trigger}'*)
  if [ -f '${mark}' ]; then
    rm -f '${mark}'; prev=; dir=
    for a in "$@"; do [ "$prev" = "-C" ] && dir="$a"; prev="$a"; done
    '${real}' -C "$dir" update-ref refs/remotes/origin/main refs/remotes/origin/evil
  fi;;
esac
exec '${real}' "$@"
`);
    chmodSync(join(bin, 'git'), 0o755);
    return { PATH: `${bin}:${env.alice.PATH}`, fired: () => !existsSync(mark) };
  };

  let good = '';
  let root0 = '';
  const clones = ['alice', 'bob', 'carol', 'dave'] as const;
  const restore = () => {
    rewind(good, clones);
    execFileSync('git', ['-C', remote, 'update-ref', '-d', 'refs/heads/evil']);
    for (const p of clones) gitIn(teamDir(p), ['update-ref', '-d', 'refs/remotes/origin/evil'], p);
  };

  beforeAll(async () => {
    setup();
    await acme();
    await ok('alice', ['secret', 'generate', '@acme/prod/token', '--length', '32', '--charset', 'alnum']);
    await ok('alice', ['team', 'sync', 'acme']);
    for (const p of ['bob', 'carol', 'dave'] as const) await ok(p, ['team', 'sync', 'acme']);
    good = remoteHead();
    root0 = execFileSync('git', ['-C', remote, 'rev-list', '--max-parents=0', 'main'], { encoding: 'utf8' }).trim();
  }, 120_000);
  beforeEach(() => restore());

  // ---------------------------------------------------------------------------------------------
  // FINDINGS
  // ---------------------------------------------------------------------------------------------

  /**
   * FINDING (high). Attack: TOCTOU in syncTeam. checkUpstream() verifies `HEAD..origin/main`, then
   * marks `origin/main` checked and rebaseOnto() rebases onto `origin/main` — the ref NAME each time,
   * re-read by every git command. A fetch landing in between (an editor's git autofetch in the clone,
   * a second `keysmith team sync` from cron or a prompt hook; a malicious remote answers the second
   * fetch differently) moves origin/main to mallory's unsigned commit after the checks passed.
   * Impact: the unverified commit is applied AND recorded as refs/keysmith/checked (so later syncs
   * build on it): mallory is a member, prod/db is her value, exit 0.
   * Correct: resolve origin/main to a commit id once; verify, mark and rebase onto that id.
   */
  it('FIXED: sync applies and marks checked an upstream that moved after the checks (concurrent fetch)', async () => {
    pushEvil(good);
    await ok('carol', ['secret', 'set', '@acme/db/carol', '-'], 'carol-value');
    await ok('carol', ['team', 'sync', 'acme']);
    const race = racingGit('update-ref refs/keysmith/checked');
    const sync = await runMain(['team', 'sync', 'acme'], { ...env.alice, PATH: race.PATH });
    expect(race.fired()).toBe(true);
    const got = await ks('alice', ['secret', 'get', '@acme/prod/db']);
    const members = Object.keys(readTeam(teamDir('alice')).members);
    // Fixed: the checks, the mark and the rebase use one commit id; what moved after is left to the next sync's checks.
    expect({ value: got.stdout, mallory: members.includes('mallory') }, sync.stderr).toEqual({ value: 'prod-db-original', mallory: false });

  });

  /**
   * FINDING (high). Same race in resolveTeam: checkUpstream(), then `git reset --hard origin/main`.
   * If origin/main moves in between, alice's kept values are RE-SEALED TO THE UNCHECKED MEMBER LIST
   * (mallory's) and committed, signed by alice, on top of the unchecked commit — the next sync
   * pushes it as alice's.
   * Correct: reset to the id that was checked.
   */
  it('FIXED: resolve --keep mine re-seals your value to an upstream member list that moved after the check', async () => {
    await ok('carol', ['secret', 'set', '@acme/db/password', '-'], 'carol-side');
    await ok('carol', ['team', 'sync', 'acme']);
    await ok('alice', ['secret', 'set', '@acme/db/password', '-'], 'alice-kept-value');
    expect((await ks('alice', ['team', 'sync', 'acme'])).code).toBe(1);
    pushEvil(remoteHead());
    gitIn(teamDir('alice'), ['fetch', '-q', 'origin'], 'alice');
    const race = racingGit('reset --hard --quiet');
    const resolve = await runMain(['team', 'resolve', 'acme', '--keep', 'mine'], { ...env.alice, PATH: race.PATH });
    expect(race.fired()).toBe(true);
    const mallorySees = decryptAs('mallory', join(teamDir('alice'), 'db', 'password.age'));
    // Fixed: reset to the commit id checked, not to whatever origin/main holds by then.
    expect({ mallorySees: mallorySees?.includes('alice-kept-value') ?? false }, resolve.stderr).toEqual({ mallorySees: false });
  });

  /**
   * FINDING (high). Attack: none needed — an everyday race. carol sets db/new (sealed to the members
   * of HER clone: alice, carol, dave) but has not synced. alice removes dave and pushes. carol syncs:
   * the rebase replays her commit cleanly (another file) and pushes it, still encrypted to dave.
   * Every other member accepts it (carol reads db/). Nothing re-seals rebased commits to the member
   * list they now sit on.
   * Impact: "Remove a member → their key cannot decrypt any secret written after" does not hold; a
   * removed member who can still pull (or reads a mirror/backup) decrypts values written after.
   * Correct: after the rebase, secrets of the replayed commits are re-sealed to upstream's member
   * list (as resolve does), or the sync refuses to push files whose recipients are not the list's.
   */
  it('FIXED: a teammate\'s unpushed secret, rebased over a removal, is pushed still encrypted to the removed member', async () => {
    await ok('carol', ['secret', 'set', '@acme/db/new', '-'], 'written-after-dave-left');
    await ok('alice', ['team', 'remove', 'acme', 'dave']);
    await ok('alice', ['team', 'sync', 'acme']);
    const sync = await ks('carol', ['team', 'sync', 'acme']);
    const onRemote = remoteDecrypt('dave', 'db/new.age');
    expect({ sync: sync.code, daveReads: onRemote?.includes('written-after-dave-left') ?? false }).toEqual({ sync: 0, daveReads: false });
  });

  /**
   * FINDING (medium, availability). carol is removed while she has an unpushed commit. Her sync
   * rebases it onto the removal, re-signs it and pushes it: keysmith never checks its OWN commits
   * against the list they land on. The remote now holds a commit every member refuses (signed by a
   * non-member): every other member's sync fails with exit 4 until someone rewrites the remote by
   * hand. (The same happens after carol is narrowed to prod/ while she has a db/ change pending.)
   * Correct: sync verifies `origin/main..HEAD` with the same rules before pushing and stops (a
   * one-line error naming the commit), pushing nothing.
   */
  it('FIXED: a removed member\'s pending commit is rebased and pushed, bricking everyone\'s sync', async () => {
    await ok('carol', ['secret', 'set', '@acme/db/pending', '-'], 'pending');
    await ok('alice', ['team', 'remove', 'acme', 'carol']);
    await ok('alice', ['team', 'sync', 'acme']);
    const afterRemoval = remoteHead();
    const carol = await ks('carol', ['team', 'sync', 'acme']);
    const carolPushed = remoteHead() !== afterRemoval;
    await ok('dave', ['secret', 'set', '@acme/db/dave', '-'], 'x');
    const dave = await ks('dave', ['team', 'sync', 'acme']);
    expect({ carolPushed, carol: carol.code === 0, dave: dave.code }).toEqual({ carolPushed: false, carol: false, dave: 0 });
  });

  /**
   * FINDING (medium, CI). checkCheckout verifies the HISTORY of HEAD, then reads the secret from the
   * WORKING TREE: an untracked file, or a tracked one modified after checkout, is read as if checked.
   * Whoever writes into the job's workspace before the read step — an earlier step running untrusted
   * code (a dependency's install script, a PR's tests), a self-hosted runner's leftover workspace,
   * a `git checkout <sha> -- prod/` — plants values (a deploy URL, a DSN) for the job that holds the
   * key. The same gap makes case-insensitive runners (macOS, Windows) read `PROD/db.age` from a commit
   * the path-limited check never looked at.
   * Correct: read the blob of HEAD that was checked (`git cat-file blob HEAD:prod/db.age`), or refuse
   * when the working-tree file differs from it (exit 4).
   */
  it.each([
    ['an untracked prod/planted.age', 'prod/planted'],
    ['a modified prod/db.age', 'prod/db'],
  ])('FIXED: CI reads %s from the working tree, never checked', async (_what, name) => {
    const checkout = freshClone('ci');
    seal(join(checkout, `${name}.age`), ['ci'], record('planted-in-workspace'));
    const got = await runMain(['secret', 'get', `@acme/${name}`], ciEnv(checkout));
    expect(got.stdout).not.toBe('planted-in-workspace');
    // Fixed by reading the blob of the commit checked: an untracked file is not there, a modified one reads as committed.
    expect(got.code, got.stderr).toBe(name === 'prod/planted' ? 3 : 0);
  });

  /**
   * FINDING (medium). `team remove --rotate` regenerates "the ones keysmith generated … made alike",
   * taking length and charset from the record's meta — which any member who reads the secret can
   * rewrite (the commit is a legitimate change of a secret in his paths). bob (prod/ only) re-seals
   * prod/token with the same value and meta.generated = {length: 1, charset: 'hex'}; alice removes
   * him with --rotate: the "rotated" token is one hex digit, which bob guesses in 16 tries.
   * Correct: rotation never draws fewer bits than a floor (e.g. the default 32 alnum, or ≥ 128 bits),
   * or refuses/reports a record whose generation parameters changed after keysmith wrote them.
   */
  it('FIXED: remove --rotate lets the removed member choose the strength of the rotated value', async () => {
    const clone = freshClone('bob');
    const plain = JSON.parse(decryptAs('bob', join(clone, 'prod', 'token.age'))!) as { value: string; meta: { generated: { length: number; charset: string } } };
    expect(plain.meta.generated).toEqual({ length: 32, charset: 'alnum' });
    rmSync(join(clone, 'prod', 'token.age'));
    seal(join(clone, 'prod', 'token.age'), ['alice', 'bob', 'carol', 'ci', 'dave'], JSON.stringify({ ...plain, meta: { generated: { length: 1, charset: 'hex' } } }));
    signedCommit(clone, 'bob', 'set prod/token');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    const removed = await ok('alice', ['team', 'remove', 'acme', 'bob', '--rotate']);
    expect(removed.stderr).toContain('rotated');
    const rotated = (await ok('alice', ['secret', 'get', '@acme/prod/token'])).stdout;
    expect(rotated).not.toBe(plain.value);
    expect(rotated.length, `rotated value ${JSON.stringify(rotated)}`).toBeGreaterThanOrEqual(22);
  });

  /**
   * FINDING (low-medium). bob (prod/ only) commits prod/trap.age encrypted to himself only (a valid
   * commit: a secret in his paths; nothing checks an .age file's recipients). `team remove acme bob`
   * must re-seal every secret bob reads, cannot read this one, and stops ("your key does not read
   * it; a member who reads everything under the path must do this" — alice does). bob cannot be
   * removed with keysmith until someone finds and deletes the file by hand; the same blocks
   * `team add` of anyone reading prod/.
   * Correct: the removal goes through (the file is bob's own; report it as not re-encrypted, or
   * delete it), exit 0 and bob off the list.
   */
  it('FIXED: a path-limited member makes himself unremovable with a secret only he can read', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'trap.age'), ['bob'], record('only-bob'));
    signedCommit(clone, 'bob', 'set prod/trap');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    const removed = await ks('alice', ['team', 'remove', 'acme', 'bob']);
    // The re-encryptions already started finish after the command failed (see the next test).
    await new Promise((r) => setTimeout(r, 1500));
    expect({ code: removed.code, bobGone: !('bob' in readTeam(teamDir('alice')).members) }, removed.stderr).toEqual({ code: 0, bobGone: true });
  });

  /**
   * FINDING (low, availability). A `team remove`/`team add` that fails in reseal() (here on bob's
   * trap file; also a generatePassword error in --rotate, a full disk) leaves the secrets it had
   * already re-encrypted modified and uncommitted in the clone: mapLimit rejects on the first error
   * while the other re-encryptions go on and land. The next `team sync` that has something to
   * rebase then fails with "git rebase failed: cannot rebase: You have unstaged changes", and keeps
   * failing until the user cleans the clone by hand (keysmith has no command for it).
   * Correct: a failed add/remove leaves the working tree as it was (restore the written files, and
   * wait for the tasks in flight before reporting the error) — "nothing written".
   */
  it('FIXED: a failed team remove leaves re-encrypted files uncommitted, and the next sync fails', async () => {
    const clone = freshClone('bob');
    seal(join(clone, 'prod', 'trap.age'), ['bob'], record('only-bob'));
    signedCommit(clone, 'bob', 'set prod/trap');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['team', 'sync', 'acme']);
    // (A removal now deletes such a file and goes on; an addition still stops on it.)
    expect((await ks('alice', ['team', 'add', 'acme', 'eve', pub('mallory'), '--path', 'prod/'])).code).not.toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    const dirty = gitIn(teamDir('alice'), ['status', '--porcelain'], 'alice');
    await ok('carol', ['secret', 'set', '@acme/db/carol', '-'], 'c');
    await ok('carol', ['team', 'sync', 'acme']);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect({ dirty, sync: sync.code }, sync.stderr).toEqual({ dirty: '', sync: 0 });
  });

  /**
   * FINDING (medium). `secret get @acme/x --theirs` (theirSecret) reads origin/main as last FETCHED,
   * not as last CHECKED. A sync that refused upstream (exit 4) has still fetched it: origin/main is
   * mallory's unsigned commit, and --theirs decrypts and prints her planted value as the team's
   * ("read theirs, then resolve" is the advice of every conflict). A user comparing values, or a
   * script, takes the planted one (a webhook URL, an endpoint) from a commit keysmith refused.
   * Correct: --theirs reads the checked upstream (refs/keysmith/checked or a verified origin/main),
   * and refuses (exit 4) when origin/main holds unchecked commits.
   */
  it('FIXED: secret get --theirs prints a value from an upstream commit that sync refused', async () => {
    const evil = pushEvil(good);
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', evil]);
    expect((await ks('alice', ['team', 'sync', 'acme'])).code).toBe(4);
    const theirs = await ks('alice', ['secret', 'get', '@acme/prod/db', '--theirs']);
    expect(theirs.stdout).not.toBe('planted-by-mallory');
  });

  /**
   * FINDING (low). The rebase in sync follows renames (rebase.backend=merge, ort's rename
   * detection; commitsIn uses --no-renames, git's merge does not). bob (prod/ only) "renames"
   * prod/db.age to prod/db-old.age (same bytes); alice concurrently sets prod/db. Her sync replays
   * her change ONTO prod/db-old.age: her commit, signed by her, now writes prod/db-old and
   * prod/db is gone — `secret get @acme/prod/db` says not found, and the value she set lives under a
   * name she never wrote.
   * Correct: a rebased commit changes the same names it changed before (no rename detection:
   * `-X no-renames` / merge.renames=false pinned), so this is a modify/delete conflict, named.
   */
  it('FIXED: a teammate\'s rename redirects your concurrent write to another secret name', async () => {
    const clone = freshClone('bob');
    gitIn(clone, ['mv', 'prod/db.age', 'prod/db-old.age'], 'bob');
    signedCommit(clone, 'bob', 'rename');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    await ok('alice', ['secret', 'set', '@acme/prod/db', '-'], 'alice-new-db');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    const changed = gitIn(teamDir('alice'), ['show', '--name-status', '--format=', 'HEAD'], 'alice').trim();
    expect({ sync: sync.code, changed }).not.toEqual({ sync: 0, changed: 'M\tprod/db-old.age' });
    expect(changed).not.toContain('prod/db-old.age');
  });

  /**
   * FINDING (low-medium, CI). KEYSMITH_TEAM_ROOT accepts any prefix ("id or prefix"), even one or two
   * characters, and users copy git's 7-character short ids. The root is the whole trust anchor of a
   * CI checkout: mallory grinds a root commit of her own (her member list, her planted value), signed
   * by her, until its id starts with the pin — 2^(4·n) tries for n characters (here n = 2: ~256;
   * n = 7 is a few CPU-hours). The checkout is accepted.
   * Correct: the pin is a full commit id (40 or 64 hex), anything shorter a usage error (exit 2).
   */
  it('FIXED: a short KEYSMITH_TEAM_ROOT prefix is matched by a ground root commit', async () => {
    const pin = root0.slice(0, 2);
    const repo = join(root, 'mallory', `own-${++counter}`);
    execFileSync('git', ['init', '-q', '-b', 'main', repo], { env: env.mallory });
    const doc = { format: 'keysmith-team', version: 1, name: 'acme', members: { mallory: { recipient: pub('mallory'), paths: [''] }, ci: { recipient: pub('ci'), paths: ['prod/'] } } };
    writeFileSync(join(repo, '.keysmith-team.json'), `${JSON.stringify(doc, null, 2)}\n`);
    seal(join(repo, 'prod', 'db.age'), ['ci', 'mallory'], record('planted-by-ground-root'));
    gitIn(repo, ['add', '-A']);
    const tree = gitIn(repo, ['write-tree']).trim();
    let id = '';
    for (let i = 0; i < 5000 && !id.startsWith(pin); i++) id = gitIn(repo, [...signing('mallory'), 'commit-tree', '-S', '-m', `team acme ${i}`, tree]).trim();
    expect(id.startsWith(pin)).toBe(true);
    gitIn(repo, ['update-ref', 'refs/heads/main', id]);
    const checkout = freshClone('ci', [], `file://${repo}`);
    const got = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(checkout, { KEYSMITH_TEAM_ROOT: pin }));
    expect(got.stdout).not.toBe('planted-by-ground-root');
    expect(got.code).not.toBe(0);
  });

  /**
   * FINDING (medium). validateName accepts a part starting with a dot (`db/.env`, `app/.npmrc`: names
   * people use), but secretNames() — what `team remove`/`team add` re-encrypt and what `secret list`
   * shows — skips every part starting with '.'. alice keeps `@acme/db/.env`; she removes dave: the
   * exposed list does not name it, and it is NOT re-encrypted: dave's key still decrypts the current
   * file (and any later read by someone who trusts the removal).
   * Correct: either such names are a usage error (exit 2, nothing written), or re-encryption and
   * listing cover them.
   */
  it('FIXED: a secret named db/.env escapes re-encryption on team remove (the removed member still decrypts it)', async () => {
    const set = await ks('alice', ['secret', 'set', '@acme/db/.env', '-'], 'DOTENV-VALUE');
    if (set.code === 2) return; // refused as a name: fine
    expect(set.code, set.stderr).toBe(0);
    const removed = await ok('alice', ['team', 'remove', 'acme', 'dave']);
    const daveReads = decryptAs('dave', join(teamDir('alice'), 'db', '.env.age'));
    expect({ exposedListed: removed.stdout.includes('db/.env'), daveReads: daveReads?.includes('DOTENV-VALUE') ?? false }).toEqual({ exposedListed: true, daveReads: false });
  });

  /**
   * FINDING (medium-low). A "recipient line" with a second line in it is accepted by `team add`
   * (the SSH key parser takes the rest of the first line, and what follows, as the comment). The
   * member list keeps it, and recipientFiles() writes it verbatim: the `.age-recipients` files gain
   * a second key on its own line — here mallory's. The README tells people to write with
   * `age -R .age-recipients` (passage does): every such secret is readable by mallory. The line is
   * what a joiner sends to be added ("prints your recipient line for a member to add"), so whoever
   * supplies it (or an impostor in the chat) chooses it.
   * Correct: a recipient is one line (no CR/LF, no control characters): `team add` exits 2, and
   * parseTeam refuses a list holding one.
   */
  it('FIXED: a recipient line with an embedded newline adds a second key to .age-recipients', async () => {
    const eveKey = join(root, `eve-${++counter}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'eve@laptop', '-f', eveKey]);
    const line = `${readFileSync(`${eveKey}.pub`, 'utf8').trim()}\n${pub('mallory')}`;
    const added = await ks('alice', ['team', 'add', 'acme', 'eve', line]);
    const top = readFileSync(join(teamDir('alice'), '.age-recipients'), 'utf8');
    expect({ code: added.code, malloryInFile: top.includes(pub('mallory').split(' ')[1]!) }).toEqual({ code: 2, malloryInFile: false });
  });

  // ---------------------------------------------------------------------------------------------
  // HOLDS (regression tests)
  // ---------------------------------------------------------------------------------------------

  /** HOLDS. The full pin and an untouched checkout read fine; the real root pinned refuses mallory's own history. */
  it('HOLDS: CI with the full KEYSMITH_TEAM_ROOT reads; another history is refused', async () => {
    const checkout = freshClone('ci');
    expect((await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(checkout, { KEYSMITH_TEAM_ROOT: root0 }))).stdout).toBe('prod-db-original');
    const wrong = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(checkout, { KEYSMITH_TEAM_ROOT: 'f'.repeat(40) }));
    expect(wrong.code).toBe(4);
  });

  /** HOLDS. In CI, mallory's unsigned mode change (100755) of the secret, and a delete-then-re-add in two commits, are both seen by the path-limited check. */
  it.each([
    ['chmod +x and new content', (dir: string) => {
      rmSync(join(dir, 'prod', 'db.age'));
      seal(join(dir, 'prod', 'db.age'), ['ci'], record('planted-755'));
      chmodSync(join(dir, 'prod', 'db.age'), 0o755);
      gitIn(dir, ['add', '-A']);
      gitIn(dir, ['commit', '-qm', 'mode']);
    }],
    ['delete, then re-add', (dir: string) => {
      gitIn(dir, ['rm', '-q', 'prod/db.age']);
      gitIn(dir, ['commit', '-qm', 'delete']);
      seal(join(dir, 'prod', 'db.age'), ['ci'], record('planted-readd'));
      gitIn(dir, ['add', '-A']);
      gitIn(dir, ['commit', '-qm', 're-add']);
    }],
  ])('HOLDS: CI refuses mallory\'s %s of prod/db.age', async (_what, tamper) => {
    const clone = freshClone('mallory');
    tamper(clone);
    gitIn(clone, ['push', '-q', 'origin', 'main']);
    const got = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(freshClone('ci')));
    expect({ code: got.code, stdout: got.stdout }).toEqual({ code: 4, stdout: '' });
  });

  /** HOLDS. A refs/replace in the CI checkout that swaps mallory's unsigned commit for a good one is ignored (GIT_NO_REPLACE_OBJECTS). */
  it('HOLDS: CI ignores refs/replace that would hide an unsigned commit', async () => {
    const clone = freshClone('mallory');
    seal(join(clone, 'prod', 'db.age'), ['ci'], record('planted-replace'));
    gitIn(clone, ['add', '-A']);
    gitIn(clone, ['commit', '-qm', 'evil']);
    gitIn(clone, ['push', '-q', 'origin', 'main']);
    const checkout = freshClone('ci');
    const evil = gitIn(checkout, ['rev-parse', 'HEAD'], 'ci').trim();
    gitIn(checkout, ['replace', '-f', evil, good], 'ci');
    const got = await runMain(['secret', 'get', '@acme/prod/db'], ciEnv(checkout));
    expect(got.code).toBe(4);
  });

  /** HOLDS. Paths crafted to confuse the -z parsing of `git log --raw` (a newline, a leading ':', quotes, tabs) are refused, naming the commit. */
  it('HOLDS: odd file names (newline, leading colon, quotes) in an unsigned or out-of-paths commit are refused', async () => {
    const clone = freshClone('bob');
    const odd = `prod/x\n:100644 100644 ${'0'.repeat(40)} ${'0'.repeat(40)} M\t.keysmith-team.json`;
    writeFileSync(join(clone, odd), 'x');
    writeFileSync(join(clone, 'prod', 'q"\'\t.age'), 'x');
    writeFileSync(join(clone, 'prod', ':db.age'), 'x');
    const id = signedCommit(clone, 'bob', 'odd');
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'bob');
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toContain(`refused commit ${id.slice(0, 12)}`);
  });

  /** HOLDS. `vault migrate --team` by bob with a record outside his paths: exit non-zero, the source complete, the clone untouched. */
  it('HOLDS: vault migrate --team failing on a name outside your paths leaves the source complete and no commit', async () => {
    await ok('bob', ['secret', 'set', 'prod/mine', '-'], 'mine-value');
    await ok('bob', ['secret', 'set', 'db/outside', '-'], 'outside-value');
    const head = gitIn(teamDir('bob'), ['rev-parse', 'HEAD'], 'bob').trim();
    const r = await ks('bob', ['vault', 'migrate', '--team', 'acme']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain('outside-value');
    expect((await ok('bob', ['secret', 'get', 'prod/mine'])).stdout).toBe('mine-value');
    expect((await ok('bob', ['secret', 'get', 'db/outside'])).stdout).toBe('outside-value');
    expect(gitIn(teamDir('bob'), ['rev-parse', 'HEAD'], 'bob').trim()).toBe(head);
    expect(gitIn(teamDir('bob'), ['status', '--porcelain'], 'bob')).toBe('');
    await ok('bob', ['secret', 'rm', 'prod/mine']);
    await ok('bob', ['secret', 'rm', 'db/outside']);
  });

  /** HOLDS. `vault export --team` by bob holds only what he reads (prod/), and no value reaches stderr. */
  it('HOLDS: vault export --team exports only the secrets you read', async () => {
    const out = join(root, 'bob', 'acme-export.age');
    const r = await ok('bob', ['vault', 'export', '--team', 'acme', '--out', out, '--recipient', pub('bob')]);
    expect(r.stderr).not.toContain('prod-db-original');
    const doc = JSON.parse(decryptAs('bob', out)!) as { records: Record<string, unknown> };
    expect(Object.keys(doc.records).sort()).toEqual(['prod/db', 'prod/token']);
  });

  /** HOLDS. A sync whose upstream did not move during the checks still refuses mallory's unsigned commit on main (the race above is the only way in). */
  it('HOLDS: without the race, the same unsigned commit on main is refused', async () => {
    const evil = pushEvil(good);
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', evil]);
    const sync = await ks('alice', ['team', 'sync', 'acme']);
    expect(sync.code).toBe(4);
    expect((await ok('alice', ['secret', 'get', '@acme/prod/db'])).stdout).toBe('prod-db-original');
  });
});
