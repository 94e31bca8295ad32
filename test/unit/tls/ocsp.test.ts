import { randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { OCSPRequest, OCSPResponse, OCSPResponseStatus, ResponseBytes, id_pkix_ocsp_basic, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { beforeAll, describe, expect, it } from 'vitest';
import { KeysmithError } from '../../../src/errors.js';
import type { CertificateAuthority } from '../../../src/tls/ca.js';
import { randomSerial } from '../../../src/tls/ca.js';
import { checkOcsp, type OcspOptions } from '../../../src/tls/ocsp.js';
import { testCa } from '../../helpers/tls-servers.js';

const der = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
const response = (status: OCSPResponseStatus, bytes?: ResponseBytes) =>
  new Uint8Array(AsnConvert.serialize(new OCSPResponse({ responseStatus: status, ...(bytes ? { responseBytes: bytes } : {}) })));

/** A leaf from `ca`, with an AIA OCSP URL when `ocsp` is given. */
async function leafOf(ca: CertificateAuthority, ocsp?: string): Promise<Buffer> {
  const { x509 } = ca;
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: 'CN=leaf.test',
    issuer: ca.certificate.subject,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.algorithm.sign,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(await ca.certificate.publicKey.export()),
      ...(ocsp ? [new x509.AuthorityInfoAccessExtension({ ocsp: [new x509.GeneralName('url', ocsp)] })] : []),
    ],
  });
  return Buffer.from(cert.rawData);
}

describe('checkOcsp on bad input (no network)', () => {
  let ca: Buffer;
  let leaf: Buffer;
  let leafWithUrl: Buffer;
  let stranger: Buffer;
  beforeAll(async () => {
    const authority = await testCa('ocsp-unit');
    ca = der(authority.certificatePem);
    leaf = await leafOf(authority);
    leafWithUrl = await leafOf(authority, 'http://ocsp.invalid/');
    stranger = der((await testCa('ocsp-other')).certificatePem);
  });
  const options = (extra: Partial<OcspOptions> = {}): OcspOptions => ({ timeoutMs: 1000, now: new Date(), ...extra });
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: unknown) => (e instanceof KeysmithError ? e.code : `untyped: ${String(e)}`),
    );

  it('garbage certificates are ERR_TLS_OCSP_CERTIFICATE', async () => {
    for (const bad of [new Uint8Array(0), randomBytes(64), leaf.subarray(0, leaf.length - 1), Buffer.concat([leaf, Buffer.from([0])])]) {
      expect(await code(checkOcsp(bad, ca, options()))).toBe('ERR_TLS_OCSP_CERTIFICATE');
      expect(await code(checkOcsp(leaf, bad, options()))).toBe('ERR_TLS_OCSP_CERTIFICATE');
    }
  });

  it('an issuer that did not sign the leaf is ERR_TLS_OCSP_CERTIFICATE', async () => {
    await expect(checkOcsp(leaf, stranger, options())).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_CERTIFICATE', kind: 'usage' });
  });

  it('no staple and no AIA URL is ERR_TLS_OCSP_NO_URL', async () => {
    await expect(checkOcsp(leaf, ca, options())).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_NO_URL', kind: 'usage' });
  });

  it('random and truncated staples are ERR_TLS_OCSP_INVALID, never a crash', async () => {
    const sample = response(OCSPResponseStatus.successful, new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(randomBytes(40)) }));
    const inputs = [new Uint8Array(0), Uint8Array.of(0x30), Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0x30, 0x80, 0, 0)];
    for (let n = 0; n < sample.length; n++) inputs.push(sample.subarray(0, n));
    for (let i = 0; i < 300; i++) inputs.push(randomBytes(Math.floor(Math.random() * 200)));
    for (const staple of inputs) expect(await code(checkOcsp(leaf, ca, options({ staple })))).toBe('ERR_TLS_OCSP_INVALID');
  });

  it('responder refusals: tryLater and internalError are UNAVAILABLE, the others INVALID', async () => {
    const staple = (s: OCSPResponseStatus) => code(checkOcsp(leaf, ca, options({ staple: response(s) })));
    expect(await staple(OCSPResponseStatus.tryLater)).toBe('ERR_TLS_OCSP_UNAVAILABLE');
    expect(await staple(OCSPResponseStatus.internalError)).toBe('ERR_TLS_OCSP_UNAVAILABLE');
    expect(await staple(OCSPResponseStatus.unauthorized)).toBe('ERR_TLS_OCSP_INVALID');
    expect(await staple(OCSPResponseStatus.malformedRequest)).toBe('ERR_TLS_OCSP_INVALID');
    expect(await staple(OCSPResponseStatus.successful)).toBe('ERR_TLS_OCSP_INVALID'); // no responseBytes
    const other = response(OCSPResponseStatus.successful, new ResponseBytes({ responseType: '1.2.3.4', response: new OctetString(new Uint8Array(2)) }));
    await expect(checkOcsp(leaf, ca, options({ staple: other }))).rejects.toMatchObject({ message: expect.stringMatching(/not a basic OCSP response/) });
  });

  it('POSTs a DER OCSPRequest with a SHA-1 CertID and a nonce to the AIA URL', async () => {
    let seen: { url: string; init: RequestInit } | undefined;
    const fake: typeof fetch = async (url, init) => {
      seen = { url: String(url), init: init! };
      return new Response(response(OCSPResponseStatus.tryLater), { headers: { 'content-type': 'application/ocsp-response' } });
    };
    expect(await code(checkOcsp(leafWithUrl, ca, options({ fetch: fake })))).toBe('ERR_TLS_OCSP_UNAVAILABLE');
    expect(seen).toMatchObject({ url: 'http://ocsp.invalid/', init: { method: 'POST', headers: { 'content-type': 'application/ocsp-request' } } });
    const request = AsnConvert.parse(seen!.init.body as Uint8Array, OCSPRequest);
    const [only] = request.tbsRequest.requestList;
    expect(only!.reqCert.hashAlgorithm.algorithm).toBe('1.3.14.3.2.26');
    expect(only!.reqCert.issuerNameHash.byteLength).toBe(20);
    expect(request.tbsRequest.requestExtensions?.map((e) => e.extnID)).toEqual([id_pkix_ocsp_nonce]);
  });

  it('network failures and HTTP errors are ERR_TLS_OCSP_UNAVAILABLE', async () => {
    const failing: typeof fetch = () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }));
    await expect(checkOcsp(leafWithUrl, ca, options({ fetch: failing }))).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE', message: expect.stringMatching(/unreachable: ENOTFOUND/) });
    const http500: typeof fetch = async () => new Response('oops', { status: 500 });
    await expect(checkOcsp(leafWithUrl, ca, options({ fetch: http500 }))).rejects.toMatchObject({ code: 'ERR_TLS_OCSP_UNAVAILABLE', message: expect.stringMatching(/HTTP 500/) });
    const garbage: typeof fetch = async () => new Response(randomBytes(100));
    expect(await code(checkOcsp(leafWithUrl, ca, options({ fetch: garbage })))).toBe('ERR_TLS_OCSP_INVALID');
  });
});
