/**
 * keysmith's trust verdicts against OpenSSL's, on the corpus in fixtures/tls/ (made by
 * scripts/make-tls-fixtures.sh): each chain breaks one rule, or is a valid twin. For every chain the
 * file verdict, the verdict on a live TLS server sending the same chain, `openssl verify -x509_strict
 * -purpose sslserver -policy_check -policy anyPolicy` and OpenSSL's own handshake verdict (Node's `socket.authorized`) are compared.
 * Where OpenSSL rejects, keysmith must reject; where keysmith alone rejects, the case cites the rule.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, connect, createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkExpiry, type CheckOptions, type CheckResult } from '../../src/tls/check.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

const CORPUS = new URL('../../fixtures/tls/', import.meta.url).pathname;

interface Case {
  name: string;
  host: string;
  rule: string | null;
  breaks: string;
  certificate: number | null;
  openssl: { ok: boolean; error: string | null; depth: number | null };
  cite: string | null;
}

const cases: Case[] = existsSync(CORPUS)
  ? readdirSync(CORPUS)
      .filter((d) => existsSync(join(CORPUS, d, 'case.json')))
      .sort()
      .map((d) => JSON.parse(readFileSync(join(CORPUS, d, 'case.json'), 'utf8')) as Case)
  : [];
const file = (c: Case, name: string) => join(CORPUS, c.name, name);
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

function opensslVerify(c: Case): { ok: boolean; output: string } {
  const chain = readFileSync(file(c, 'chain.pem'), 'utf8').match(PEM)!;
  const { home, cleanup } = tempHome();
  try {
    writeFileSync(join(home, 'leaf.pem'), chain[0]!);
    writeFileSync(join(home, 'untrusted.pem'), chain.slice(1).join(''));
    // -policy_check -policy anyPolicy: RFC 5280 §6.1.1's default inputs (OpenSSL skips policies without them).
    const args = ['verify', '-x509_strict', '-purpose', 'sslserver', '-policy_check', '-policy', 'anyPolicy', '-CAfile', file(c, 'root.pem')];
    if (chain.length > 1) args.push('-untrusted', join(home, 'untrusted.pem'));
    args.push(isIP(c.host) ? '-verify_ip' : '-verify_hostname', c.host, join(home, 'leaf.pem'));
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    return { ok: r.status === 0 && /: OK\s*$/.test(r.stdout), output: (r.stdout + r.stderr).trim() };
  } finally {
    cleanup();
  }
}

const options = (c: Case): CheckOptions => ({
  warn: { ms: 0 },
  crit: { ms: 0 },
  concurrency: 1,
  timeoutMs: 5000,
  caFile: file(c, 'root.pem'),
  servername: c.host,
  now: () => new Date(),
});

/** keysmith rejects: not trusted, or trusted but for another host. */
const rejects = (r: CheckResult) => r.trusted === false || r.hostnameMatch === false;

describeWith(['openssl'], 'trust verdicts: keysmith against OpenSSL on the fixtures/tls corpus', () => {
  const servers = new Map<string, { server: Server; port: number }>();
  // An environment without NODE_EXTRA_CA_CERTS: the test's roots are the case's root and the public ones.
  const env = baseEnv({ NODE_EXTRA_CA_CERTS: undefined });

  beforeAll(async () => {
    for (const c of cases) {
      // Security level 0: the server must be willing to send even a weak chain (SHA-1, RSA-1024) for the client to judge it.
      const server = createServer({ cert: readFileSync(file(c, 'chain.pem')), key: readFileSync(file(c, 'leaf.key')), ciphers: 'DEFAULT:@SECLEVEL=0' }, (s) => s.end());
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      servers.set(c.name, { server, port: (server.address() as { port: number }).port });
    }
  });
  afterAll(() => {
    for (const { server } of servers.values()) server.close();
  });

  it('the corpus is there and covers every rule', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const rules = new Set(cases.map((c) => c.rule));
    for (const rule of [null, 'EXPIRED', 'NOT_YET_VALID', 'BAD_SIGNATURE', 'UNTRUSTED', 'NOT_A_CA', 'PATH_LENGTH', 'KEY_USAGE', 'NAME_CONSTRAINTS', 'UNKNOWN_CRITICAL_EXTENSION', 'EXTENDED_KEY_USAGE', 'NO_SAN', 'WEAK_KEY', 'WEAK_SIGNATURE', 'DUPLICATE_EXTENSION', 'HOSTNAME', 'PROFILE']) {
      expect(rules, String(rule)).toContain(rule);
    }
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    // The reference: openssl verify on this machine, and what the corpus recorded when it was made.
    const reference = opensslVerify(c);
    expect(reference.ok, reference.output).toBe(c.openssl.ok);

    const [fromFile] = await checkExpiry([file(c, 'chain.pem')], options(c), env);
    const { port } = servers.get(c.name)!;
    const [fromHost] = await checkExpiry([`127.0.0.1:${port}`], options(c), env);
    const handshake = await opensslHandshake(port, c);

    // A file and a live server presenting the same chain get the same verdict.
    expect(fromHost!.trusted, fromHost!.message).toBe(fromFile!.trusted);
    expect(fromHost!.trustError).toEqual(fromFile!.trustError);

    if (c.rule === null) {
      expect(fromHost!.status, fromHost!.message).toBe('OK');
      expect(fromHost!.trusted).toBe(true);
      expect(fromHost!.hostnameMatch).toBe(true);
    } else if (c.rule === 'HOSTNAME') {
      expect(fromHost!.trusted, fromHost!.message).toBe(true);
      expect(fromHost!.hostnameMatch).toBe(false);
      expect(fromHost!.status).toBe('CRITICAL');
    } else {
      expect(fromFile!.trusted, fromFile!.message).toBe(false);
      expect(fromFile!.trustError?.code, fromFile!.message).toBe(c.rule);
      if (c.certificate !== null) expect(fromFile!.trustError?.certificate, fromFile!.message).toBe(c.certificate);
      expect(fromFile!.status).toBe('CRITICAL');
    }
    // Where OpenSSL rejects — in `openssl verify -x509_strict` or in a real handshake — keysmith rejects too.
    if (!reference.ok) expect(rejects(fromHost!), `openssl: ${reference.output}`).toBe(true);
    if (!handshake.ok) expect(rejects(fromHost!), `handshake: ${handshake.error}`).toBe(true);
    // Where keysmith alone rejects, the case names the rule that makes it stricter.
    if (rejects(fromHost!) && reference.ok) expect(c.cite, 'keysmith is stricter than OpenSSL here: cite the rule').toBeTruthy();
  });

  it('the same chain gets the same verdict from tls inspect and tls check', async () => {
    const { home, cleanup } = tempHome();
    try {
      const cliEnv = { ...env, KEYSMITH_HOME: home };
      for (const name of ['good-3', 'nc-dns-permitted', 'hostname-mismatch', 'expired-root']) {
        const c = cases.find((k) => k.name === name)!;
        const target = `127.0.0.1:${servers.get(name)!.port}`;
        const args = ['--servername', c.host, '--ca-file', file(c, 'root.pem'), '--json'];
        const inspect = JSON.parse((await runBin(['tls', 'inspect', target, ...args], { env: cliEnv })).stdout);
        const check = JSON.parse((await runBin(['tls', 'check', target, ...args], { env: cliEnv })).stdout).results[0];
        expect({ trusted: inspect.trusted, trustError: inspect.trustError, hostnameMatch: inspect.hostnameMatch }, name).toEqual({
          trusted: check.trusted,
          trustError: check.trustError,
          hostnameMatch: check.hostnameMatch,
        });
      }
    } finally {
      cleanup();
    }
  });
});


describeWith(['openssl'], 'trust verdicts on hostile input: a verdict or a one-line error, never a crash', () => {
  const env = baseEnv({ NODE_EXTRA_CA_CERTS: undefined });
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const good = () => cases.find((c) => c.name === 'good-3')!;
  const check = async (path: string, c = good()) => (await checkExpiry([path], options(c), env))[0]!;

  it('garbage between and around PEM blocks changes nothing', async () => {
    const chain = readFileSync(file(good(), 'chain.pem'), 'utf8').match(PEM)!;
    const path = join(home, 'garbage.pem');
    writeFileSync(path, `junk\x00\xff before\n${chain[0]}\n# a comment\nBag Attributes: x\n${chain[1]}trailing -----BEGIN nothing\n`);
    const r = await check(path);
    expect(r.trusted, r.message).toBe(true);
    expect(r.status).toBe('OK');
  });

  it('a chain of 2,000 certificates gets a verdict (the first 32 are looked at)', async () => {
    const chain = readFileSync(file(good(), 'chain.pem'), 'utf8').match(PEM)!;
    const other = readFileSync(file(cases.find((c) => c.name === 'untrusted-root')!, 'chain.pem'), 'utf8').match(PEM)!;
    const path = join(home, 'huge.pem');
    writeFileSync(path, [chain[0], ...Array.from({ length: 2000 }, (_, i) => (i % 2 ? other.at(-1) : chain[1]))].join(''));
    const r = await check(path);
    expect(r.trusted, r.message).toBe(true);
  });

  it('a truncated or corrupted certificate is UNKNOWN with one line', async () => {
    const text = readFileSync(file(good(), 'chain.pem'), 'utf8');
    const path = join(home, 'truncated.pem');
    writeFileSync(path, text.slice(0, 300) + '\n-----END CERTIFICATE-----\n');
    const r = await check(path);
    expect(r.status).toBe('UNKNOWN');
    expect(r.message).toMatch(/^malformed certificate/);
    expect(r.message).not.toMatch(/\n/);
  });

  it('byte flips in a valid leaf: never trusted unless openssl verify accepts the same bytes', async () => {
    const c = good();
    const chain = readFileSync(file(c, 'chain.pem'), 'utf8').match(PEM)!;
    const der = Buffer.from(chain[0]!.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    let seed = 12345;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    let trustedCount = 0;
    for (let round = 0; round < 150; round++) {
      const bytes = Buffer.from(der);
      const at = random(bytes.length);
      bytes[at] = bytes[at]! ^ (1 << random(8));
      const pem = `-----BEGIN CERTIFICATE-----\n${bytes.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
      const path = join(home, 'flip.pem');
      writeFileSync(path, pem + chain[1]);
      const r = await check(path);
      expect(['OK', 'CRITICAL', 'UNKNOWN']).toContain(r.status);
      if (r.trusted) {
        trustedCount++;
        writeFileSync(join(home, 'leaf.pem'), pem);
        writeFileSync(join(home, 'inter.pem'), chain[1]!);
        const v = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', file(c, 'root.pem'), '-untrusted', join(home, 'inter.pem'), join(home, 'leaf.pem')], { encoding: 'utf8' });
        expect(v.status, `byte ${at}: keysmith trusts what openssl rejects: ${v.stdout}${v.stderr}`).toBe(0);
      }
    }
    expect(trustedCount).toBeLessThan(10);
  });
});

/** OpenSSL's verdict in a real handshake (no -x509_strict): Node's `authorized` with the case's root as the only CA. */
function opensslHandshake(port: number, c: Case): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve, reject) => {
    // Node's own identity check would compare against 127.0.0.1: the case's host is checked below instead.
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(file(c, 'root.pem')), rejectUnauthorized: false, checkServerIdentity: () => undefined, ...(isIP(c.host) ? {} : { servername: c.host }) });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      // An IP is judged by `openssl verify -verify_ip` above: Node 22's checkServerIdentity takes a bare
      // IPv6 address for a host name ("Host: ::1. is not cert's CN").
      const hostError = socket.authorized && !isIP(c.host) ? checkServerIdentity(c.host, socket.getPeerCertificate())?.message : undefined;
      resolve({ ok: socket.authorized && !hostError, ...(socket.authorizationError ? { error: String(socket.authorizationError) } : hostError ? { error: hostError } : {}) });
      socket.destroy();
    });
  });
}
