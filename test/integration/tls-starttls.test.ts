import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchChain, parseEndpoint } from '../../src/tls/remote.js';
import { Cert, TrustStore, verifyServer } from '../../src/tls/validate.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startDovecot, startPostfix, type Credentials, type TestServer } from '../helpers/mail-servers.js';
import { POSTGRES_TOOLS, startPostgres } from '../helpers/postgres.js';
import { describeWith } from '../helpers/system.js';
import { serverCredentials, silentServer, testCa } from '../helpers/tls-servers.js';

/**
 * STARTTLS against real servers on 127.0.0.1 (Postfix, Dovecot, PostgreSQL), each presenting a
 * chain from keysmith's own CA: the library returns exactly that chain, and the built CLI calls it
 * OK and trusted. Protocols without a real server here (ftp, ldap, mysql, xmpp) are covered
 * against fakes in test/unit/tls/starttls.test.ts.
 */

const NAME = 'mail.example.test';
const { home, cleanup } = tempHome();
const env = baseEnv({ KEYSMITH_HOME: join(home, 'ks') });
const caFile = join(home, 'ca.pem');
let credentials: Credentials;
let issued: { leaf: string; ca: string };
let caPem: string;

beforeAll(async () => {
  const ca = await testCa('starttls');
  credentials = await serverCredentials(ca, [NAME]);
  writeFileSync(caFile, ca.certificatePem);
  issued = { leaf: new X509Certificate(credentials.cert).fingerprint256, ca: new X509Certificate(ca.certificatePem).fingerprint256 };
  caPem = ca.certificatePem;
});
afterAll(cleanup);

/** The library: the chain the server sent must be the one keysmith's CA issued, and trusted. */
async function expectIssuedChain(target: string): Promise<void> {
  const peer = await fetchChain({ ...parseEndpoint(target), servername: NAME }, { timeoutMs: 10_000 });
  expect(peer.chain.map((c) => c.fingerprint256)).toEqual([issued.leaf, issued.ca]);
  const verdict = await verifyServer(peer.chain.map((c) => new Cert(c.raw)), new TrustStore([caPem]), { at: new Date(), host: NAME });
  expect(verdict).toMatchObject({ trusted: true, trustError: null, hostnameMatch: true });
}

/** The built CLI, as a monitoring job would run it. */
async function check(args: string[]) {
  const run = await runBin(['tls', 'check', ...args, '--servername', NAME, '--ca-file', caFile, '--json'], { env, timeoutMs: 30_000 });
  const json = run.stdout ? JSON.parse(run.stdout) : undefined;
  return { code: run.code, result: json?.results?.[0], stderr: run.stderr };
}

describeWith(['postfix'], 'STARTTLS against a real Postfix', () => {
  let postfix: TestServer<'smtp' | 'submission' | 'plain'>;
  beforeAll(async () => {
    postfix = await startPostfix(credentials);
  });
  afterAll(async () => {
    await postfix?.stop();
  });

  it('smtp:// gets the chain keysmith issued, on a STARTTLS port and a submission port that requires it', async () => {
    await expectIssuedChain(`smtp://127.0.0.1:${postfix.ports.smtp}`);
    await expectIssuedChain(`smtp://127.0.0.1:${postfix.ports.submission}`);
  });

  it('a server that does not offer STARTTLS is ERR_TLS_STARTTLS, saying so', async () => {
    const where = `127.0.0.1:${postfix.ports.plain}`;
    await expect(fetchChain(parseEndpoint(`smtp://${where}`), { timeoutMs: 10_000 })).rejects.toMatchObject({
      code: 'ERR_TLS_STARTTLS',
      kind: 'unavailable',
      message: `${where}: the server does not offer STARTTLS (EHLO)`,
    });
  });

  it('tls check smtp://… is OK and trusted; so is --starttls smtp on host:port', async () => {
    for (const args of [[`smtp://127.0.0.1:${postfix.ports.smtp}`], [`127.0.0.1:${postfix.ports.submission}`, '--starttls', 'smtp']]) {
      const { code, result, stderr } = await check(args);
      expect(result, stderr).toMatchObject({ status: 'OK', trusted: true, hostnameMatch: true });
      expect(code).toBe(0);
    }
  });

  it('tls check of a port without STARTTLS is UNKNOWN (exit 3) with the reason', async () => {
    const { code, result } = await check([`smtp://127.0.0.1:${postfix.ports.plain}`]);
    expect(result.status).toBe('UNKNOWN');
    expect(result.message).toMatch(/the server does not offer STARTTLS \(EHLO\)$/);
    expect(code).toBe(3);
  });
});

describeWith(['dovecot'], 'STARTTLS against a real Dovecot', () => {
  let dovecot: TestServer<'imap' | 'imaps' | 'pop3' | 'pop3s'>;
  beforeAll(async () => {
    dovecot = await startDovecot(credentials);
  });
  afterAll(async () => {
    await dovecot?.stop();
  });

  it('imap:// and pop3:// (STARTTLS), imaps:// and pop3s:// (implicit TLS) get the chain keysmith issued', async () => {
    await expectIssuedChain(`imap://127.0.0.1:${dovecot.ports.imap}`);
    await expectIssuedChain(`pop3://127.0.0.1:${dovecot.ports.pop3}`);
    await expectIssuedChain(`imaps://127.0.0.1:${dovecot.ports.imaps}`);
    await expectIssuedChain(`pop3s://127.0.0.1:${dovecot.ports.pop3s}`);
  });

  it('tls check imap://… and pop3://… are OK and trusted', async () => {
    for (const target of [`imap://127.0.0.1:${dovecot.ports.imap}`, `pop3://127.0.0.1:${dovecot.ports.pop3}`]) {
      const { code, result, stderr } = await check([target]);
      expect(result, stderr).toMatchObject({ status: 'OK', trusted: true, hostnameMatch: true });
      expect(code).toBe(0);
    }
  });

  it('tls inspect imap://… shows the certificate keysmith issued', async () => {
    const run = await runBin(['tls', 'inspect', `imap://127.0.0.1:${dovecot.ports.imap}`, '--servername', NAME, '--json'], {
      env: { ...env, NODE_EXTRA_CA_CERTS: caFile },
      timeoutMs: 30_000,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(NAME);
    expect(JSON.parse(run.stdout)).toMatchObject({ trusted: true });
  });
});

describeWith(POSTGRES_TOOLS, 'STARTTLS against a real PostgreSQL (ssl=on)', () => {
  let postgres: TestServer<'postgres'>;
  beforeAll(async () => {
    postgres = await startPostgres(credentials);
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  it('postgres:// and postgresql:// get the chain keysmith issued', async () => {
    await expectIssuedChain(`postgres://127.0.0.1:${postgres.ports.postgres}`);
    await expectIssuedChain(`postgresql://monitor@127.0.0.1:${postgres.ports.postgres}/postgres`);
  });

  it('tls check postgres://… is OK and trusted', async () => {
    const { code, result, stderr } = await check([`postgres://127.0.0.1:${postgres.ports.postgres}`]);
    expect(result, stderr).toMatchObject({ status: 'OK', trusted: true, hostnameMatch: true });
    expect(code).toBe(0);
  });
});

describe('STARTTLS against a server that never speaks', () => {
  let silent: { port: number; server: Server };
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(() => {
    silent?.server.close();
  });

  it('tls check smtp://… times out as UNKNOWN instead of hanging', async () => {
    const { code, result } = await check([`smtp://127.0.0.1:${silent.port}`, '--timeout', '1s']);
    expect(result.status).toBe('UNKNOWN');
    expect(result.message).toMatch(/no TLS handshake within 1000 ms \(smtp: waiting for the greeting\)/);
    expect(code).toBe(3);
  });
});
