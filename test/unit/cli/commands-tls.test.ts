import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, clockAt, DAY_MS, HOUR_MS, isoAt, runMain, tempHome } from '../../helpers/cli.js';

/**
 * `keysmith tls …` in-process (issue 12). The CA and the certificate are made at a fixed injected
 * time, so their validity is known to the second; `tls check` then judges the same files at other
 * injected times: OK, WARNING, CRITICAL as the clock moves, with the monitoring-plugin exit codes.
 */
describe('tls (in-process, injected clock)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const ks = join(home, 'ks');
  const out = join(home, 'certs');
  const caPem = join(home, 'dev-ca.pem');
  const cert = join(out, 'app.test+1.pem');
  const key = join(out, 'app.test+1-key.pem');
  // Whole seconds: X.509 validity has no fractions.
  const T = '2031-03-04T05:06:07.000Z';
  const at = (offsetMs = 0) => ({ now: clockAt(T, offsetMs) });
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    mkdirSync(out);
  });

  describe('ca create / export / list at T', () => {
    it('ca create --json: {name, key, subject, notAfter}, notAfter = T + 3650 days', async () => {
      const got = await runMain(['--json', 'tls', 'ca', 'create', 'dev'], env, at());
      expect(got.code, got.stderr).toBe(0);
      const created = JSON.parse(got.stdout);
      expect(Object.keys(created)).toEqual(['name', 'key', 'subject', 'notAfter']);
      expect(created).toMatchObject({ name: 'dev', key: 'ec:p256', notAfter: isoAt(T, 3650 * DAY_MS) });
      expect(created.subject).toMatch(/^CN=keysmith dev CA, O=keysmith local CA, OU=/);
    });

    it('a second create of the same name is refused (exit 2)', async () => {
      const got = await runMain(['tls', 'ca', 'create', 'dev'], env, at());
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/a CA named dev already exists/);
    });

    it('ca export writes the CA certificate, valid from T (node:crypto reads it)', async () => {
      const got = await runMain(['tls', 'ca', 'export', 'dev', '--out', caPem], env, at());
      expect(got.code, got.stderr).toBe(0);
      const ca = new X509Certificate(readFileSync(caPem));
      expect(ca.ca).toBe(true);
      expect(new Date(ca.validFrom).toISOString()).toBe(T);
      expect(new Date(ca.validTo).toISOString()).toBe(isoAt(T, 3650 * DAY_MS));
      expect(readFileSync(caPem, 'utf8')).not.toMatch(/PRIVATE KEY/);
    });

    it('ca list --json: daysLeft counted from the injected clock', async () => {
      const got = await runMain(['--json', 'tls', 'ca', 'list'], env, at(10 * DAY_MS));
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual([
        expect.objectContaining({ name: 'dev', notAfter: isoAt(T, 3650 * DAY_MS), daysLeft: 3640, key: expect.objectContaining({ type: 'EC', bits: 256 }) }),
      ]);
    });
  });

  describe('issue at T: the certificate’s validity follows the injected clock', () => {
    it('--json: {certificate, key, ca, names, notAfter}; notAfter = T + 397 days', async () => {
      const got = await runMain(['--json', 'tls', 'issue', 'app.test', '127.0.0.1', '--out-dir', out], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({
        certificate: cert,
        key,
        ca: 'dev',
        names: [{ type: 'dns', value: 'app.test' }, { type: 'ip', value: '127.0.0.1' }],
        notAfter: isoAt(T, 397 * DAY_MS),
      });
      expect(statSync(key).mode & 0o777).toBe(0o600);
      expect(statSync(cert).mode & 0o777).toBe(0o644);
    });

    it('node:crypto reads notBefore = T and notAfter = T + 397 days, issued by the dev CA', () => {
      const leaf = new X509Certificate(readFileSync(cert));
      expect(new Date(leaf.validFrom).toISOString()).toBe(T);
      expect(new Date(leaf.validTo).toISOString()).toBe(isoAt(T, 397 * DAY_MS));
      expect(leaf.subject).toBe('CN=app.test');
      expect(leaf.subjectAltName).toBe('DNS:app.test, IP Address:127.0.0.1');
      expect(leaf.checkIssued(new X509Certificate(readFileSync(caPem)))).toBe(true);
    });

    it('tls inspect --json: notBefore, notAfter, daysLeft and status at the injected time', async () => {
      const cases: Array<[number, number, string]> = [
        [10 * DAY_MS, 387, 'valid'],
        [-DAY_MS, 398, 'not-yet-valid'],
        [398 * DAY_MS, -1, 'expired'],
      ];
      for (const [offset, daysLeft, status] of cases) {
        const got = await runMain(['--json', 'tls', 'inspect', cert], env, at(offset));
        expect(got.code, got.stderr).toBe(0);
        expect(JSON.parse(got.stdout)).toMatchObject({
          type: 'certificate', subject: 'CN=app.test', notBefore: T, notAfter: isoAt(T, 397 * DAY_MS), daysLeft, status,
          sans: [{ type: 'dns', value: 'app.test' }, { type: 'ip', value: '127.0.0.1' }],
          basicConstraints: { ca: false }, extKeyUsage: ['serverAuth'], selfSigned: false,
        });
      }
    });

    it('existing files are not replaced without --force (exit 2, the certificate unchanged)', async () => {
      const before = readFileSync(cert);
      const got = await runMain(['tls', 'issue', 'app.test', '127.0.0.1', '--out-dir', out], env, at(DAY_MS));
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/already exists/);
      expect(readFileSync(cert).equals(before)).toBe(true);
    });

    it('a lifetime beyond the CA’s is refused', async () => {
      const got = await runMain(['tls', 'issue', 'long.test', '--days', '3651', '--out-dir', out], env, at());
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/outlive its CA/);
    });
  });

  describe('check: same files, different injected now, different verdict and exit code', () => {
    const check = (extra: string[] = []) => ['--json', 'tls', 'check', cert, '--ca-file', caPem, ...extra];

    // Defaults: --warn 30d, --crit 7d, "within" meaning strictly less time left than the threshold.
    it.each([
      ['T + 1 day', DAY_MS, 'OK', 0, 396, '396 day(s) left'],
      ['T + 367 days (30 days left: not yet within --warn)', 367 * DAY_MS, 'OK', 0, 30, '30 day(s) left'],
      ['T + 368 days (29 days left)', 368 * DAY_MS, 'WARNING', 1, 29, 'expires in 29 day(s)'],
      ['T + 390 days (7 days left: not yet within --crit)', 390 * DAY_MS, 'WARNING', 1, 7, 'expires in 7 day(s)'],
      ['T + 391 days (6 days left)', 391 * DAY_MS, 'CRITICAL', 2, 6, 'expires in 6 day(s)'],
      ['T + 397 days − 1 s (the last second)', 397 * DAY_MS - 1000, 'CRITICAL', 2, 0, 'expires in 0 day(s)'],
      ['T + 398 days (expired)', 398 * DAY_MS, 'CRITICAL', 2, -1, 'expired 1 day(s) ago'],
      ['T − 1 hour (not yet valid)', -HOUR_MS, 'CRITICAL', 2, 397, 'not yet valid'],
    ] as const)('now = %s → %s (exit %i)', async (_when, offset, status, code, daysLeft, message) => {
      const got = await runMain(check(), env, at(offset));
      expect(got.code, got.stderr).toBe(code);
      const report = JSON.parse(got.stdout);
      expect(report.status).toBe(status);
      expect(report.summary).toEqual({ OK: 0, WARNING: 0, CRITICAL: 0, UNKNOWN: 0, [status]: 1 });
      expect(report.results).toHaveLength(1);
      expect(report.results[0]).toMatchObject({ target: cert, kind: 'file', status, daysLeft, message, notAfter: isoAt(T, 397 * DAY_MS), subject: 'CN=app.test', hostnameMatch: null, ocsp: null });
    });

    it('trusted through --ca-file while valid; without it the chain is untrusted (CRITICAL) at the same time', async () => {
      const trusted = JSON.parse((await runMain(check(), env, at(DAY_MS))).stdout).results[0];
      expect(trusted).toMatchObject({ trusted: true, trustError: null });
      const got = await runMain(['--json', 'tls', 'check', cert], env, at(DAY_MS));
      expect(got.code).toBe(2);
      expect(JSON.parse(got.stdout).results[0]).toMatchObject({ status: 'CRITICAL', trusted: false, trustError: { code: 'UNTRUSTED' } });
    });

    it('--at overrides the injected now: now OK, --at 29 days before expiry → WARNING', async () => {
      const got = await runMain(check(['--at', isoAt(T, 368 * DAY_MS)]), env, at(DAY_MS));
      expect(got.code).toBe(1);
      expect(JSON.parse(got.stdout).results[0]).toMatchObject({ status: 'WARNING', daysLeft: 29 });
      const back = await runMain(check(['--at', isoAt(T, DAY_MS)]), env, at(398 * DAY_MS));
      expect(back.code).toBe(0);
      expect(JSON.parse(back.stdout).results[0]).toMatchObject({ status: 'OK', daysLeft: 396 });
    });

    it('thresholds move the verdict at one fixed now: --warn 60d --crit 30d at 29 days left → CRITICAL', async () => {
      const got = await runMain(check(['--warn', '60d', '--crit', '30d']), env, at(368 * DAY_MS));
      expect(got.code).toBe(2);
      expect(JSON.parse(got.stdout).status).toBe('CRITICAL');
      // A share of the lifetime: 10% of 397 days is 39.7 days; 29 days left is within it.
      const pct = await runMain(check(['--warn', '10%', '--crit', '1%']), env, at(368 * DAY_MS));
      expect(pct.code).toBe(1);
    });

    it('the table for people and the summary line on stderr, at a fixed now', async () => {
      const got = await runMain(['tls', 'check', cert, '--ca-file', caPem], env, at(368 * DAY_MS));
      expect(got.code).toBe(1);
      const [header, row, end] = got.stdout.split('\n');
      expect(header).toMatch(/^STATUS\s+TARGET\s+DAYS\s+EXPIRES\s+DETAIL$/);
      expect(row!.split(/\s{2,}/)).toEqual(['WARNING', cert, '29', isoAt(T, 397 * DAY_MS), 'expires in 29 day(s)']);
      expect(end).toBe('');
      expect(got.stderr).toBe('WARNING: 1 checked, 0 ok, 1 warning, 0 critical, 0 unknown\n');
    });
  });
});
