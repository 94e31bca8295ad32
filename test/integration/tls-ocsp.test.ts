import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeysmithError } from '../../src/errors.js';
import { checkOcsp, type OcspOptions } from '../../src/tls/ocsp.js';
import { ocspTestPki, staplingServer, type LeafName, type OcspTestPki, type Signer } from '../helpers/ocsp.js';
import { describeWith } from '../helpers/system.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';

const DAY = 86_400_000;

/** Connects as a client asking for a staple; resolves with it and the chain the server sent. */
function handshake(port: number): Promise<{ staple: Buffer | undefined; leaf: Buffer; issuer: Buffer }> {
  return new Promise((resolve, reject) => {
    let staple: Buffer | undefined;
    // requestOCSP works on tls.connect, though @types/node only declares it on TLSSocket.
    const connection: ConnectionOptions & { requestOCSP: boolean } = { host: '127.0.0.1', port, requestOCSP: true, rejectUnauthorized: false };
    const socket = connect(connection, () => {
      const peer = socket.getPeerCertificate(true);
      resolve({ staple, leaf: peer.raw, issuer: peer.issuerCertificate.raw });
      socket.end();
    });
    socket.on('OCSPResponse', (response: Buffer) => (staple = response));
    socket.on('error', reject);
  });
}

describeWith(['openssl'], 'OCSP against OpenSSL responder on 127.0.0.1', () => {
  let pki: OcspTestPki;
  let silent: Server;
  const silentSockets = new Set<Socket>();
  let silentUrl = '';
  beforeAll(async () => {
    pki = await ocspTestPki();
    silent = createServer((socket) => void silentSockets.add(socket)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}/`;
  });
  afterAll(async () => {
    for (const socket of silentSockets) socket.destroy();
    silent?.close();
    await pki?.close();
  });

  const options = (extra: Partial<OcspOptions> = {}): OcspOptions => ({ timeoutMs: 10_000, now: new Date(), ...extra });
  const check = (leaf: LeafName, extra: Partial<OcspOptions> = {}) => checkOcsp(pki.leaves[leaf].der, pki.ca.der, options(extra));
  /** Real fetch, sent to another URL: the same responder with another signer, or a silent socket. */
  const to = (url: string): typeof fetch => (_input, init) => fetch(url, init);
  const invalid = (pattern: RegExp) => ({ code: 'ERR_TLS_OCSP_INVALID', kind: 'failed', message: expect.stringMatching(pattern) });

  it('a good leaf: asks the responder in its AIA, a delegated signer answers good', async () => {
    const now = new Date();
    const result = await check('good', { now });
    expect(result).toEqual({ status: 'good', source: 'responder', responder: pki.url, thisUpdate: expect.any(String), nextUpdate: expect.any(String) });
    expect(Math.abs(Date.parse(result.thisUpdate) - now.getTime())).toBeLessThan(60_000);
    expect(Date.parse(result.nextUpdate!) - Date.parse(result.thisUpdate)).toBe(DAY); // -ndays 1
    expect(result.thisUpdate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('a revoked leaf: revoked, with the time and the CRL reason', async () => {
    const result = await check('revoked');
    expect(result).toMatchObject({ status: 'revoked', source: 'responder', reason: 'keyCompromise' });
    expect(Math.abs(Date.parse(result.revokedAt!) - Date.now())).toBeLessThan(5 * 60_000);
  });

  it('a leaf the responder does not know: unknown', async () => {
    expect(await check('unknown')).toMatchObject({ status: 'unknown', source: 'responder' });
  });

  it('answers signed by the CA key itself are accepted', async () => {
    const fetchCa = to(pki.urlFor('ca'));
    expect(await check('good', { fetch: fetchCa })).toMatchObject({ status: 'good' });
    expect(await check('revoked', { fetch: fetchCa })).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
  });

  it('a CA-issued signer without the OCSPSigning EKU is refused, even for a good status', async () => {
    await expect(check('good', { fetch: to(pki.urlFor('no-eku')) })).rejects.toMatchObject(invalid(/lacks the OCSPSigning extended key usage/));
  });

  it('a delegated signer that leaves its certificate out cannot be verified', async () => {
    await expect(check('good', { fetch: to(pki.urlFor('no-certs')) })).rejects.toMatchObject(invalid(/does not verify with the issuer key/));
  });

  it('OpenSSL agrees on which signers are acceptable', async () => {
    const verdicts: Record<string, boolean> = {};
    for (const signer of ['delegated', 'ca', 'no-eku', 'no-certs'] as Signer[]) {
      const file = join(pki.dir, `diff-${signer}.der`);
      writeFileSync(file, await pki.response('good', signer));
      const { stdout, stderr } = await promisify(execFile)('openssl', ['ocsp', '-respin', file, '-issuer', pki.ca.pemPath, '-cert', pki.leaves.good.pemPath, '-CAfile', pki.ca.pemPath], { cwd: pki.dir }).catch((e) => e);
      const opensslOk = /Response verify OK/.test(stdout + stderr);
      const oursOk = await checkOcsp(pki.leaves.good.der, pki.ca.der, options({ staple: await pki.response('good', signer) })).then(() => true, () => false);
      verdicts[signer] = oursOk;
      expect(oursOk, signer).toBe(opensslOk);
    }
    expect(verdicts).toEqual({ delegated: true, ca: true, 'no-eku': false, 'no-certs': false });
  });

  it("a response about another certificate (the revoked leaf's, stapled to the good one) is refused", async () => {
    const staple = await pki.response('revoked');
    await expect(check('good', { staple })).rejects.toMatchObject(invalid(/not about this certificate/));
  });

  it('a stale response (past nextUpdate) and one from the future are refused', async () => {
    const staple = await pki.response('good');
    expect(await check('good', { staple, now: new Date(Date.now() + DAY - 60_000) })).toMatchObject({ status: 'good' });
    await expect(check('good', { staple, now: new Date(Date.now() + 2 * DAY) })).rejects.toMatchObject(invalid(/stale: nextUpdate .* has passed/));
    // Signed by the CA: the delegated signer's own certificate would not be valid yet an hour ago.
    const fromCa = await pki.response('good', 'ca');
    await expect(check('good', { staple: fromCa, now: new Date(Date.now() - 3_600_000) })).rejects.toMatchObject(invalid(/thisUpdate .* is in the future/));
    await expect(check('good', { staple, now: new Date(Date.now() - 3_600_000) })).rejects.toMatchObject(invalid(/signer .* is not valid at/));
  });

  it('a nonce the responder echoes must be ours', async () => {
    // The responder copies the request's nonce; change its last byte (the end of the request) on the way.
    const tamper: typeof fetch = (input, init) => {
      const body = new Uint8Array(init!.body as Uint8Array);
      body[body.length - 1] = body[body.length - 1]! ^ 1;
      return fetch(input, { ...init, body });
    };
    await expect(check('good', { fetch: tamper })).rejects.toMatchObject(invalid(/nonce does not match/));
  });

  it('a responder that is down is UNAVAILABLE', async () => {
    await expect(check('down')).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE', kind: 'unavailable', message: expect.stringMatching(/127\.0\.0\.2.*unreachable: ECONNREFUSED/) });
  });

  it('a responder that never answers is UNAVAILABLE after the timeout', async () => {
    await expect(check('good', { fetch: to(silentUrl), timeoutMs: 300 })).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE', message: expect.stringMatching(/did not answer within 300 ms/) });
  });

  it('a responder that redirects, or sends without end, is UNAVAILABLE: no redirect followed, no unbounded buffer', async () => {
    const hostile = createHttpServer((req, res) => {
      if (req.url === '/redirect') return void res.writeHead(302, { location: pki.url }).end();
      res.writeHead(200, { 'content-type': 'application/ocsp-response' });
      const chunk = Buffer.alloc(16 * 1024, 0x30);
      const pump = () => {
        while (res.write(chunk));
      };
      res.on('drain', pump);
      pump();
      req.on('close', () => res.destroy());
    });
    await new Promise<void>((r) => hostile.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(hostile.address() as { port: number }).port}`;
    try {
      await expect(check('good', { fetch: to(`${base}/redirect`) })).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE' });
      await expect(check('good', { fetch: to(`${base}/endless`), timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE', message: expect.stringMatching(/sent more than 65536 bytes/) });
    } finally {
      hostile.closeAllConnections();
      hostile.close();
    }
  });

  it('an HTTP error is UNAVAILABLE', async () => {
    await expect(check('good', { fetch: to(new URL('/nowhere', pki.url).href) })).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE', message: expect.stringMatching(/HTTP 404/) });
  });

  it('a leaf without an OCSP URL and no staple is ERR_TLS_OCSP_NO_URL; with a staple it is checked', async () => {
    await expect(check('noAia')).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_NO_URL', kind: 'usage' });
    expect(await check('noAia', { staple: await pki.response('noAia') })).toMatchObject({ status: 'good', source: 'stapled' });
  });

  it('an issuer that did not issue the leaf is refused before anything is asked', async () => {
    await expect(checkOcsp(pki.leaves.good.der, pki.leaves.revoked.der, options())).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_CERTIFICATE' });
  });

  for (const leaf of ['good', 'revoked'] as const) {
    it(`a Node TLS server staples the ${leaf} leaf's response; the client checks it without asking anyone`, async () => {
      const server = await staplingServer(pki.leaves[leaf].pem + pki.ca.pem, pki.leaves[leaf].keyPem, await pki.response(leaf));
      try {
        const { staple, leaf: leafDer, issuer } = await handshake(server.port);
        expect(staple).toBeInstanceOf(Buffer);
        const noFetch: typeof fetch = () => Promise.reject(new Error('a stapled check must not fetch'));
        const result = await checkOcsp(leafDer, issuer, options({ staple, fetch: noFetch }));
        expect(result).toMatchObject({ status: leaf, source: 'stapled', responder: null });
        if (leaf === 'revoked') expect(result.reason).toBe('keyCompromise');
      } finally {
        await server.close();
      }
    });
  }

  it('damaged responses never crash and are never believed as anything but the truth', async () => {
    const real = await pki.response('good');
    const outcome = async (staple: Uint8Array) =>
      check('good', { staple }).then(
        (r) => r.status,
        (e: unknown) => {
          expect(e).toBeInstanceOf(KeysmithError);
          // A flipped bit in responseStatus (0 → 1 or 2) makes a well-formed response that says
          // malformedRequest or internalError: that is what the responder "answered", as openssl
          // ocsp would report it (RFC 6960 §4.2.1), not a damaged response.
          const { code, message } = e as KeysmithError;
          if (code === 'ERR_TLS_OCSP_UNAVAILABLE') expect(message).toMatch(/^OCSP responder answered /);
          else expect(code).toBe('ERR_TLS_OCSP_INVALID');
          expect(message).not.toMatch(/\n/);
          return 'error';
        },
      );
    const seen = new Set<string>();
    // The one flip that makes a well-formed answer: responseStatus successful (0) → internalError (2).
    const status = Buffer.from(real);
    const at = status.indexOf(Buffer.from([0x0a, 0x01, 0x00]));
    expect(at).toBeLessThan(6);
    status[at + 2] = 2;
    await expect(check('good', { staple: status })).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE', message: 'OCSP responder answered internalError' });
    for (let n = 0; n < real.length; n++) seen.add(await outcome(real.subarray(0, n)));
    for (let i = 0; i < 400; i++) {
      const flipped = Buffer.from(real);
      const at = Math.floor(Math.random() * flipped.length);
      flipped[at] = flipped[at]! ^ (1 << Math.floor(Math.random() * 8));
      seen.add(await outcome(flipped));
    }
    for (let i = 0; i < 200; i++) {
      const garbage = Buffer.from(Array.from({ length: Math.floor(Math.random() * 300) }, () => Math.floor(Math.random() * 256)));
      if (i % 2) garbage[0] = 0x30; // looks like a SEQUENCE
      seen.add(await outcome(garbage));
    }
    expect([...seen].filter((s) => s !== 'error' && s !== 'good')).toEqual([]);
  });
});

describeWith(['openssl'], 'tls check --ocsp and tls inspect --ocsp, end to end', () => {
  let pki: OcspTestPki;
  const { home, cleanup } = tempHome();
  const env = baseEnv({ KEYSMITH_HOME: join(home, 'ks'), NODE_EXTRA_CA_CERTS: undefined });
  const closers: Array<() => Promise<void>> = [];
  /** A file holding the leaf, then its issuer: what `--ocsp` needs for a file. */
  const bundle = (leaf: LeafName) => {
    const path = join(home, `${leaf}-bundle.pem`);
    writeFileSync(path, pki.leaves[leaf].pem + pki.ca.pem);
    return path;
  };
  const check = async (args: string[]) => {
    const got = await runBin(['tls', 'check', '--json', '--ca-file', pki.ca.pemPath, '--timeout', '3s', '--warn', '2d', '--crit', '1d', ...args], { env });
    return { code: got.code, result: JSON.parse(got.stdout).results[0], stderr: got.stderr };
  };
  beforeAll(async () => {
    pki = await ocspTestPki();
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await pki?.close();
    cleanup();
  });

  it.each([
    ['good', 0, 'OK', 'good', /not revoked \(OCSP\)/],
    ['revoked', 2, 'CRITICAL', 'revoked', /^revoked .*\(keyCompromise\), says the OCSP responder http:\/\/127\.0\.0\.1:/],
    ['unknown', 1, 'WARNING', 'unknown', /does not know the certificate/],
    ['down', 1, 'WARNING', 'unavailable', /^OCSP: .*127\.0\.0\.2.*(ECONNREFUSED|unreachable)/],
    ['noAia', 0, 'OK', 'none', /OCSP not checked: the certificate names no OCSP responder/],
  ] as const)('a file: %s → exit %i, %s', async (leaf, code, status, ocspStatus, message) => {
    const got = await check([bundle(leaf), '--ocsp']);
    expect(got.result.status, got.result.message).toBe(status);
    expect(got.result.ocsp.status).toBe(ocspStatus);
    expect(got.result.message).toMatch(message);
    expect(got.code).toBe(code);
  });

  it('the responder of an untrusted or unverified chain is never asked (its URL is the certificate\'s word)', async () => {
    const before = pki.requests();
    const untrusted = await runBin(['tls', 'check', '--json', bundle('revoked'), '--ocsp'], { env });
    expect(JSON.parse(untrusted.stdout).results[0]).toMatchObject({ status: 'CRITICAL', trusted: false, ocsp: { status: 'none' } });
    const unverified = await check([bundle('revoked'), '--ocsp', '--no-verify']);
    expect(unverified.result).toMatchObject({ status: 'OK', ocsp: { status: 'none', message: expect.stringMatching(/not asked/) } });
    expect(pki.requests()).toBe(before);
  });

  it('without --ocsp nothing is asked and ocsp is null', async () => {
    const got = await check([bundle('revoked')]);
    expect(got.result).toMatchObject({ status: 'OK', ocsp: null });
  });

  it('a host: the stapled response is used, and a revoked staple is CRITICAL', async () => {
    const chain = pki.leaves.good.pem + pki.ca.pem;
    const good = await staplingServer(chain, pki.leaves.good.keyPem, await pki.response('good'));
    closers.push(good.close);
    const ok = await check([`127.0.0.1:${good.port}`, '--servername', 'localhost', '--ocsp']);
    expect(ok.result.ocsp).toMatchObject({ status: 'good', source: 'stapled', responder: null });
    expect(ok.code).toBe(0);

    const revokedChain = pki.leaves.revoked.pem + pki.ca.pem;
    const revoked = await staplingServer(revokedChain, pki.leaves.revoked.keyPem, await pki.response('revoked'));
    closers.push(revoked.close);
    const bad = await check([`127.0.0.1:${revoked.port}`, '--servername', 'localhost', '--ocsp']);
    expect(bad.result).toMatchObject({ status: 'CRITICAL', ocsp: { status: 'revoked', source: 'stapled', reason: 'keyCompromise' } });
    expect(bad.code).toBe(2);

    // A server that staples another certificate's answer: not believed, a WARNING.
    const wrong = await staplingServer(chain, pki.leaves.good.keyPem, await pki.response('revoked'));
    closers.push(wrong.close);
    const mixed = await check([`127.0.0.1:${wrong.port}`, '--servername', 'localhost', '--ocsp']);
    expect(mixed.result).toMatchObject({ status: 'WARNING', ocsp: { status: 'invalid' } });
    expect(mixed.code).toBe(1);

    const inspect = await runBin(['tls', 'inspect', `127.0.0.1:${revoked.port}`, '--servername', 'localhost', '--ca-file', pki.ca.pemPath, '--ocsp'], { env });
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(/ocsp: +revoked at .* \(keyCompromise\) \(stapled; this update .*, next update .*\)/);
    const json = JSON.parse((await runBin(['tls', 'inspect', bundle('good'), '--ocsp', '--ca-file', pki.ca.pemPath, '--json'], { env })).stdout);
    expect(json.ocsp).toMatchObject({ status: 'good', source: 'responder', responder: pki.url });
  });
});
