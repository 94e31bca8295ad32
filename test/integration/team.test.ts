import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runMain, tempHome } from '../helpers/cli.js';
import { teamPeople } from '../helpers/team.js';
import { describeWith } from '../helpers/system.js';

/**
 * Issue 13: a team vault shared through a bare git remote (file://) by two people with their own
 * HOMEs and SSH keys, and a CI identity; real git, real age, real ssh-keygen.
 */
describeWith(['git', 'age', 'ssh-keygen'], 'team vaults on git (file:// remote)', () => {
  const { home: root, cleanup } = tempHome();
  afterAll(cleanup);
  const { remote, env, key, pub, ks, ok, teamDir, gitIn: git, setup } = teamPeople(root, ['alice', 'bob', 'carol', 'mallory', 'ci'] as const);
  type Person = keyof typeof env;
  const gitIn = (dir: string, args: string[], p: Person = 'mallory') => git(dir, args, p);
  beforeAll(() => setup());

  it('alice creates the team; bob joins and is told his recipient line; alice adds him; bob reads what alice set', async () => {
    await ok('alice', ['team', 'create', 'acme', '--remote', `file://${remote}`, '--as', 'alice']);
    const joined = await ok('bob', ['team', 'join', 'acme', `file://${remote}`]);
    expect(joined.stdout.trim()).toBe(pub('bob'));
    expect(joined.stderr).toContain('keysmith team add acme NAME');
    for (const p of ['alice', 'bob'] as const) expect(statSync(join(teamDir(p), '..')).mode & 0o777).toBe(0o700);
    await ok('alice', ['team', 'add', 'acme', 'bob', pub('bob')]);
    expect((await ok('alice', ['secret', 'set', '@acme/db/password', '-'], 'hunter2-team')).stderr).toContain('stored @acme/db/password in the team vault acme');
    await ok('alice', ['team', 'sync', 'acme']);
    await ok('bob', ['team', 'sync', 'acme']);
    expect((await ok('bob', ['secret', 'get', '@acme/db/password'])).stdout).toBe('hunter2-team');
    const members = JSON.parse((await ok('bob', ['--json', 'team', 'members', 'acme'])).stdout) as Array<{ name: string; writes: boolean }>;
    expect(members.map((m) => [m.name, m.writes])).toEqual([['alice', true], ['bob', true]]);
  });

  it('the age tool decrypts a team secret with a member\'s SSH key; the layout is plain files', () => {
    const plain = execFileSync('age', ['-d', '-i', key('bob'), join(teamDir('bob'), 'db', 'password.age')], { encoding: 'utf8' });
    expect(JSON.parse(plain)).toMatchObject({ value: 'hunter2-team' });
    expect(readFileSync(join(teamDir('bob'), '.age-recipients'), 'utf8')).toContain(pub('bob').split(' ').slice(0, 2).join(' '));
  });

  it('bob writes too; a file written by hand with age -R .age-recipients is read by keysmith', async () => {
    await ok('bob', ['secret', 'set', '@acme/api/token', '-'], 'tok-from-bob');
    await ok('bob', ['team', 'sync', 'acme']);
    await ok('alice', ['team', 'sync', 'acme']);
    expect((await ok('alice', ['secret', 'get', '@acme/api/token'])).stdout).toBe('tok-from-bob');
    const record = JSON.stringify({ kind: 'password', value: 'by-hand', fields: {}, created: '2026-01-01T00:00:00.000Z', updated: '2026-01-01T00:00:00.000Z' });
    execFileSync('age', ['-R', join(teamDir('alice'), '.age-recipients'), '-o', join(teamDir('alice'), 'hand.age')], { input: record });
    expect((await ok('alice', ['secret', 'get', '@acme/hand'])).stdout).toBe('by-hand');
    execFileSync('rm', [join(teamDir('alice'), 'hand.age')]);
  });

  it('ks:// references and exec work on team secrets', async () => {
    const r = await ok('alice', ['exec', '--env', 'PW=ks://@acme/db/password', '--', '/bin/sh', '-c', 'printf "%s" "${#PW}"']);
    expect(r.stdout).toBe(String('hunter2-team'.length));
  });

  it('secret list and rm work on a team: names come back with their @team/ prefix; rm is a signed commit', async () => {
    await ok('alice', ['secret', 'set', '@acme/tmp/scratch', '-'], 'scratch');
    const listed = JSON.parse((await ok('alice', ['--json', 'secret', 'list', '@acme/'])).stdout) as Array<{ name: string; kind: string }>;
    expect(listed.map((i) => i.name)).toEqual(['@acme/api/token', '@acme/db/password', '@acme/tmp/scratch']);
    expect(JSON.parse((await ok('alice', ['--json', 'secret', 'list', '@acme/db'])).stdout)).toHaveLength(1);
    await ok('alice', ['secret', 'rm', '@acme/tmp/scratch']);
    expect((await ks('alice', ['secret', 'get', '@acme/tmp/scratch'])).code).toBe(3);
    const commit = gitIn(teamDir('alice'), ['cat-file', 'commit', 'HEAD'], 'alice');
    expect(commit).toContain('gpgsig -----BEGIN SSH SIGNATURE-----');
    expect(commit.trim().split('\n').at(-1)).toBe('remove tmp/scratch');
    await ok('alice', ['team', 'sync', 'acme']);
    await ok('bob', ['team', 'sync', 'acme']);
  });

  it('vault migrate --team moves your records into the team; vault export --team backs up what you read of it', async () => {
    await ok('alice', ['secret', 'set', 'local/one', '-'], 'from-my-vault');
    const moved = JSON.parse((await ok('alice', ['--json', 'vault', 'migrate', '--team', 'acme'])).stdout) as { to: string; moved: string[] };
    expect(moved).toEqual({ from: 'file', to: '@acme', moved: ['local/one'] });
    expect((await ok('alice', ['secret', 'get', '@acme/local/one'])).stdout).toBe('from-my-vault');
    expect((await ks('alice', ['secret', 'get', 'local/one'])).code).toBe(3);
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const out = join(root, 'alice', 'acme-backup.age');
    await ok('alice', ['vault', 'export', '--team', 'acme', '--out', out, '--recipient', execFileSync('age-keygen', ['-y'], { input: identity, encoding: 'utf8' }).trim()]);
    const doc = JSON.parse(execFileSync('age', ['-d', '-i', '-', out], { input: identity, encoding: 'utf8' })) as { records: Record<string, { value: string }> };
    expect(Object.keys(doc.records).sort()).toEqual(['api/token', 'db/password', 'local/one']);
    expect(doc.records['db/password']!.value).toBe('hunter2-team');
    await ok('alice', ['secret', 'rm', '@acme/local/one']);
    expect((await ks('alice', ['vault', 'migrate', '--to', 'file', '--team', 'acme'])).code).toBe(2);
  });

  it('a commit by a non-member, pushed straight with git, is refused on sync: exit 4, naming it, nothing applied', async () => {
    const clone = join(root, 'mallory', 'clone');
    execFileSync('git', ['clone', '-q', `file://${remote}`, clone], { env: env.mallory });
    execFileSync('age', ['-r', execFileSync('age-keygen', ['-y'], { input: env.mallory.KEYSMITH_AGE_IDENTITY, encoding: 'utf8' }).trim(), '-R', `${key('mallory')}.pub`, '-o', join(clone, 'db', 'password.age')], { input: '{"kind":"password","value":"planted","fields":{}}' });
    gitIn(clone, ['commit', '-qam', 'rotate db password']);
    gitIn(clone, ['push', '-q', 'origin', 'main']);
    const before = readFileSync(join(teamDir('bob'), 'db', 'password.age'));
    const head = gitIn(teamDir('bob'), ['rev-parse', 'HEAD'], 'bob');
    const refused = await ks('bob', ['team', 'sync', 'acme']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/refused commit [0-9a-f]{12}.*not signed by a member/);
    expect(readFileSync(join(teamDir('bob'), 'db', 'password.age')).equals(before)).toBe(true);
    expect(gitIn(teamDir('bob'), ['rev-parse', 'HEAD'], 'bob')).toBe(head);
    expect((await ok('bob', ['secret', 'get', '@acme/db/password'])).stdout).toBe('hunter2-team');
    // The remote is put back for the tests that follow.
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', head.trim()]);
  });

  it('CI reads with its own key from a checkout (KEYSMITH_TEAM_DIR, KEYSMITH_TEAM_KEY), and cannot write', async () => {
    await ok('alice', ['team', 'add', 'acme', 'ci', pub('ci'), '--path', 'db/']);
    await ok('alice', ['team', 'sync', 'acme']);
    const checkout = join(root, 'ci', 'checkout');
    execFileSync('git', ['clone', '-q', `file://${remote}`, checkout], { env: env.ci });
    const ci = { ...env.ci, KEYSMITH_TEAM_DIR: checkout, KEYSMITH_TEAM_KEY: readFileSync(key('ci'), 'utf8') };
    const got = await runMain(['secret', 'get', '@acme/db/password'], ci);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('hunter2-team');
    expect((await runMain(['secret', 'get', '@acme/api/token'], ci)).code).toBe(4); // outside its paths
    expect((await runMain(['secret', 'set', '@acme/db/password', '-'], ci, { input: 'x' })).code).toBe(2);
    // The checkout is the CI system's, not synced by keysmith: a value planted in it by a non-member is refused on read.
    execFileSync('age', ['-R', join(checkout, 'db', '.age-recipients'), '-o', join(checkout, 'db', 'password.age')], { input: '{"kind":"password","value":"planted","fields":{}}' });
    gitIn(checkout, ['commit', '-qam', 'planted']);
    const planted = await runMain(['secret', 'get', '@acme/db/password'], ci);
    expect(planted.code).toBe(4);
    expect(planted.stdout).toBe('');
    expect(planted.stderr).toContain('not signed by a member');
  });

  it('removing bob re-encrypts without him and lists what he saw; his key opens nothing written after; his later commits are refused', async () => {
    const removed = await ok('alice', ['team', 'remove', 'acme', 'bob']);
    expect(removed.stdout.trim().split('\n').sort()).toEqual(['@acme/api/token', '@acme/db/password']);
    await ok('alice', ['secret', 'set', '@acme/db/password', '-'], 'after-bob');
    await ok('alice', ['team', 'sync', 'acme']);
    for (const secret of ['db/password.age', 'api/token.age']) {
      expect(() => execFileSync('age', ['-d', '-i', key('bob'), join(teamDir('alice'), secret)], { stdio: 'pipe' })).toThrow();
    }
    // bob, on his clone from before, signs a change: his own sync will not push it …
    await ok('bob', ['secret', 'set', '@acme/evil', '-'], 'planted-by-bob');
    const own = await ks('bob', ['team', 'sync', 'acme']);
    expect(own.code, own.stderr).toBe(4);
    expect(own.stderr).toContain('your unpushed changes');
    // … (which left his clone as it was) so he rebases it, signed, and pushes it with git (the remote checks nothing) …
    gitIn(teamDir('bob'), ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key('bob')}`, '-c', 'commit.gpgSign=true', 'pull', '-q', '--rebase', 'origin', 'main'], 'bob');
    gitIn(teamDir('bob'), ['push', '-q', 'origin', 'HEAD:main'], 'bob');
    // … and alice refuses it: bob is not a member of the list before that commit.
    const head = gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim();
    const refused = await ks('alice', ['team', 'sync', 'acme']);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain('not signed by a member');
    expect(gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim()).toBe(head);
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', head]);
  });

  it('a history rewritten from before bob\'s removal, each commit signed when he was a member, is refused as a rewrite', async () => {
    const clone = join(root, 'bob', 'rewrite');
    execFileSync('git', ['clone', '-q', `file://${remote}`, clone], { env: env.bob });
    const removal = gitIn(clone, ['log', '--format=%H', '--grep', '^remove bob from acme'], 'bob').trim().split('\n')[0]!;
    gitIn(clone, ['reset', '-q', '--hard', `${removal}^`], 'bob');
    execFileSync('age', ['-R', join(clone, '.age-recipients'), '-o', join(clone, 'evil.age')], { input: '{"kind":"password","value":"rewritten","fields":{}}' });
    gitIn(clone, ['add', '-A'], 'bob');
    gitIn(clone, ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key('bob')}`, 'commit', '-qS', '-m', 'set evil'], 'bob');
    const head = gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim();
    gitIn(clone, ['push', '-qf', 'origin', 'main'], 'bob');
    const refused = await ks('alice', ['team', 'sync', 'acme']);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain('history was rewritten');
    expect(gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim()).toBe(head);
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', head]);
  });

  it('concurrent edits of different secrets both survive; of the same secret, sync stops naming it', async () => {
    // The first commit pinned, as a member's team status shows it: a wrong pin or a short one refuses the clone.
    const root = (JSON.parse((await ok('alice', ['--json', 'team', 'status', 'acme'])).stdout) as { root: string }).root;
    expect(root).toMatch(/^[0-9a-f]{40}$/);
    const wrong = await ks('carol', ['team', 'join', 'acme', `file://${remote}`, '--root', 'f'.repeat(40)]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('not the pinned ffffffffffff');
    expect((await ks('carol', ['team', 'join', 'acme', `file://${remote}`, '--root', root.slice(0, 7)])).code).toBe(2);
    const joined = await ok('carol', ['team', 'join', 'acme', `file://${remote}`, '--root', root]);
    expect(joined.stdout.trim()).toBe(pub('carol'));
    await ok('alice', ['team', 'add', 'acme', 'carol', pub('carol')]);
    await ok('alice', ['team', 'sync', 'acme']);
    await ok('carol', ['team', 'sync', 'acme']); // carol is a member now: her clone learns it
    await ok('alice', ['secret', 'set', '@acme/one', '-'], 'from-alice');
    await ok('carol', ['secret', 'set', '@acme/two', '-'], 'from-carol');
    await ok('alice', ['team', 'sync', 'acme']);
    await ok('carol', ['team', 'sync', 'acme']);
    await ok('alice', ['team', 'sync', 'acme']);
    expect((await ok('alice', ['secret', 'get', '@acme/two'])).stdout).toBe('from-carol');
    expect((await ok('carol', ['secret', 'get', '@acme/one'])).stdout).toBe('from-alice');
    await ok('alice', ['secret', 'set', '@acme/one', '-'], 'alice-again');
    await ok('carol', ['secret', 'set', '@acme/one', '-'], 'carol-again');
    await ok('alice', ['team', 'sync', 'acme']);
    const conflict = await ks('carol', ['team', 'sync', 'acme']);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('@acme/one');
    expect(conflict.stderr).toContain('team resolve acme --keep mine|theirs');
    // Both versions stay readable; status names the conflict; resolve ends it.
    expect((await ok('carol', ['secret', 'get', '@acme/one'])).stdout).toBe('carol-again');
    expect((await ok('carol', ['secret', 'get', '@acme/one', '--theirs'])).stdout).toBe('alice-again');
    expect(JSON.parse((await ok('carol', ['--json', 'team', 'status', 'acme'])).stdout)).toMatchObject({ conflicts: ['one'], unpushed: 1, unpulled: 1 });
    await ok('carol', ['secret', 'set', '@acme/three', '-'], 'carol-three');
    await ok('carol', ['team', 'resolve', 'acme', '--keep', 'theirs']);
    await ok('carol', ['team', 'sync', 'acme']);
    await ok('alice', ['team', 'sync', 'acme']);
    for (const p of ['alice', 'carol'] as const) {
      expect((await ok(p, ['secret', 'get', '@acme/one'])).stdout).toBe('alice-again');
      expect((await ok(p, ['secret', 'get', '@acme/three'])).stdout).toBe('carol-three');
    }
    expect(JSON.parse((await ok('carol', ['--json', 'team', 'status', 'acme'])).stdout)).toMatchObject({ conflicts: [], unpushed: 0, unpulled: 0 });
  });

  it.each([
    ['a symlink in place of a secret', (dir: string) => execFileSync('ln', ['-s', '/etc/passwd', join(dir, 'link.age')])],
    ['a .gitattributes (a filter would run on checkout)', (dir: string) => execFileSync('sh', ['-c', `echo '*.age filter=x' > ${join(dir, '.gitattributes')}`])],
  ])('a member\'s signed commit that adds %s is refused', async (_what, plant) => {
    const head = gitIn(teamDir('carol'), ['rev-parse', 'HEAD'], 'carol').trim();
    const clone = join(root, 'alice', `plant-${Date.now()}`);
    execFileSync('git', ['clone', '-q', `file://${remote}`, clone], { env: env.alice });
    plant(clone);
    gitIn(clone, ['add', '-A'], 'alice');
    gitIn(clone, ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key('alice')}`, 'commit', '-qS', '-m', 'plant'], 'alice');
    const pushed = gitIn(clone, ['rev-parse', 'HEAD'], 'alice').trim();
    gitIn(clone, ['push', '-q', 'origin', 'main'], 'alice');
    const refused = await ks('carol', ['team', 'sync', 'acme']);
    expect(refused.code, refused.stderr).toBe(4);
    expect(refused.stderr).toContain(`refused commit ${pushed.slice(0, 12)}`);
    expect(gitIn(teamDir('carol'), ['rev-parse', 'HEAD'], 'carol').trim()).toBe(head);
    execFileSync('git', ['-C', remote, 'update-ref', 'refs/heads/main', gitIn(teamDir('alice'), ['rev-parse', 'HEAD'], 'alice').trim()]);
  });

  it('remove --rotate gives the generated secrets the member saw new values, alike; others are listed only', async () => {
    await ok('alice', ['secret', 'generate', '@acme/gen/pw', '--length', '32', '--charset', 'hex']);
    const before = (await ok('alice', ['secret', 'get', '@acme/gen/pw'])).stdout;
    const removed = JSON.parse((await ok('alice', ['--json', 'team', 'remove', 'acme', 'carol', '--rotate'])).stdout) as { exposed: string[]; rotated: string[] };
    expect(removed.rotated).toEqual(['@acme/gen/pw']);
    expect(removed.exposed).toEqual(expect.arrayContaining(['@acme/gen/pw', '@acme/one', '@acme/db/password']));
    const after = (await ok('alice', ['secret', 'get', '@acme/gen/pw'])).stdout;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^[0-9a-f]{32}$/);
    expect((await ok('alice', ['secret', 'get', '@acme/one'])).stdout).toBe('alice-again');
    await ok('alice', ['team', 'sync', 'acme']);
  });

  it('git log -p of the whole history holds no secret value', () => {
    const log = gitIn(teamDir('alice'), ['log', '-p', '--all'], 'alice');
    expect(log).toContain('db/password.age');
    for (const value of ['hunter2-team', 'tok-from-bob', 'after-bob', 'from-alice', 'from-carol', 'alice-again', 'planted-by-bob']) expect(log).not.toContain(value);
  });

  it('bad input: an unknown team, a recipient that is not a key, an unsupported key type, an unreachable remote', async () => {
    const noTeam = await ks('alice', ['secret', 'get', '@nope/x']);
    expect(noTeam.code).toBe(3);
    expect(noTeam.stderr).toContain('hint: create it (keysmith team create nope --remote URL) or join it (keysmith team join nope URL)');
    const notKey = await ks('alice', ['team', 'add', 'acme', 'dave', 'hello world']);
    expect(notKey.code).toBe(2);
    const ecdsa = join(root, 'ecdsa');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', ecdsa]);
    const unsupported = await ks('alice', ['team', 'add', 'acme', 'dave', readFileSync(`${ecdsa}.pub`, 'utf8')]);
    expect(unsupported.code).toBe(2);
    expect(unsupported.stderr).toMatch(/ecdsa/i);
    const unreachable = await ks('alice', ['team', 'join', 'other', 'file:///nonexistent/remote.git']);
    expect(unreachable.code).toBe(5);
    expect(unreachable.stderr.trim().split('\n')[0]).toMatch(/^keysmith: /);
  });
});
