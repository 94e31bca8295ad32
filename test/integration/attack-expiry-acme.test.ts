import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, lchownSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import type { CertificateAuthority } from '../../src/tls/ca.js';
import { issueCertificate, signRequest } from '../../src/tls/issue.js';
import { baseEnv, BIN, clockAt, DAY_MS, HOUR_MS, runBin, runMain, runProgram, tempHome, type Run } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';
import { serverCredentials, testCa } from '../helpers/tls-servers.js';

/**
 * An outside review of `keysmith expiry`, `tls renew`, `tls watch` and ACME (`tls acme register`,
 * `tls issue --acme`). Each "finding N" fails on the code as reviewed; each "SAFE" holds.
 *
 * ACME is attacked through a small RFC 8555 server of our own on 127.0.0.1 (https, its CA given
 * to keysmith as NODE_EXTRA_CA_CERTS): a CA that sends odd tokens, identifiers it was not asked
 * for, certificates for another key or other names, redirects to plain http, or never answers.
 */

const T0 = '2026-01-01T00:00:00.000Z';
const at = (days: number) => clockAt(T0, days * DAY_MS);
const iso = (days: number) => new Date(Date.parse(T0) + days * DAY_MS).toISOString();
const jwt = (exp: number) => ['{"alg":"none"}', JSON.stringify({ exp })].map((p) => Buffer.from(p).toString('base64url')).join('.') + '.sig';
const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
/** The public key of the first certificate in a PEM file, and of a private key file (PEM SubjectPublicKeyInfo). */
const certPub = (file: string) => {
  const first = readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0];
  return new X509Certificate(first).publicKey.export({ type: 'spki', format: 'pem' }).toString();
};
const keyPub = (file: string) => openssl(['pkey', '-in', file, '-pubout']);
const leafOf = (file: string) => new X509Certificate(readFileSync(file, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0]);

async function newEnv(home: string, extra: Record<string, string> = {}) {
  return baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined, ...extra });
}

const promtool = async (text: string) => {
  const r = await runProgram('promtool', ['check', 'metrics'], { env: process.env, input: text });
  return { code: r.code, out: r.stdout + r.stderr };
};

// ---------------------------------------------------------------------------------------------
// The radar and tls renew, in-process with main's clock seam
// ---------------------------------------------------------------------------------------------

describe('the radar: one bad record or target must not sink the report', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  afterAll(cleanup);
  beforeAll(async () => {
    env = await newEnv(home);
    // Something that is CRITICAL at T0+1d: the report must say so whatever else is in the vault.
    const r = await runMain(['secret', 'set', 'api/key', '-', '--expires', iso(1).slice(0, 10)], env, { now: at(0), input: 'v' });
    expect(r.code, r.stderr).toBe(0);
  });

  it('finding 1 (fixed): an OAuth refresh token whose exp is out of Date\'s range ("Invalid time value") sinks the whole report: exit 3, no items, no CRITICAL', async () => {
    // The provider decides exp (e.g. in microseconds by mistake); keysmith only reads it.
    const set = await runMain(['secret', 'set', 'oauth/corp', '-', '--kind', 'oauth-tokens', '--field', `refresh_token=${jwt(9e15)}`], env, { now: at(0), input: 'access' });
    expect(set.code, set.stderr).toBe(0);
    try {
      const r = await runMain(['expiry', '--json'], env, { now: at(0.5) });
      expect(r.stderr).not.toMatch(/Invalid time value/);
      // api/key ends within a day: the radar must still say CRITICAL (2), the token itself at worst UNKNOWN.
      expect(r.code, r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).items.map((i: { name: string }) => i.name)).toContain('api/key');
    } finally {
      await runMain(['secret', 'rm', 'oauth/corp'], env);
    }
  });

  it('finding 2 (fixed): a watched glob that matches nothing today (certificates moved, a folder emptied) sinks the whole report: exit 3 "no file matches", no items, and --prometheus keeps the last file, so dashboards go on showing OK', async () => {
    const prom = join(home, 'radar.prom');
    // Last month's cron run: api/key was fine then.
    expect((await runMain(['expiry', '--prometheus', prom], env, { now: at(-40) })).code).toBe(0);
    expect(readFileSync(prom, 'utf8')).toContain('keysmith_credential_status{kind="secret",name="api/key"} 0');
    const dir = join(home, 'gone');
    mkdirSync(dir);
    expect((await runMain(['tls', 'watch', 'add', join(dir, '*.pem')], env)).code).toBe(0);
    try {
      const r = await runMain(['expiry', '--json', '--prometheus', prom], env, { now: at(0.5) });
      // Expected: the glob one UNKNOWN row, api/key still reported CRITICAL, in the output and in the textfile.
      expect(readFileSync(prom, 'utf8')).toContain('keysmith_credential_status{kind="secret",name="api/key"} 2');
      expect(r.stderr).not.toMatch(/no file matches/);
      const items = JSON.parse(r.stdout).items as Array<{ name: string; status: string }>;
      expect(items.map((i) => [i.name, i.status])).toEqual(expect.arrayContaining([['api/key', 'CRITICAL'], [join(dir, '*.pem'), 'UNKNOWN']]));
    } finally {
      await runMain(['tls', 'watch', 'rm', join(dir, '*.pem')], env);
    }
  });

  it('finding 3 (fixed): UNKNOWN beats CRITICAL in the exit status: one watched file that is missing (or an endpoint that is down) turns "a secret ended" into exit 3, unlike tls check (CRITICAL wins over UNKNOWN)', async () => {
    writeFileSync(join(home, 'junk.pem'), 'not a certificate\n');
    const targets = [join(home, 'missing.pem'), join(home, 'junk.pem')];
    expect((await runMain(['tls', 'watch', 'add', ...targets], env)).code).toBe(0);
    try {
      const r = await runMain(['expiry', '--json'], env, { now: at(0.5) });
      const json = JSON.parse(r.stdout);
      // Each bad target is one UNKNOWN row (that part holds)…
      expect(json.items.filter((i: { name: string }) => targets.includes(i.name)).map((i: { status: string }) => i.status)).toEqual(['UNKNOWN', 'UNKNOWN']);
      expect(json.items.find((i: { name: string }) => i.name === 'api/key').status).toBe('CRITICAL');
      // …but the overall status must be CRITICAL (2), as tls check's overallStatus decides.
      expect({ status: json.status, code: r.code }).toEqual({ status: 'CRITICAL', code: 2 });
    } finally {
      await runMain(['tls', 'watch', 'rm', ...targets], env);
    }
  });

  it('finding 4 (fixed): an impossible calendar date is taken and rolled over: --expires 2027-02-30 is stored as 2027-03-02, --at 2027-02-31 judges at 2027-03-03', async () => {
    const set = await runMain(['secret', 'set', 'feb/30', '-', '--expires', '2027-02-30'], env, { now: at(0), input: 'v' });
    try {
      const atr = await runMain(['expiry', '--at', '2027-02-31', '--json'], env, { now: at(0) });
      expect({ set: set.code, at: atr.code }).toEqual({ set: 2, at: 3 });
    } finally {
      await runMain(['secret', 'rm', 'feb/30'], env);
    }
  });

  it('finding 5 (fixed): the message of something that ended an hour ago says "ended 1 day(s) ago" (the "today" branch can never be reached)', async () => {
    const r = await runMain(['expiry', '--json', '--kind', 'secret'], env, { now: clockAt(iso(1), HOUR_MS) });
    const item = JSON.parse(r.stdout).items.find((i: { name: string }) => i.name === 'api/key');
    expect(item.message).toBe('ended today');
  });

  it('finding 6 (fixed): a record\'s kind is printed raw in the radar\'s table (names and messages go through printable): an escape sequence in --kind reaches the terminal', async () => {
    const kind = 'token\x1b]0;owned\x07\x1b[2J';
    expect((await runMain(['secret', 'set', 'esc/token', '-', '--kind', kind, '--expires', iso(100).slice(0, 10)], env, { now: at(0), input: 'v' })).code).toBe(0);
    try {
      const r = await runMain(['expiry', '--kind', 'secret'], env, { now: at(0) });
      expect(r.stdout).toContain('esc/token');
      expect(r.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    } finally {
      await runMain(['secret', 'rm', 'esc/token'], env);
    }
  });
});

describe('the radar reads files beside managed SSH keys', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);

  it('finding 7 (fixed): a named pipe at ~/.ssh/KEY-cert.pub (where ssh looks for the certificate) hangs keysmith expiry for ever: a synchronous read that no --timeout can stop (tls check calls a FIFO "not a regular file", UNKNOWN)', async () => {
    const env = await newEnv(home);
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    expect((await runBin(['ssh', 'keygen', 'piped', '--no-passphrase', '--rotate-every', '90d'], { env })).code).toBe(0);
    execFileSync('mkfifo', [join(home, '.ssh', 'piped-cert.pub')]);
    const r = await runBin(['expiry', '--kind', 'ssh', '--json'], { env, timeoutMs: 15_000 });
    // Expected: the report (the key OK, the certificate at worst UNKNOWN) within the time; got: killed after 15 s.
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 0 });
  }, 30_000);
});

describe('time zones: the same --at means the same instant everywhere', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);

  it('finding 8 (fixed): --at 2027-01-01 is midnight UTC but --at 2027-01-01T00:00 is midnight in $TZ (5 h apart in New York); a cron job and a laptop disagree', async () => {
    const env = await newEnv(home);
    const ny = await runBin(['expiry', '--json', '--at', '2027-01-01T00:00'], { env: { ...env, TZ: 'America/New_York' } });
    const utc = await runBin(['expiry', '--json', '--at', '2027-01-01T00:00'], { env: { ...env, TZ: 'UTC' } });
    expect(ny.code, ny.stderr).toBe(0);
    // Either both the same instant (UTC, as for a date alone), or an offset-less time refused.
    expect(JSON.parse(ny.stdout).at).toBe(JSON.parse(utc.stdout).at);
  });
});

describe('tls renew and expiry --renew on local-CA certificates', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  const run = (args: string[], days: number, input?: string) => runMain(args, env, { now: at(days), ...(input !== undefined ? { input } : {}) });
  afterAll(cleanup);
  beforeAll(async () => {
    env = await newEnv(home);
  });

  it('SAFE: expiry --renew refuses --at (it would renew "as at" another time): exit 3, nothing written', async () => {
    const dir = join(home, 'at');
    mkdirSync(dir);
    expect((await run(['tls', 'issue', 'at.test', '--days', '30', '--out-dir', dir], 0)).code).toBe(0);
    const before = readFileSync(join(dir, 'at.test.pem'), 'utf8');
    const r = await run(['expiry', '--renew', '--at', iso(22), '--kind', 'tls', '--json'], 1);
    expect(r.code).toBe(3);
    expect(readFileSync(join(dir, 'at.test.pem'), 'utf8')).toBe(before);
  });

  it('finding 9 (fixed): tls renew of several stops at the first certificate that cannot be renewed (a CA too close to its end): later ones are not renewed, the deploy hook never runs for the ones already replaced, no report', async () => {
    const dir = join(home, 'all');
    mkdirSync(dir);
    expect((await run(['tls', 'ca', 'create', 'old', '--days', '40'], 0)).code).toBe(0);
    expect((await run(['tls', 'ca', 'create', 'young', '--days', '400'], 0)).code).toBe(0);
    for (const [name, ca] of [['a.test', 'young'], ['b.test', 'old'], ['c.test', 'young']] as const) {
      const r = await run(['tls', 'issue', name, '--ca', ca, '--days', '30', '--out-dir', dir], 0);
      expect(r.code, r.stderr).toBe(0);
    }
    const before = { a: readFileSync(join(dir, 'a.test.pem'), 'utf8'), c: readFileSync(join(dir, 'c.test.pem'), 'utf8') };
    const log = join(home, 'deploy.log');
    // At T0+25 all three are due; b.test's renewal would outlive its CA (T0+40).
    const r = await run(['tls', 'renew', 'a.test', 'b.test', 'c.test', '--json', '--deploy-hook', `echo "$RENEWED_CERTIFICATES" >> '${log}'`], 25);
    let results: unknown;
    try {
      results = JSON.parse(r.stdout).results.map((x: { name: string; status: string }) => [x.name, x.status]);
    } catch {
      results = `(no report: ${r.stderr.trim()})`;
    }
    const got = {
      aReplaced: readFileSync(join(dir, 'a.test.pem'), 'utf8') !== before.a,
      cRenewed: readFileSync(join(dir, 'c.test.pem'), 'utf8') !== before.c,
      hook: existsSync(log) ? readFileSync(log, 'utf8') : '(never ran)',
      code: r.code,
      results,
    };
    // a.test was replaced on disk, so the hook must reload the server with it; c.test renewed too; b.test reported.
    // RENEWED_CERTIFICATES: the certificate files, one a line.
    expect(got).toEqual({ aReplaced: true, cRenewed: true, hook: `${join(dir, 'a.test.pem')}\n${join(dir, 'c.test.pem')}\n`, code: 1, results: [['a.test', 'renewed'], ['b.test', 'cannot'], ['c.test', 'renewed']] });
  });

  it('finding 10 (fixed): a renewal that fails after the key is written (the certificate path cannot be written) leaves a key that does not match the certificate: the server fails to start on reload', async () => {
    const dir = join(home, 'half');
    mkdirSync(dir);
    expect((await run(['tls', 'issue', 'half.test', '--days', '30', '--out-dir', dir], 0)).code).toBe(0);
    // The certificate is linked into a layout (as certbot's live/ → archive/) whose target folder went away.
    const cert = join(dir, 'half.test.pem');
    const pem = readFileSync(cert, 'utf8');
    rmSync(cert);
    symlinkSync(join(dir, 'archive', 'half.test.pem'), cert);
    const r = await run(['tls', 'renew', 'half.test', '--force'], 1);
    expect(r.code).not.toBe(0);
    // Put the old certificate back where the link points: what a server reading the pair now sees.
    mkdirSync(join(dir, 'archive'));
    writeFileSync(join(dir, 'archive', 'half.test.pem'), pem);
    expect(keyPub(join(dir, 'half.test-key.pem'))).toBe(certPub(cert));
  });

  it('finding 11 (fixed): renewal writes through a symlink planted at the key path by another user: the new private key lands on a file outside the output folder (root\'s cron overwrites what the link names)', async () => {
    const dir = join(home, 'link');
    mkdirSync(dir);
    expect((await run(['tls', 'issue', 'link.test', '--days', '30', '--out-dir', dir], 0)).code).toBe(0);
    const victim = join(home, 'victim.conf');
    writeFileSync(victim, 'precious = true\n');
    // Whoever can write the certificate folder (the web application's user) swaps the key file for a link.
    const key = join(dir, 'link.test-key.pem');
    rmSync(key);
    symlinkSync(victim, key);
    if (process.getuid?.() === 0) lchownSync(key, 65534, 65534);
    await run(['expiry', '--renew', '--kind', 'tls'], 25);
    expect(readFileSync(victim, 'utf8')).toBe('precious = true\n');
  });

  it('finding 12 (fixed): two certificates with the same file stem in two folders (staging and production) share one vault record: the second now says that the first is no longer kept or renewed', async () => {
    const [a, b] = [join(home, 'stage'), join(home, 'prod')];
    mkdirSync(a);
    mkdirSync(b);
    expect((await run(['tls', 'issue', 'same.test', '--days', '20', '--out-dir', a], 0)).code).toBe(0);
    // One record a name, as mkcert-style issuing into any folder expects: the second takes it over,
    // and says so, naming the file that is no longer renewed.
    const second = await run(['tls', 'issue', 'same.test', '--days', '200', '--out-dir', b], 0);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`same.test was kept for ${join(a, 'same.test.pem')}: keysmith now keeps (and renews) ${join(b, 'same.test.pem')} instead`);
    const r = await run(['expiry', '--json', '--kind', 'tls'], 15);
    const where = JSON.parse(r.stdout).items.filter((i: { name: string }) => i.name === 'same.test').map((i: { where: string }) => i.where);
    expect(where).toEqual([join(b, 'same.test.pem')]);
  });

  it('finding 13 (fixed): RENEWED_CERTIFICATES (and the radar\'s names) say example.test_1 for the files example.test+1.pem: a hook cannot find the files it is told about', async () => {
    const dir = join(home, 'plus');
    mkdirSync(dir);
    expect((await run(['tls', 'issue', 'p.test', 'www.p.test', '--days', '30', '--out-dir', dir], 0)).code).toBe(0);
    const log = join(home, 'plus.log');
    const r = await run(['tls', 'renew', 'p.test+1', '--force', '--deploy-hook', `printf '%s\\n' "$RENEWED_CERTIFICATES" | while read -r f; do test -f "$f" && basename "$f" >> '${log}'; done; true`], 1);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '(no file found by the hook)').toBe('p.test+1.pem\n');
    const radar = JSON.parse((await run(['expiry', '--json', '--kind', 'tls'], 1)).stdout);
    expect(radar.items.map((i: { name: string }) => i.name)).toContain('p.test+1');
  });

  it('finding 14 (fixed): expiry --renew (the README\'s "one cron line") renews certificates but has no deploy hook: nginx keeps serving the old certificate until it ends', async () => {
    const dir = join(home, 'cron');
    mkdirSync(dir);
    expect((await run(['tls', 'issue', 'cron.test', '--days', '30', '--out-dir', dir], 0)).code).toBe(0);
    const log = join(home, 'cron.log');
    const r = await run(['expiry', '--renew', '--kind', 'tls', '--deploy-hook', `echo "$RENEWED_CERTIFICATES" >> '${log}'`], 25);
    expect(r.stderr).not.toMatch(/unknown option/);
    expect(existsSync(log)).toBe(true);
  });

  it('SAFE: tls renew --deploy-hook: no KEYSMITH_* variable (the vault identity) reaches the hook; RENEWED_CERTIFICATES does', async () => {
    const dir = join(home, 'hookenv');
    mkdirSync(dir);
    expect((await run(['tls', 'issue', 'env.test', '--days', '30', '--out-dir', dir], 0)).code).toBe(0);
    const dump = join(home, 'hook.env');
    const r = await run(['tls', 'renew', 'env.test', '--force', '--deploy-hook', `env > '${dump}'`], 1);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(dump, 'utf8');
    expect(text).toContain(`RENEWED_CERTIFICATES=${join(dir, 'env.test.pem')}`);
    expect(text).not.toMatch(/^KEYSMITH_/m);
    expect(text).not.toContain(env.KEYSMITH_AGE_IDENTITY!);
  });

  it('SAFE: expiry --renew --dry-run and tls renew --dry-run write nothing', async () => {
    const dir = join(home, 'dry');
    mkdirSync(dir);
    expect((await run(['tls', 'issue', 'dry.test', '--days', '30', '--out-dir', dir], 0)).code).toBe(0);
    const before = [readFileSync(join(dir, 'dry.test.pem'), 'utf8'), readFileSync(join(dir, 'dry.test-key.pem'), 'utf8')];
    const a = await run(['expiry', '--renew', '--dry-run', '--kind', 'tls', '--json'], 25);
    expect(JSON.parse(a.stdout).renewals).toContainEqual(expect.objectContaining({ name: 'dry.test', result: 'would renew' }));
    expect((await run(['tls', 'renew', 'dry.test', '--dry-run'], 25)).code).toBe(0);
    expect([readFileSync(join(dir, 'dry.test.pem'), 'utf8'), readFileSync(join(dir, 'dry.test-key.pem'), 'utf8')]).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------
// --prometheus
// ---------------------------------------------------------------------------------------------

describeWith(['promtool'], 'expiry --prometheus', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  afterAll(cleanup);
  beforeAll(async () => {
    env = await newEnv(home);
  });

  it('SAFE: watched file names with a newline, a quote, a backslash and a carriage return are escaped; promtool accepts the file', async () => {
    const dir = join(home, 'odd');
    mkdirSync(dir);
    expect((await runMain(['tls', 'issue', 'odd.test', '--days', '40', '--out-dir', dir], env, { now: at(0) })).code).toBe(0);
    const pem = readFileSync(join(dir, 'odd.test.pem'));
    for (const name of ['a\nb.pem', 'q"uote\\.pem', 'c\rr.pem']) writeFileSync(join(dir, name), pem);
    expect((await runMain(['tls', 'watch', 'add', join(dir, '?*.pem')], env)).code).toBe(0);
    const file = join(home, 'odd.prom');
    const r = await runMain(['expiry', '--prometheus', file], env, { now: at(0) });
    expect(r.code, r.stderr).not.toBe(3); // the dev CA is not trusted: the watched files are CRITICAL
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('a\\nb.pem"');
    expect(await promtool(text)).toEqual({ code: 0, out: '' });
    await runMain(['tls', 'watch', 'rm', join(dir, '?*.pem')], env);
  });

  it('finding 15 (fixed): a file watched twice (a glob and its own name, or two globs) gives duplicate series: node_exporter rejects the whole textfile ("collected before with the same name and label values")', async () => {
    const dir = join(home, 'dup');
    mkdirSync(dir);
    expect((await runMain(['tls', 'issue', 'dup.test', '--days', '40', '--out-dir', dir], env, { now: at(0) })).code).toBe(0);
    const targets = [join(dir, '*.test.pem'), join(dir, 'dup.test.pem')];
    expect((await runMain(['tls', 'watch', 'add', ...targets], env)).code).toBe(0);
    try {
      const file = join(home, 'dup.prom');
      await runMain(['expiry', '--prometheus', file, '--kind', 'tls'], env, { now: at(0) });
      const series = readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.slice(0, l.lastIndexOf(' ')));
      expect(series.filter((s, i) => series.indexOf(s) !== i)).toEqual([]);
    } finally {
      await runMain(['tls', 'watch', 'rm', ...targets], env);
    }
  });

  it('SAFE: --prometheus at a symlink replaces the link (0644), never writes through it', async () => {
    const victim = join(home, 'victim.txt');
    writeFileSync(victim, 'keep\n');
    const link = join(home, 'link.prom');
    symlinkSync(victim, link);
    const r = await runMain(['expiry', '--prometheus', link, '--kind', 'secret'], env, { now: at(0) });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(lstatSync(link).mode & 0o777).toBe(0o644);
  });
});

// ---------------------------------------------------------------------------------------------
// expiry --renew of SSH keys, against a real OpenSSH sshd on 127.0.0.1
// ---------------------------------------------------------------------------------------------

describeWith(['ssh-keygen', 'sshd'], 'expiry --renew rotates SSH keys unattended', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  let host: TestSshd;
  const boot = join(home, 'boot');
  const ks = (args: string[], input?: string) => runBin(args, { env, timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
  const target = () => `root@127.0.0.1:${host.port}`;
  /** Whether ssh-keygen opens the private key with this passphrase ('' = none). */
  const opensWith = (file: string, passphrase: string) => {
    try {
      execFileSync('ssh-keygen', ['-y', '-P', passphrase, '-f', file], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    env = await newEnv(home);
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bootstrap', '-f', boot]);
    host = await startSshd();
    writeFileSync(host.authorizedKeys, readFileSync(`${boot}.pub`, 'utf8'));
  }, 60_000);
  afterAll(async () => {
    await host?.stop();
    cleanup();
  });

  it('finding 16 (fixed): a passphrase-protected key whose passphrase the vault does not keep is rotated from cron anyway: the new private key is written WITHOUT a passphrase, and the hosts still only know the old key', async () => {
    const key = join(home, '.ssh', 'locked');
    const made = await ks(['ssh', 'keygen', 'locked', '--passphrase-stdin', '--rotate-every', '1d', '-C', 'locked@test'], 'correct horse battery');
    expect(made.code, made.stderr).toBe(0);
    const deployed = await ks(['ssh', 'deploy', 'locked', target(), '-i', boot, '--accept-new', '--authorized-keys', host.authorizedKeys]);
    expect(deployed.code, deployed.stderr).toBe(0);
    expect(opensWith(key, '')).toBe(false);
    const r = await ks(['expiry', '--renew', '--kind', 'ssh', '--json']);
    // Expected: left for a person ("needs its passphrase"); the key file unchanged and encrypted.
    const blob = readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!;
    expect({ unencrypted: opensWith(key, ''), hostAcceptsKeyFile: readFileSync(host.authorizedKeys, 'utf8').includes(blob), renewals: JSON.parse(r.stdout).renewals.map((x: { result: string }) => x.result) })
      .toEqual({ unencrypted: false, hostAcceptsKeyFile: true, renewals: ['failed'] });
  });

  it('finding 17 (fixed): a rotation cut short by an unreachable host is never finished by later expiry --renew runs ("a rotation … is in progress", every night), while ~/.ssh/NAME already holds a key the host does not accept', async () => {
    const made = await ks(['ssh', 'keygen', 'plain', '--no-passphrase', '--rotate-every', '1d', '-C', 'plain@test']);
    expect(made.code, made.stderr).toBe(0);
    expect((await ks(['ssh', 'deploy', 'plain', target(), '-i', boot, '--accept-new', '--authorized-keys', host.authorizedKeys])).code).toBe(0);
    await host.stop();
    let first: Run;
    try {
      first = await ks(['expiry', '--renew', '--kind', 'ssh', '--json']);
    } finally {
      await host.restart();
    }
    expect(JSON.parse(first.stdout).renewals.find((x: { name: string }) => x.name === 'plain')).toMatchObject({ result: 'failed' });
    // The host is back: the next cron run must finish the rotation (resume it).
    const second = await ks(['expiry', '--renew', '--kind', 'ssh', '--json']);
    const plain = JSON.parse(second.stdout).renewals.find((x: { name: string }) => x.name === 'plain');
    expect(plain?.result, plain?.detail).toBe('renewed');
  });
});

// ---------------------------------------------------------------------------------------------
// A small RFC 8555 server of our own: what a hostile or broken CA can send
// ---------------------------------------------------------------------------------------------

interface MockAuthz {
  status: string;
  identifier?: { type: string; value: string };
  challenges?: Array<{ type: string; token: string }>;
}
interface MockOptions {
  /** The authorization for the i-th identifier of an order (default: already valid, no challenge). */
  authz?: (identifier: { type: string; value: string }, i: number) => MockAuthz;
  /** The PEM chain sent for a finalized order (default: the CSR signed by the mock CA, `days` long). */
  certificate?: (csrDer: Buffer) => Promise<string>;
  /** Called when keysmith says a challenge is ready (before it is marked valid). */
  onChallenge?: (challenge: { type: string; token: string }) => void | Promise<void>;
  /** Raw routes, tried first. */
  route?: (req: IncomingMessage, res: ServerResponse, base: string) => boolean;
}
interface MockAcme {
  base: string;
  directory: string;
  caFile: string;
  ca: CertificateAuthority;
  options: MockOptions;
  /** newOrder requests seen, and how many are being held now. */
  orders: number;
  held: number;
  /** Lifetime of the certificates it signs, in days. */
  days: number;
  /** Hold every newOrder answer until release() (null: answer at once). */
  hold: null | { release: () => void; promise: Promise<void> };
  close(): Promise<void>;
}

async function startMockAcme(dir: string, days = 10): Promise<MockAcme> {
  const ca = await testCa('mock-acme');
  const creds = await serverCredentials(ca, ['127.0.0.1', 'localhost']);
  const caFile = join(dir, 'mock-acme-ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  const orders = new Map<string, { identifiers: Array<{ type: string; value: string }>; cert?: string; authz: MockAuthz[] }>();
  let nonce = 0;
  const mock: MockAcme = {
    base: '', directory: '', caFile, ca, options: {}, orders: 0, held: 0, hold: null, days,
    close: () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
  const server: HttpsServer = createHttpsServer({ cert: creds.cert, key: creds.key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => void (async () => {
      const base = mock.base;
      res.setHeader('Replay-Nonce', `n${++nonce}`);
      res.setHeader('Cache-Control', 'no-store');
      if (mock.options.route?.(req, res, base)) return;
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      let payload: Record<string, unknown> | null = null;
      if (req.method === 'POST') {
        const jws = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payload: string };
        payload = jws.payload ? JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) : null;
      }
      const url = req.url ?? '/';
      let m: RegExpExecArray | null;
      if (url === '/dir') return json(200, { newNonce: `${base}/nonce`, newAccount: `${base}/acct/new`, newOrder: `${base}/order/new`, revokeCert: `${base}/revoke`, keyChange: `${base}/key-change`, meta: {} });
      if (url === '/nonce') return res.writeHead(req.method === 'HEAD' ? 200 : 204).end();
      if (url === '/acct/new') return json(201, { status: 'valid', contact: payload?.contact ?? [] }, { location: `${base}/acct/1` });
      if (url === '/acct/1') return json(200, { status: 'valid' });
      if (url === '/order/new') {
        mock.orders++;
        if (mock.hold) {
          mock.held++;
          await mock.hold.promise;
          mock.held--;
        }
        const id = String(orders.size + 1);
        const identifiers = (payload!.identifiers as Array<{ type: string; value: string }>);
        const authz = identifiers.map((ident, i) => mock.options.authz?.(ident, i) ?? { status: 'valid' });
        orders.set(id, { identifiers, authz });
        return json(201, { status: 'pending', identifiers, authorizations: identifiers.map((_, i) => `${base}/authz/${id}/${i}`), finalize: `${base}/finalize/${id}` }, { location: `${base}/order/${id}` });
      }
      if ((m = /^\/authz\/(\d+)\/(\d+)$/.exec(url))) {
        const order = orders.get(m[1]!)!;
        const i = Number(m[2]);
        const a = order.authz[i]!;
        if (payload && payload.status === 'deactivated') return json(200, { status: 'deactivated', identifier: order.identifiers[i] });
        return json(200, { status: a.status, identifier: a.identifier ?? order.identifiers[i], challenges: (a.challenges ?? []).map((c, k) => ({ ...c, url: `${base}/chall/${m![1]}/${i}/${k}`, status: a.status === 'valid' ? 'valid' : 'pending' })) });
      }
      if ((m = /^\/chall\/(\d+)\/(\d+)\/(\d+)$/.exec(url))) {
        const c = orders.get(m[1]!)!.authz[Number(m[2])]!.challenges![Number(m[3])]!;
        if (payload && Object.keys(payload).length === 0) await mock.options.onChallenge?.(c);
        return json(200, { ...c, url: `${base}${url}`, status: 'valid' });
      }
      if ((m = /^\/finalize\/(\d+)$/.exec(url))) {
        const order = orders.get(m[1]!)!;
        const csr = Buffer.from(String(payload!.csr), 'base64url');
        try {
          order.cert = mock.options.certificate ? await mock.options.certificate(csr) : (await signRequest(ca, csr, { now: new Date(Date.now() - 60_000), days: mock.days })).certificatePem + ca.certificatePem;
        } catch (err) {
          return json(403, { type: 'urn:ietf:params:acme:error:unauthorized', detail: (err as Error).message }, { 'content-type': 'application/problem+json' });
        }
        return json(200, { status: 'valid', identifiers: order.identifiers, finalize: `${base}${url}`, certificate: `${base}/cert/${m[1]}` });
      }
      if ((m = /^\/order\/(\d+)$/.exec(url))) return json(200, { status: 'valid', identifiers: orders.get(m[1]!)!.identifiers, certificate: `${base}/cert/${m[1]}` });
      if ((m = /^\/cert\/(\d+)$/.exec(url))) return res.writeHead(200, { 'content-type': 'application/pem-certificate-chain' }).end(orders.get(m[1]!)!.cert);
      json(404, { type: 'urn:ietf:params:acme:error:malformed', detail: `no route ${url}` });
    })().catch((err: Error) => res.writeHead(500).end(err.message)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mock.base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  mock.directory = `${mock.base}/dir`;
  return mock;
}

/** A certificate from `ca` for `names`, for the key in the CSR (names chosen by the CA, not the CSR). */
async function certForCsrKey(ca: CertificateAuthority, csrDer: Buffer, names: string[]): Promise<string> {
  const { x509 } = ca;
  const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(csrDer));
  const publicKey = await csr.publicKey.export();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '0badc0de01', subject: `CN=${names[0]}`, issuer: ca.certificate.subject,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 10 * DAY_MS), publicKey, signingKey: ca.key, signingAlgorithm: ca.algorithm.sign,
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]), new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value })))],
  });
  return `${cert.toString('pem')}\n${ca.certificatePem}`;
}

describeWith(['openssl'], 'ACME against a hostile CA (our own RFC 8555 server on 127.0.0.1)', () => {
  const { home, cleanup } = tempHome();
  let mock: MockAcme;
  let env: NodeJS.ProcessEnv;
  const out = join(home, 'certs');
  const ks = (args: string[], o: { input?: string; timeoutMs?: number; extra?: NodeJS.ProcessEnv } = {}) => runBin(args, { env: { ...env, ...o.extra }, timeoutMs: o.timeoutMs ?? 60_000, ...(o.input !== undefined ? { input: o.input } : {}) });
  const issue = (names: string[], challenge: string[], extra: string[] = []) => ks(['tls', 'issue', ...names, '--acme', ...challenge, '--out-dir', out, ...extra]);

  beforeAll(async () => {
    mock = await startMockAcme(home);
    env = await newEnv(home, { NODE_EXTRA_CA_CERTS: mock.caFile, KEYSMITH_ACME_DIRECTORY: mock.directory });
    mkdirSync(out);
    const r = await ks(['tls', 'acme', 'register', '--agree-tos', '--email', 'me@example.test']);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await mock?.close();
    cleanup();
  });

  it('SAFE (sanity): a well-behaved order through the mock CA issues a pair that matches', async () => {
    mock.options = {};
    const r = await issue(['ok.test'], ['--dns-01', '--dns-hook', '/bin/true']);
    expect(r.code, r.stderr).toBe(0);
    expect(keyPub(join(out, 'ok.test-key.pem'))).toBe(certPub(join(out, 'ok.test.pem')));
  });

  it('finding 18 (fixed): http-01 --webroot takes the CA\'s token as a path: a token "../../../victim" writes the key authorization over a file outside the webroot, then deletes it', async () => {
    const webroot = join(home, 'www');
    mkdirSync(webroot);
    const victim = join(home, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    let during = '';
    mock.options = {
      authz: () => ({ status: 'pending', challenges: [{ type: 'http-01', token: '../../../victim.txt' }] }),
      onChallenge: () => void (during = existsSync(victim) ? readFileSync(victim, 'utf8') : '(gone)'),
    };
    await issue(['trav.test'], ['--http-01', '--webroot', webroot]);
    // Expected: a token that is not base64url (RFC 8555 §8.1) refused (the CA then never validates:
    // `during` stays unset); the file outside the webroot untouched.
    expect(['', 'precious\n']).toContain(during);
    expect(existsSync(victim) ? readFileSync(victim, 'utf8') : '(deleted)').toBe('precious\n');
  });

  it('finding 19 (fixed): dns-01 runs the hook for whatever identifier the CA\'s authorization names, not the names ordered: _acme-challenge.victim.example.org. (and a name with a newline in it) reach the DNS hook', async () => {
    const log = join(home, 'dns.log');
    const hook = join(home, 'dns-hook.sh');
    writeFileSync(hook, `#!/bin/sh\nprintf '%s|%s\\n' "$1" "$2" >> '${log}'\n`, { mode: 0o755 });
    for (const value of ['victim.example.org', 'mine.test\nupdate add evil.example.org 60 TXT pwned']) {
      mock.options = { authz: () => ({ status: 'pending', identifier: { type: 'dns', value }, challenges: [{ type: 'dns-01', token: 'tok-dns' }] }) };
      await issue(['mine.test'], ['--dns-01', '--dns-hook', hook], ['--force']);
    }
    const fqdns = existsSync(log) ? readFileSync(log, 'utf8').split(/^(?=present\||cleanup\|)/m).filter(Boolean).map((l) => l.slice(l.indexOf('|') + 1).trimEnd()) : [];
    // Expected: at most _acme-challenge.mine.test. — an authorization for a name not ordered is refused before any hook runs.
    expect([...new Set(fqdns)].filter((f) => f !== '_acme-challenge.mine.test.')).toEqual([]);
  });

  it('finding 20 (fixed): the certificate the CA sends is not checked against the new key: a certificate for another key is written beside the key, exit 0 (nginx then refuses the pair)', async () => {
    mock.options = { certificate: async () => (await issueCertificate(mock.ca, ['wrongkey.test'], { now: new Date(Date.now() - 60_000), days: 10 })).certificatePem + mock.ca.certificatePem };
    const r = await issue(['wrongkey.test'], ['--dns-01', '--dns-hook', '/bin/true']);
    const written = existsSync(join(out, 'wrongkey.test.pem'));
    // Expected: refused, nothing written (or at least a pair that matches).
    expect(written && keyPub(join(out, 'wrongkey.test-key.pem')) !== certPub(join(out, 'wrongkey.test.pem')) ? `mismatched pair written, exit ${r.code}` : 'ok').toBe('ok');
  });

  it('finding 21 (fixed): the certificate the CA sends is not checked against the names ordered: one for other.example (on our key) is written as names.test and recorded as names.test', async () => {
    mock.options = { certificate: (csr) => certForCsrKey(mock.ca, csr, ['other.example']) };
    const r = await issue(['names.test'], ['--dns-01', '--dns-hook', '/bin/true']);
    const file = join(out, 'names.test.pem');
    const sans = existsSync(file) ? leafOf(file).subjectAltName : '(nothing written)';
    expect({ code: r.code === 0 ? 0 : 'failed', sans }).toEqual({ code: 'failed', sans: '(nothing written)' });
  });

  it('finding 22 (fixed): dns-01 hooks for the names of one order run at the same time (example.test and *.example.test: two "present" for the same _acme-challenge record at once); a hook that edits a zone file or replaces the record set races itself', async () => {
    const log = join(home, 'overlap.log');
    const hook = join(home, 'slow-hook.sh');
    writeFileSync(hook, `#!/bin/sh\necho "start $1 $2" >> '${log}'\nsleep 1\necho "end $1 $2" >> '${log}'\n`, { mode: 0o755 });
    mock.options = { authz: (_ident, i) => ({ status: 'pending', challenges: [{ type: 'dns-01', token: `tok-overlap-${i}` }] }) };
    const r = await issue(['both.test', '*.both.test'], ['--dns-01', '--dns-hook', hook]);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    // Expected: one hook at a time (start, end, start, end, …).
    expect(lines.slice(0, 2)).toEqual(['start', 'end']);
  });

  it('SAFE: a CA that refuses at finalize leaves the old pair in place on tls renew (nothing written), exit 1 with the CA\'s words', async () => {
    mock.options = {};
    expect((await issue(['keep.test'], ['--dns-01', '--dns-hook', '/bin/true'])).code).toBe(0);
    const before = [readFileSync(join(out, 'keep.test.pem'), 'utf8'), readFileSync(join(out, 'keep.test-key.pem'), 'utf8')];
    mock.options = { certificate: async () => { throw new Error('rate limited: too many certificates'); } };
    const r = await ks(['tls', 'renew', 'keep.test', '--force']);
    expect(r.code).toBe(1);
    // A certificate that cannot be renewed is a row of the report (the CA's words), the others go on.
    expect(r.stdout).toMatch(/keep\.test +cannot .*the CA said: .*rate limited/);
    expect([readFileSync(join(out, 'keep.test.pem'), 'utf8'), readFileSync(join(out, 'keep.test-key.pem'), 'utf8')]).toEqual(before);
  });

  it('SAFE: the DNS hook sees no KEYSMITH_* variable, the account key is in no file under HOME, and DEBUG=acme-client output carries no key', async () => {
    mock.options = { authz: () => ({ status: 'pending', challenges: [{ type: 'dns-01', token: 'tok-env' }] }) };
    const dump = join(home, 'hook-env.txt');
    const hook = join(home, 'env-hook.sh');
    writeFileSync(hook, `#!/bin/sh\nenv >> '${dump}'\n`, { mode: 0o755 });
    const r = await issue(['env.test'], ['--dns-01', '--dns-hook', hook], ['--force']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(dump, 'utf8');
    expect(text).not.toMatch(/^KEYSMITH_/m);
    expect(text).not.toContain(env.KEYSMITH_AGE_IDENTITY!);
    const [record] = JSON.parse((await ks(['secret', 'list', 'acme/', '--json'])).stdout) as Array<{ name: string; kind: string }>;
    expect(record?.kind).toBe('acme-account');
    const account = JSON.parse((await ks(['secret', 'get', record!.name, '--json'])).stdout || '{}') as { value?: string };
    expect(account.value ?? '').toMatch(/PRIVATE KEY/);
    const body = account.value!.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const grep = (() => {
      try {
        return execFileSync('grep', ['-rlF', body.slice(56, 96), home]).toString();
      } catch {
        return '';
      }
    })();
    expect(grep).toBe('');
    const dbg = await ks(['tls', 'issue', 'debug2.test', '--acme', '--dns-01', '--dns-hook', '/bin/true', '--out-dir', out], { extra: { DEBUG: 'acme-client*,axios*,*' } });
    expect(dbg.code, dbg.stderr).toBe(0);
    expect(dbg.stderr).not.toContain(body.slice(56, 96));
    expect(dbg.stderr).not.toMatch(/PRIVATE KEY/);
    expect(dbg.stderr).toMatch(/acme-client/); // the debug output was on
  });

  it('finding 23 (fixed): --webroot files and folders follow the umask: under umask 027/077 (hardened hosts, CIS) the answer is 0600 in 0700 folders, which the web server\'s user cannot read (README: 0644)', async () => {
    const webroot = join(home, 'www-umask');
    mkdirSync(webroot, { mode: 0o755 });
    const modes: Record<string, string> = {};
    mock.options = {
      authz: () => ({ status: 'pending', challenges: [{ type: 'http-01', token: 'tokUmask_1' }] }),
      onChallenge: (c) => {
        for (const p of ['.well-known', '.well-known/acme-challenge', `.well-known/acme-challenge/${c.token}`]) {
          modes[p] = existsSync(join(webroot, p)) ? (lstatSync(join(webroot, p)).mode & 0o777).toString(8) : 'missing';
        }
      },
    };
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('sh', ['-c', 'umask 077; exec "$0" "$@"', process.execPath, BIN, 'tls', 'issue', 'umask.test', '--acme', '--http-01', '--webroot', webroot, '--out-dir', out], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code, r.stderr).toBe(0);
    expect(modes).toEqual({ '.well-known': '755', '.well-known/acme-challenge': '755', '.well-known/acme-challenge/tokUmask_1': '644' });
  });

  it('SAFE: two renewals at once take turns under the renewal lock: the second places no order while the first is at the CA, then finds the certificate renewed', async () => {
    mock.options = {};
    mock.days = 3;
    expect((await issue(['race.test'], ['--dns-01', '--dns-hook', '/bin/true'], ['--force'])).code).toBe(0);
    mock.days = 60;
    let release!: () => void;
    mock.hold = { promise: new Promise<void>((r) => (release = r)), release: () => release() };
    const ordersBefore = mock.orders;
    const renew = () => ks(['expiry', '--renew', '--kind', 'tls', '--warn', '5d', '--crit', '1d', '--json']);
    try {
      const a = renew();
      for (let i = 0; i < 400 && mock.held < 1; i++) await new Promise((r) => setTimeout(r, 50));
      expect(mock.held).toBe(1);
      const b = renew();
      await new Promise((r) => setTimeout(r, 4000));
      const duringHold = mock.orders - ordersBefore;
      mock.hold.release();
      mock.hold = null;
      const [ra, rb] = await Promise.all([a, b]);
      expect(duringHold).toBe(1);
      expect(mock.orders - ordersBefore).toBe(1);
      const renewed = [ra, rb].map((r) => (JSON.parse(r.stdout).renewals as Array<{ name: string; result: string }>).filter((x) => x.name === 'race.test').map((x) => x.result));
      expect(renewed.flat()).toEqual(['renewed']);
      expect(keyPub(join(out, 'race.test-key.pem'))).toBe(certPub(join(out, 'race.test.pem')));
    } finally {
      mock.hold?.release();
      mock.hold = null;
      mock.days = 10;
    }
  });

  it('finding 24 (fixed): the https-only rule holds for the directory URL only: a directory that redirects to http, or lists http endpoints, is followed over plain http', async () => {
    const seen: string[] = [];
    const plain: HttpServer = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const http = `http://127.0.0.1:${(plain.address() as { port: number }).port}`;
    mock.options = {
      route: (req, res) => {
        if (req.url === '/redirect') res.writeHead(302, { location: `${http}/dir` }).end();
        else if (req.url === '/http-dir') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ newNonce: `${http}/nonce`, newAccount: `${http}/acct`, newOrder: `${http}/order` }));
        else return false;
        return true;
      },
    };
    try {
      for (const path of ['/redirect', '/http-dir']) {
        await ks(['tls', 'acme', 'register', '--agree-tos', '--directory', `${mock.base}${path}`], { extra: { KEYSMITH_HOME: join(home, `ks${path.replace('/', '-')}`) } });
      }
      expect(seen).toEqual([]);
    } finally {
      await new Promise((r) => plain.close(r));
    }
  });

  it('finding 25 (fixed): a CA that accepts the connection and never answers hangs keysmith for ever (no request timeout): a cron renewal never ends and holds the renewal lock', async () => {
    mock.options = { route: (req) => req.url === '/stall' /* never answered */ };
    const r = await ks(['tls', 'acme', 'register', '--agree-tos', '--directory', `${mock.base}/stall`], { timeoutMs: 40_000, extra: { KEYSMITH_HOME: join(home, 'ks-stall') } });
    // Expected: "cannot reach …" (exit 5) within a bounded time; got: killed by the test after 40 s.
    expect({ signal: r.signal, code: r.code }).toEqual({ signal: null, code: 5 });
  }, 60_000);
});
