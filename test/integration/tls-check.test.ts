import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createNetServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateAuthority } from '../../src/tls/ca.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { closedTarget, serve, serverCredentials, silentServer, testCa, tlsServer } from '../helpers/tls-servers.js';

const DAY = 86_400_000;

describe('tls check against real TLS servers on 127.0.0.1', () => {
  const { home, cleanup } = tempHome();
  const servers: Server[] = [];
  const ports: Record<string, number> = {};
  let ca: CertificateAuthority;
  let caFile = '';
  const env = baseEnv({ KEYSMITH_HOME: join(home, 'ks') });
  const check = async (args: string[]) => {
    const got = await runBin(['tls', 'check', '--ca-file', caFile, '--servername', 'svc.example.test', '--json', ...args], { env, timeoutMs: 60_000 });
    return { code: got.code, json: got.stdout ? JSON.parse(got.stdout) : undefined, stderr: got.stderr };
  };
  const startServer = async (label: string, c: CertificateAuthority, names: string[], opts: { start?: Date; days?: number } = {}) => {
    const { port, server } = await tlsServer(c, names, opts);
    servers.push(server);
    ports[label] = port;
  };

  beforeAll(async () => {
    ca = await testCa('check');
    caFile = join(home, 'ca.pem');
    writeFileSync(caFile, ca.certificatePem);
    const other = await testCa('untrusted');
    await startServer('valid', ca, ['svc.example.test'], { days: 90 });
    await startServer('soon', ca, ['svc.example.test'], { days: 10 });
    await startServer('expired', ca, ['svc.example.test'], { start: new Date(Date.now() - 400 * DAY), days: 30 });
    await startServer('future', ca, ['svc.example.test'], { start: new Date(Date.now() + 10 * DAY), days: 30 });
    await startServer('wronghost', ca, ['other.example.test'], { days: 90 });
    await startServer('untrusted', other, ['svc.example.test'], { days: 90 });
    await startServer('sixth', ca, ['svc.example.test'], { start: new Date(Date.now() - 50 * DAY), days: 60 }); // 1/6 of its life left
    const silent = await silentServer();
    servers.push(silent.server);
    ports.silent = silent.port;
    // Not TLS at all: answers like an HTTP server.
    const plain = createNetServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    servers.push(plain);
    ports.plaintext = (plain.address() as { port: number }).port;
  });
  afterAll(() => {
    for (const s of servers) s.close();
    cleanup();
  });

  const closed = closedTarget();
  const target = (label: string) => (label === 'closed' ? closed : `127.0.0.1:${ports[label]}`);

  it('a valid certificate is OK (exit 0), with the documented JSON', async () => {
    const { code, json } = await check([target('valid')]);
    expect(code).toBe(0);
    expect(json.status).toBe('OK');
    expect(json.summary).toEqual({ OK: 1, WARNING: 0, CRITICAL: 0, UNKNOWN: 0 });
    expect(Object.keys(json.results[0])).toEqual(['target', 'kind', 'status', 'daysLeft', 'notAfter', 'subject', 'message', 'trusted', 'trustError', 'hostnameMatch', 'ocsp']);
    expect(json.results[0]).toMatchObject({ kind: 'host', status: 'OK', trusted: true, hostnameMatch: true, subject: 'CN=svc.example.test' });
    expect(json.results[0].daysLeft).toBeGreaterThanOrEqual(88);
  });

  it.each([
    ['soon', 'WARNING', 1, /expires in 9 day/],
    ['expired', 'CRITICAL', 2, /expired/],
    ['future', 'CRITICAL', 2, /not yet valid/],
    ['wronghost', 'CRITICAL', 2, /does not match/],
    ['untrusted', 'CRITICAL', 2, /^not trusted: self-signed certificate 1 \(CN=keysmith untrusted CA.*\) is not a trusted root/],
    ['closed', 'UNKNOWN', 3, /ECONNREFUSED/],
    ['silent', 'UNKNOWN', 3, /no TLS handshake within/],
    ['plaintext', 'UNKNOWN', 3, /^TLS handshake failed: wrong version number$/],
  ] as const)('%s → %s (exit %i)', async (label, status, exitCode, message) => {
    const { code, json } = await check([target(label), '--timeout', '1s']);
    expect(json.results[0].status).toBe(status);
    expect(json.results[0].message).toMatch(message);
    expect(code).toBe(exitCode);
  });

  it('thresholds take days, hours and shares of the lifetime', async () => {
    expect((await check([target('soon'), '--warn', '5d', '--crit', '2d'])).code).toBe(0);
    expect((await check([target('soon'), '--warn', '300h', '--crit', '240h'])).code).toBe(2);
    expect((await check([target('sixth'), '--warn', '20%', '--crit', '10%'])).json.results[0].status).toBe('WARNING');
    expect((await check([target('sixth'), '--warn', '15%', '--crit', '5%'])).json.results[0].status).toBe('OK');
  });

  it('the worst status wins: CRITICAL over UNKNOWN over WARNING', async () => {
    expect((await check([target('valid'), target('soon'), target('closed'), '--timeout', '1s'])).code).toBe(3);
    expect((await check([target('valid'), target('soon'), target('closed'), target('expired'), '--timeout', '1s'])).code).toBe(2);
  });

  it('200 targets in one run, from a targets file, in order', async () => {
    const creds = [await serverCredentials(ca, ['svc.example.test']), await serverCredentials(ca, ['svc.example.test'], { days: 10 }), await serverCredentials(ca, ['other.example.test'])];
    const many: string[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 4 === 3) many.push('');
      else {
        const { port, server } = await serve(creds[i % 4]!);
        servers.push(server);
        many[i] = `127.0.0.1:${port}`;
      }
    }
    for (let i = 3; i < 200; i += 4) many[i] = closedTarget();
    const file = join(home, 'targets.txt');
    writeFileSync(file, `# two hundred\n${many.join('\n')}\n`);
    const { code, json } = await check(['--targets-file', file, '--timeout', '2s']);
    expect(code).toBe(2);
    expect(json.results).toHaveLength(200);
    expect(json.results.map((r: { target: string }) => r.target)).toEqual(many);
    expect(json.summary).toEqual({ OK: 50, WARNING: 50, CRITICAL: 50, UNKNOWN: 50 });
  });

  it('usage errors are UNKNOWN (3), never a hang', async () => {
    for (const args of [[], ['--starttls', 'gopher', target('valid')], ['--at', 'noon', target('valid')], ['--warn', 'soon', target('valid')], ['--concurrency', '0', target('valid')], ['--crit', '40d', target('valid')], ['--bogus-flag']]) {
      const got = await runBin(['tls', 'check', ...args], { env });
      expect(got.code, args.join(' ')).toBe(3);
    }
  });
});

describe('tls check on files', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);

  it('checks files and globs: trust through --ca-file, expiry, keys beside certificates passed over', async () => {
    const ca = await testCa('files');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(home, 'certs', 'sub'), { recursive: true });
    const good = await serverCredentials(ca, ['a.example.test']);
    const old = await serverCredentials(ca, ['b.example.test'], { start: new Date(Date.now() - 100 * DAY), days: 30 });
    writeFileSync(join(home, 'certs', 'a.pem'), good.cert);
    writeFileSync(join(home, 'certs', 'a-key.pem'), good.key);
    writeFileSync(join(home, 'certs', 'sub', 'b.pem'), old.cert);
    writeFileSync(join(home, 'ca.pem'), ca.certificatePem);
    const env = baseEnv({ KEYSMITH_HOME: join(home, 'ks') });
    const run = (args: string[]) => runBin(['tls', 'check', '--json', ...args], { env });
    const globbed = await run([`${home}/certs/**/*.pem`, '--ca-file', join(home, 'ca.pem')]);
    const json = JSON.parse(globbed.stdout);
    expect(json.results.map((r: { target: string; status: string }) => [r.target.slice(home.length), r.status])).toEqual([
      ['/certs/a.pem', 'OK'],
      ['/certs/sub/b.pem', 'CRITICAL'],
    ]);
    expect(globbed.code).toBe(2);
    const untrusted = JSON.parse((await run([join(home, 'certs', 'a.pem')])).stdout);
    expect(untrusted.results[0]).toMatchObject({ status: 'CRITICAL', trusted: false, trustError: { code: 'UNTRUSTED', certificate: 1 } });
    // Expiry alone: trust is not checked, so a private CA's certificate is OK without its root.
    const expiryOnly = JSON.parse((await run([join(home, 'certs', 'a.pem'), '--no-verify'])).stdout);
    expect(expiryOnly.results[0]).toMatchObject({ status: 'OK', trusted: null, trustError: null, hostnameMatch: null });
    // --at: judged at another time, expiry and validity alike.
    const later = await run([join(home, 'certs', 'a.pem'), '--ca-file', join(home, 'ca.pem'), '--at', new Date(Date.now() + 400 * DAY).toISOString()]);
    expect(JSON.parse(later.stdout).results[0]).toMatchObject({ status: 'CRITICAL', trusted: false, trustError: { code: 'EXPIRED', certificate: 0 } });
    expect(later.code).toBe(2);
    const before = await run([join(home, 'certs', 'a.pem'), '--ca-file', join(home, 'ca.pem'), '--at', '2001-01-01']);
    expect(JSON.parse(before.stdout).results[0]).toMatchObject({ status: 'CRITICAL', message: 'not yet valid' });
    for (const bad of ['tomorrow', '2027-13-45', '']) expect((await run([join(home, 'certs', 'a.pem'), '--at', bad])).code, bad).toBe(3);
    const key = await run([join(home, 'certs', 'a-key.pem')]);
    expect(key.code).toBe(3);
    expect((await run([`${home}/nothing/*.pem`])).code).toBe(3);
  });
});

describe('tls check on odd certificates, through the built bin', () => {
  const corpus = new URL('../../fixtures/tls/', import.meta.url).pathname;
  const env = baseEnv({ NODE_EXTRA_CA_CERTS: undefined });
  const check = async (name: string, extra: string[] = []) => {
    const got = await runBin(['tls', 'check', '--json', join(corpus, name, 'chain.pem'), '--ca-file', join(corpus, name, 'root.pem'), ...extra], { env });
    return { code: got.code, stderr: got.stderr, result: JSON.parse(got.stdout).results[0] };
  };

  it('a leaf with an empty subject gets a verdict, not a crash', async () => {
    const good = await check('good-empty-subject');
    expect(good.result).toMatchObject({ status: 'OK', subject: '', trusted: true });
    expect(good.code).toBe(0);
    const bad = await check('empty-subject-noncritical-san');
    expect(bad.result).toMatchObject({ status: 'CRITICAL', trustError: { code: 'PROFILE', certificate: 0 } });
    expect(bad.result.message).toMatch(/certificate 0 \(\(empty subject\)\): an empty subject with a non-critical subjectAltName/);
    expect(bad.stderr).not.toMatch(/Cannot read|TypeError|at /);
  });

  it('a FIFO or a device is UNKNOWN at once, never read', async () => {
    const { home, cleanup } = tempHome();
    try {
      execFileSync('mkfifo', [join(home, 'fifo.pem')]);
      const got = await runBin(['tls', 'check', '--json', join(home, 'fifo.pem'), '/dev/zero'], { env });
      expect(JSON.parse(got.stdout).results.map((r: { status: string; message: string }) => [r.status, r.message])).toEqual([
        ['UNKNOWN', 'not a regular file'],
        ['UNKNOWN', 'not a regular file'],
      ]);
      expect(got.code).toBe(3);
    } finally {
      cleanup();
    }
  });

    it('--ca-file: a root commented out is no root, and a device is not read without end', async () => {
    const { home, cleanup } = tempHome();
    try {
      const root = readFileSync(join(corpus, 'good-3', 'root.pem'), 'utf8');
      writeFileSync(join(home, 'commented.pem'), root.split('\n').map((l) => `# ${l}`).join('\n'));
      const commented = await runBin(['tls', 'check', join(corpus, 'good-3', 'chain.pem'), '--ca-file', join(home, 'commented.pem')], { env });
      expect(commented.stderr).toMatch(/no PEM certificate in/);
      expect(commented.code).toBe(3);
      const zero = await runBin(['tls', 'check', join(corpus, 'good-3', 'chain.pem'), '--ca-file', '/dev/zero'], { env });
      expect(zero.stderr).toMatch(/larger than 16 MiB/);
      expect(zero.code).toBe(3);
    } finally {
      cleanup();
    }
  });

  it('the broken rule and the certificate are named in the table too', async () => {
    const got = await runBin(['tls', 'check', join(corpus, 'pathlen-violated', 'chain.pem'), '--ca-file', join(corpus, 'pathlen-violated', 'root.pem')], { env });
    expect(got.code).toBe(2);
    expect(got.stdout).toMatch(/CRITICAL .*not trusted: certificate 2 \(.*\): pathLenConstraint 0 allows 0 intermediate\(s\) below it, the path has 1/);
  });
});
