import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, clockAt, DAY_MS, runMain, runProgram, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

/**
 * `keysmith expiry`: a vault with one item of each kind made at known times (main's clock seam),
 * judged `--at` fixed times: the order, statuses, exit codes and JSON exactly; the Prometheus file
 * read by the real promtool; `--renew` and `tls renew` on local-CA certificates (and, under a lock,
 * two at once); `--renew` rotating an SSH key on a real sshd.
 */
const T0 = '2026-01-01T00:00:00.000Z';
const at = (days: number) => clockAt(T0, days * DAY_MS);
const iso = (days: number) => new Date(Date.parse(T0) + days * DAY_MS).toISOString();

/** A JWT-shaped refresh token that carries an `exp` (the radar reads it; the signature does not matter to it). */
const jwt = (exp: number) => ['{"alg":"none"}', JSON.stringify({ exp })].map((p) => Buffer.from(p).toString('base64url')).join('.') + '.sig';

describe('keysmith expiry: the radar over a vault of known dates', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  const certs = join(home, 'certs');
  const run = (args: string[], days: number, input?: string) => runMain(args, env, { now: at(days), ...(input !== undefined ? { input } : {}) });

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    mkdirSync(certs);
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    const made = [
      await run(['tls', 'ca', 'create', 'dev', '--days', '400'], 0),
      await run(['tls', 'issue', 'web.test', '--ca', 'dev', '--days', '90', '--out-dir', certs], 0),
      await run(['tls', 'issue', 'api.test', '--ca', 'dev', '--days', '40', '--out-dir', certs], 0),
      await run(['ssh', 'keygen', 'deploy', '--no-passphrase', '--rotate-every', '180d', '--out', join(home, '.ssh', 'deploy')], 0),
      await run(['ssh', 'keygen', 'plain', '--no-passphrase', '--out', join(home, '.ssh', 'plain')], 0),
      await run(['secret', 'set', 'api/key', '-', '--expires', iso(35).slice(0, 10)], 0, 'k1'),
      await run(['secret', 'set', 'db/password', '-', '--rotate-every', '60d'], 10, 'p1'),
      await run(['secret', 'set', 'plain/secret', '-'], 0, 'p2'),
      await run(['secret', 'set', 'oauth/corp', '-', '--kind', 'oauth-tokens', '--field', `refresh_token=${jwt(Date.parse(iso(50)) / 1000)}`], 0, 'access'),
      await run(['ssh', 'ca', 'create', 'users'], 0),
      await run(['ssh', 'ca', 'sign', 'users', join(home, '.ssh', 'plain.pub'), '--principals', 'alice,deploy', '--valid', '+45d'], 0),
    ];
    for (const r of made) expect(r.code, r.stderr).toBe(0);
  });
  afterAll(cleanup);

  it('soonest first, each with its status, end, days and the command that renews it; --at moves the clock; exit codes as a monitoring plugin', async () => {
    const r = await run(['expiry', '--json', '--at', iso(30)], 0);
    expect(r.code, r.stderr).toBe(2);
    const json = JSON.parse(r.stdout);
    expect(json.status).toBe('CRITICAL');
    expect(json.at).toBe(iso(30));
    expect(json.items.map((i: { type: string; name: string; ends: string; daysLeft: number; status: string }) => [i.type, i.name, i.ends, i.daysLeft, i.status])).toEqual([
      ['secret', 'api/key', iso(35), 5, 'CRITICAL'],
      ['tls-cert', 'api.test', iso(40), 10, 'WARNING'],
      ['ssh-cert', 'plain', iso(45), 15, 'WARNING'],
      ['oauth-refresh-token', 'corp', iso(50), 20, 'WARNING'],
      ['secret', 'db/password', iso(70), 40, 'OK'],
      ['tls-cert', 'web.test', iso(90), 60, 'OK'],
      ['ssh-key', 'deploy', iso(180), 150, 'OK'],
      ['tls-ca', 'dev', iso(400), 370, 'OK'],
    ]);
    // One item whole: every field of the shape.
    expect(json.items[1]).toEqual({
      kind: 'tls', type: 'tls-cert', name: 'api.test', where: join(certs, 'api.test.pem'), ends: iso(40), daysLeft: 10, status: 'WARNING',
      message: '10 day(s) left', renew: 'keysmith tls renew api.test', automatic: true,
    });
    expect(json.items[6]).toMatchObject({ kind: 'ssh', renew: 'keysmith ssh rotate deploy', automatic: false, message: '150 day(s) left; rotation due' });
    expect(json.items[2]).toEqual({
      kind: 'ssh', type: 'ssh-cert', name: 'plain', where: join(home, '.ssh', 'plain-cert.pub'), ends: iso(45), daysLeft: 15, status: 'WARNING',
      message: '15 day(s) left; signed by users', renew: `keysmith ssh ca sign users ${join(home, '.ssh', 'plain.pub')} --principals alice,deploy --valid …`, automatic: false,
    });
    // WARNING when the worst is within --warn; OK when nothing is near.
    expect((await run(['expiry', '--at', iso(30), '--crit', '1d'], 0)).code).toBe(1);
    const early = await run(['expiry', '--at', iso(1), '--warn', '7d', '--crit', '1d'], 0);
    expect(early.code, early.stdout).toBe(0);
    expect(early.stderr).toBe('OK: 8 on the radar, 0 need attention\n');
  });

  it('the table: status, kind, name, date, what is left, and what to run', async () => {
    const r = await run(['expiry', '--at', iso(36), '--kind', 'secret,tls'], 0);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      expect.stringMatching(/^STATUS +KIND +NAME +ENDS +DETAIL +RENEW WITH$/),
      expect.stringMatching(/^CRITICAL +secret +api\/key +2026-02-05 +ended 1 day\(s\) ago +keysmith secret set api\/key --expires DATE$/),
      expect.stringMatching(/^CRITICAL +tls-cert +api\.test +2026-02-10 +4 day\(s\) left +keysmith tls renew api\.test$/),
    ]);
    expect(r.stdout).not.toMatch(/ssh-key|oauth/);
  });

  it('bad usage is UNKNOWN (3), never CRITICAL', async () => {
    for (const args of [['--kind', 'tls,certs'], ['--warn', '7d', '--crit', '30d'], ['--at', 'tomorrow'], ['--dry-run']]) {
      const r = await run(['expiry', ...args], 0);
      expect(r.code, args.join(' ')).toBe(3);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('a watched file is judged through tls check; tls watch add, list and rm', async () => {
    copyFileSync(join(certs, 'web.test.pem'), join(home, 'served.pem'));
    expect((await run(['tls', 'watch', 'add', join(home, 'served.pem')], 0)).code).toBe(0);
    expect(JSON.parse((await run(['tls', 'watch', 'list', '--json'], 0)).stdout)).toEqual([join(home, 'served.pem')]);
    const r = await run(['expiry', '--json', '--at', iso(85), '--kind', 'tls'], 0);
    const watched = JSON.parse(r.stdout).items.find((i: { type: string }) => i.type === 'tls-watch');
    expect(watched).toMatchObject({ name: join(home, 'served.pem'), ends: iso(90), daysLeft: 5 });
    expect((await run(['tls', 'watch', 'rm', join(home, 'served.pem')], 0)).code).toBe(0);
    expect((await run(['tls', 'watch', 'rm', join(home, 'served.pem')], 0)).code).toBe(3);
  });
});

describe('renewal: tls renew and expiry --renew', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  const certs = join(home, 'certs');
  const run = (args: string[], days: number) => runMain(args, env, { now: at(days) });
  const notAfter = (file: string) => execFileSync('openssl', ['x509', '-in', file, '-noout', '-enddate']).toString().trim();

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    mkdirSync(certs);
    for (const args of [['tls', 'issue', 'soon.test', '--days', '20', '--out-dir', certs], ['tls', 'issue', 'later.test', '--days', '200', '--out-dir', certs], ['tls', 'issue', 'twice.test', '--days', '200', '--out-dir', certs]]) {
      const r = await run(args, 0);
      expect(r.code, r.stderr).toBe(0);
    }
  });
  afterAll(cleanup);

  it('tls renew: only what ends within --before, to the same files with a new key; --dry-run writes nothing; the deploy hook runs once with the names', async () => {
    const key = readFileSync(join(certs, 'soon.test-key.pem'), 'utf8');
    const dry = await run(['tls', 'renew', '--all', '--dry-run', '--json'], 10);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).results.map((r: { name: string; status: string }) => [r.name, r.status])).toEqual([['later.test', 'not-due'], ['soon.test', 'renewed'], ['twice.test', 'not-due']]);
    expect(readFileSync(join(certs, 'soon.test-key.pem'), 'utf8')).toBe(key);
    const log = join(home, 'hook.log');
    const r = await run(['tls', 'renew', '--all', '--deploy-hook', `echo "$RENEWED_CERTIFICATES" >> ${log}`], 10);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(`${join(certs, 'soon.test.pem')}\n`);
    expect(readFileSync(join(certs, 'soon.test-key.pem'), 'utf8')).not.toBe(key);
    expect(statSync(join(certs, 'soon.test-key.pem')).mode & 0o777).toBe(0o600);
    // The new certificate: 20 days from the renewal, for the same name, and it matches its new key.
    expect(new Date(notAfter(join(certs, 'soon.test.pem')).replace('notAfter=', '')).toISOString()).toBe(iso(30));
    const pub = (args: string[]) => execFileSync('openssl', args).toString();
    expect(pub(['x509', '-in', join(certs, 'soon.test.pem'), '-noout', '-pubkey'])).toBe(pub(['pkey', '-in', join(certs, 'soon.test-key.pem'), '-pubout']));
    const failing = await run(['tls', 'renew', 'soon.test', '--force', '--deploy-hook', 'exit 7'], 10);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('deploy hook failed: exit 7');
  });

  it('expiry --renew renews the due local-CA certificate, leaves the rest, and reports after', async () => {
    const before = readFileSync(join(certs, 'later.test.pem'), 'utf8');
    const r = await run(['expiry', '--renew', '--json', '--warn', '30d'], 195);
    const json = JSON.parse(r.stdout);
    // soon.test ended long ago (CRITICAL), later.test and twice.test end within 30 days: all keysmith's to renew.
    expect(json.renewals).toEqual(['soon.test', 'later.test', 'twice.test'].map((name, i) => (
      { type: 'tls-cert', name, result: 'renewed', detail: `until ${iso(i === 0 ? 215 : 395)}`, file: join(certs, `${name}.pem`) })));
    expect(json.items.find((i: { name: string }) => i.name === 'later.test')).toMatchObject({ ends: iso(395), status: 'OK' });
    expect(readFileSync(join(certs, 'later.test.pem'), 'utf8')).not.toBe(before);
    expect(json.items.map((i: { name: string; status: string }) => [i.name, i.status])).toEqual([['soon.test', 'WARNING'], ['later.test', 'OK'], ['twice.test', 'OK'], ['dev', 'OK']]);
  });

  it('two --renew runs at once (two cron jobs) take turns under a lock: the second finds the certificate renewed and renews nothing', async () => {
    const r1 = runMain(['expiry', '--renew', '--json', '--warn', '10d', '--crit', '1d'], env, { now: at(390) });
    const r2 = runMain(['expiry', '--renew', '--json', '--warn', '10d', '--crit', '1d'], env, { now: at(390) });
    const renewals = (await Promise.all([r1, r2])).map((r) => JSON.parse(r.stdout).renewals as Array<{ name: string; result: string }>);
    // At day 390 later.test and twice.test (renewed to 395) are due; soon.test (215) ended, due too.
    expect(renewals.flat().map((r) => `${r.name} ${r.result}`).sort()).toEqual(['later.test renewed', 'soon.test renewed', 'twice.test renewed']);
    expect(renewals.some((list) => list.length === 0)).toBe(true);
    const both = await run(['expiry', '--renew', '--at', iso(400)], 400);
    expect(both.code).toBe(3);
  });

  it('--renew goes on past an item it cannot renew: a refresh token whose provider is gone fails, the certificates are renewed', async () => {
    const now = Date.parse(T0) / 1000;
    expect((await runMain(['secret', 'set', 'oauth/gone', '-', '--kind', 'oauth-tokens', '--field', `refresh_token=${jwt(now + 600 * 86_400)}`], env, { now: at(0), input: 'a' })).code).toBe(0);
    const r = await runMain(['expiry', '--renew', '--json', '--warn', '400d', '--crit', '1d'], env, { now: at(595) });
    const renewals = JSON.parse(r.stdout).renewals as Array<{ type: string; name: string; result: string; detail: string }>;
    expect(renewals.find((x) => x.name === 'gone')).toMatchObject({ type: 'oauth-refresh-token', result: 'failed', detail: expect.stringMatching(/gone/) });
    expect(renewals.filter((x) => x.type === 'tls-cert').map((x) => x.result)).toEqual(['renewed', 'renewed', 'renewed']);
  });
});

describeWith(['promtool'], 'keysmith expiry --prometheus, read by promtool', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);

  it('writes the textfile-collector format that promtool check metrics accepts, atomically, 0644; a watched path with a quote and a backslash escaped', async () => {
    const env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    expect((await runMain(['secret', 'set', 'api/key', '-', '--expires', iso(3).slice(0, 10)], env, { now: at(0), input: 'v' })).code).toBe(0);
    const odd = join(home, 'a "quoted" back\\slash');
    mkdirSync(odd);
    expect((await runMain(['tls', 'issue', 'odd.test', '--days', '40', '--out-dir', odd], env, { now: at(0) })).code).toBe(0);
    expect((await runMain(['tls', 'watch', 'add', join(odd, 'odd.test.pem')], env)).code).toBe(0);
    const file = join(home, 'keysmith.prom');
    const r = await runMain(['expiry', '--prometheus', file], env, { now: at(0) });
    expect(r.code, r.stderr).toBe(2);
    const text = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(text).toContain(`keysmith_credential_expiry_timestamp_seconds{kind="secret",name="api/key"} ${Date.parse(iso(3)) / 1000}`);
    expect(text).toContain('keysmith_credential_status{kind="secret",name="api/key"} 2');
    expect(text).toContain(`name="${join(home, 'a \\"quoted\\" back\\\\slash')}/odd.test.pem"`);
    const r2 = await runProgram('promtool', ['check', 'metrics'], { env: process.env, input: text });
    const check = { code: r2.code, out: r2.stdout + r2.stderr };
    expect(check, check.out).toEqual({ code: 0, out: '' });
  });
});

describeWith(['ssh-keygen', 'sshd', 'ssh'], 'expiry --renew rotates an SSH key due by its --rotate-every on a real sshd', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  let sshd: TestSshd;
  afterAll(async () => {
    await sshd?.stop();
    cleanup();
  });

  it('the old key is replaced in authorized_keys (a login with the new one works), a key not yet due is left alone', async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined });
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    sshd = await startSshd();
    const boot = join(home, 'boot');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'boot', '-f', boot]);
    writeFileSync(sshd.authorizedKeys, readFileSync(`${boot}.pub`, 'utf8'));
    const target = `root@127.0.0.1:${sshd.port}`;
    for (const [name, every] of [['old', '30d'], ['young', '365d']]) {
      expect((await runMain(['ssh', 'keygen', name!, '--no-passphrase', '-C', `${name}@test`, '--rotate-every', every!], env, { now: at(0) })).code).toBe(0);
      const deployed = await runMain(['ssh', 'deploy', name!, target, '-i', boot, '--accept-new', '--authorized-keys', sshd.authorizedKeys], env, { now: at(0) });
      expect(deployed.code, deployed.stderr).toBe(0);
    }
    const oldKey = readFileSync(join(home, '.ssh', 'old.pub'), 'utf8').trim();
    const young = readFileSync(join(home, '.ssh', 'young.pub'), 'utf8').trim();
    const r = await runMain(['expiry', '--renew', '--json', '--kind', 'ssh'], env, { now: at(40) });
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.renewals).toEqual([{ type: 'ssh-key', name: 'old', result: 'renewed', detail: expect.stringMatching(/^SHA256:\S+ → SHA256:\S+ on 1 host\(s\)$/) }]);
    expect(json.items.map((i: { name: string; ends: string }) => [i.name, i.ends])).toEqual([['old', iso(70)], ['young', iso(365)]]);
    const keys = readFileSync(sshd.authorizedKeys, 'utf8');
    const rotated = readFileSync(join(home, '.ssh', 'old.pub'), 'utf8').trim();
    expect(rotated).not.toBe(oldKey);
    expect(keys).toContain(rotated.split(' ').slice(0, 2).join(' '));
    expect(keys).not.toContain(oldKey.split(' ').slice(0, 2).join(' '));
    expect(keys).toContain(young.split(' ').slice(0, 2).join(' '));
    const login = spawnSync('ssh', ['-i', join(home, '.ssh', 'old'), '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', 'root@127.0.0.1', 'true'], { env, stdio: 'ignore' });
    expect(login.status).toBe(0);
  }, 60_000);
});
