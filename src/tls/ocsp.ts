/**
 * OCSP (RFC 6960) for `tls check --ocsp` and `tls inspect --ocsp`: ask the responder named in a
 * leaf's AIA, or take a stapled response, and believe it only once it is verified.
 */
import { createHash, randomBytes, verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityInfoAccessSyntax,
  Certificate,
  CRLReasons,
  Extension,
  id_ad_ocsp,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';
import {
  BasicOCSPResponse,
  CertID,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { FailedError, KeysmithError, UnavailableError, UsageError } from '../errors.js';
import { children, readOne } from './der.js';

export interface OcspStatus {
  status: 'good' | 'revoked' | 'unknown';
  source: 'stapled' | 'responder';
  /** The URL asked; null for a stapled response. */
  responder: string | null;
  /** ISO-8601. */
  thisUpdate: string;
  nextUpdate: string | null;
  revokedAt?: string;
  /** CRLReason name, e.g. 'keyCompromise'. */
  reason?: string;
}

export interface OcspOptions {
  /** A DER OCSPResponse the server stapled; when given, no responder is asked. */
  staple?: Uint8Array;
  fetch?: typeof fetch;
  timeoutMs: number;
  now: Date;
}

/** Clocks disagree: OpenSSL allows the same five minutes either side by default. */
const SKEW_MS = 5 * 60_000;

const SHA1 = '1.3.14.3.2.26';
const CERT_ID_HASHES: Record<string, string> = {
  [SHA1]: 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** Signature algorithm → the digest Node needs (null: the key implies it) and the key type it needs. */
const SIGNATURES: Record<string, { hash: string | null; key: string }> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', key: 'rsa' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', key: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', key: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', key: 'rsa' },
  '1.2.840.10045.4.1': { hash: 'sha1', key: 'ec' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', key: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', key: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', key: 'ec' },
  '1.3.101.112': { hash: null, key: 'ed25519' },
  '1.3.101.113': { hash: null, key: 'ed448' },
};

const invalid = (message: string, cause?: unknown) =>
  new FailedError(`invalid OCSP response: ${message}`, cause === undefined ? {} : { cause }, 'ERR_TLS_OCSP_INVALID');

/**
 * Checks whether `leaf` (issued by `issuer`) is revoked: from a stapled response when one is given,
 * else by asking the OCSP responder named in the leaf's Authority Information Access.
 *
 * The response counts only when it is signed by the issuer, or by a responder certificate the issuer
 * signed for OCSP signing (RFC 6960 §4.2.2.2), is about this very certificate, is current at `now`
 * (five minutes of clock skew allowed) and echoes our nonce if it echoes one.
 *
 * @throws UsageError `ERR_TLS_OCSP_CERTIFICATE` when leaf or issuer is not a certificate, or the
 *   issuer did not sign the leaf; `ERR_TLS_OCSP_NO_URL` when there is no staple and no responder URL.
 * @throws UnavailableError `ERR_TLS_OCSP_UNAVAILABLE` when the responder is unreachable, times out,
 *   answers an HTTP error, or says tryLater / internalError.
 * @throws FailedError `ERR_TLS_OCSP_INVALID` for a response that is malformed, refused, wrongly
 *   signed, stale, or about another certificate — never reported as "good".
 *
 * @example
 * // `staple`: what tls.connect({ requestOCSP: true }) emitted as 'OCSPResponse', if anything.
 * const peer = socket.getPeerCertificate(true);
 * const result = await checkOcsp(peer.raw, peer.issuerCertificate.raw, { staple, timeoutMs: 5000, now: new Date() });
 * if (result.status === 'revoked') console.log(`revoked at ${result.revokedAt} (${result.reason})`);
 */
export async function checkOcsp(leaf: Uint8Array, issuer: Uint8Array, options: OcspOptions): Promise<OcspStatus> {
  const subject = certificateFacts(leaf, issuer);
  if (options.staple) return { ...verifyResponse(options.staple, subject, options.now, null), source: 'stapled', responder: null };

  if (!subject.url) {
    throw new UsageError('the certificate names no OCSP responder (no AIA OCSP URL) and no response was stapled', {}, 'ERR_TLS_OCSP_NO_URL');
  }
  const nonce = randomBytes(16);
  const body = await post(subject.url, requestFor(subject.certId, nonce), options);
  return { ...verifyResponse(body, subject, options.now, nonce), source: 'responder', responder: subject.url };
}

interface Subject {
  url: string | null;
  certId: CertID;
  /** DER of the leaf's issuer field and the issuer's public key bits: what CertID hashes. */
  issuerName: Uint8Array;
  issuerKey: Uint8Array;
  serial: Uint8Array;
  issuer: X509Certificate;
}

/** Garbage must end in our typed error, whatever the parsers throw on the way. */
function typed<T>(fn: () => T, wrap: (error: unknown) => KeysmithError): T {
  try {
    return fn();
  } catch (error) {
    throw error instanceof KeysmithError ? error : wrap(error);
  }
}

const notCertificate = (what: string) => (cause: unknown) =>
  new UsageError(`the ${what} is not a well-formed DER X.509 certificate`, { cause }, 'ERR_TLS_OCSP_CERTIFICATE');

function certificateFacts(leafDer: Uint8Array, issuerDer: Uint8Array): Subject {
  const parse = (der: Uint8Array, what: string) =>
    typed(() => ({ asn: AsnConvert.parse(der, Certificate), node: new X509Certificate(der) }), notCertificate(what));
  const leaf = parse(leafDer, 'leaf certificate');
  const issuer = parse(issuerDer, 'issuer certificate');
  if (!leaf.node.checkIssued(issuer.node) || !leaf.node.verify(issuer.node.publicKey)) {
    throw new UsageError(`the issuer certificate (${issuer.node.subject.replace(/\n/g, ', ')}) did not issue this leaf`, {}, 'ERR_TLS_OCSP_CERTIFICATE');
  }

  return typed(() => {
    // RFC 6960 hashes the issuer *field of the leaf* as encoded, so take its bytes, not a re-encoding.
    const tbs = derChildren(derChildren(leafDer)[0]!);
    const issuerName = tbs[(tbs[0]![0] === 0xa0 ? 1 : 0) + 2]!;
    const issuerKey = new Uint8Array(issuer.asn.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
    const serial = new Uint8Array(leaf.asn.tbsCertificate.serialNumber);
    const subject = { url: ocspUrl(leaf.asn), issuerName, issuerKey, serial, issuer: issuer.node };
    return { ...subject, certId: certIdFor(subject, SHA1) };
  }, notCertificate('leaf certificate'));
}

function ocspUrl(leaf: Certificate): string | null {
  const ext = leaf.tbsCertificate.extensions?.find((e) => e.extnID === id_pe_authorityInfoAccess);
  if (!ext) return null;
  const aia = AsnConvert.parse(ext.extnValue, AuthorityInfoAccessSyntax);
  const urls = aia.filter((d) => d.accessMethod === id_ad_ocsp).map((d) => d.accessLocation.uniformResourceIdentifier);
  return urls.find((u): u is string => !!u && /^https?:\/\//i.test(u)) ?? null;
}

function certIdFor(s: Pick<Subject, 'issuerName' | 'issuerKey' | 'serial'>, hashOid: string): CertID {
  const hash = (data: Uint8Array) => new OctetString(createHash(CERT_ID_HASHES[hashOid]!).update(data).digest());
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: hashOid, parameters: null }),
    issuerNameHash: hash(s.issuerName),
    issuerKeyHash: hash(s.issuerKey),
    serialNumber: toArrayBuffer(s.serial),
  });
}

function requestFor(certId: CertID, nonce: Uint8Array): Uint8Array<ArrayBuffer> {
  // RFC 8954: the nonce extension's value is itself an OCTET STRING.
  const nonceExtension = new Extension({ extnID: id_pkix_ocsp_nonce, extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))) });
  const request = new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })], requestExtensions: [nonceExtension] }) });
  return new Uint8Array(AsnConvert.serialize(request));
}

async function post(url: string, body: Uint8Array<ArrayBuffer>, options: OcspOptions): Promise<Uint8Array> {
  const unavailable = (why: string, cause?: unknown) =>
    new UnavailableError(`OCSP responder ${url} ${why}`, cause === undefined ? {} : { cause }, 'ERR_TLS_OCSP_UNAVAILABLE');
  try {
    // No redirects: the URL comes from a certificate, and keysmith goes nowhere else on its word.
    const response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    if (!response.ok) throw unavailable(`answered HTTP ${response.status}`);
    return await readCapped(response, unavailable);
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    const name = (error as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw unavailable(`did not answer within ${options.timeoutMs} ms`, error);
    const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
    throw unavailable(`is unreachable: ${cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error)}`, error);
  }
}

/** Real OCSP responses are a few kilobytes; a responder that sends more is not believed, nor buffered. */
export const MAX_OCSP_RESPONSE = 64 * 1024;

async function readCapped(response: Response, unavailable: (why: string) => Error): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer());
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_OCSP_RESPONSE) {
      await reader.cancel();
      throw unavailable(`sent more than ${MAX_OCSP_RESPONSE} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

type Verdict = Pick<OcspStatus, 'status' | 'thisUpdate' | 'nextUpdate' | 'revokedAt' | 'reason'>;

function verifyResponse(der: Uint8Array, subject: Subject, now: Date, nonce: Uint8Array | null): Verdict {
  return typed(() => verifiedVerdict(der, subject, now, nonce), (error) => invalid('malformed', error));
}

function verifiedVerdict(der: Uint8Array, subject: Subject, now: Date, nonce: Uint8Array | null): Verdict {
  let outer: OCSPResponse;
  try {
    derChildren(der);
    outer = AsnConvert.parse(der, OCSPResponse);
  } catch (error) {
    throw invalid('not a DER OCSPResponse', error);
  }
  if (outer.responseStatus !== OCSPResponseStatus.successful) {
    const status = OCSPResponseStatus[outer.responseStatus] ?? `status ${outer.responseStatus}`;
    if (outer.responseStatus === OCSPResponseStatus.tryLater || outer.responseStatus === OCSPResponseStatus.internalError) {
      throw new UnavailableError(`OCSP responder answered ${status}`, {}, 'ERR_TLS_OCSP_UNAVAILABLE');
    }
    throw invalid(`the responder answered ${status}`);
  }
  if (outer.responseBytes?.responseType !== id_pkix_ocsp_basic) throw invalid('not a basic OCSP response');

  let basic: BasicOCSPResponse;
  let raw: Uint8Array[];
  try {
    const basicDer = new Uint8Array(outer.responseBytes.response.buffer);
    basic = AsnConvert.parse(basicDer, BasicOCSPResponse);
    raw = derChildren(basicDer);
  } catch (error) {
    throw invalid('malformed BasicOCSPResponse', error);
  }
  verifySigner(basic, raw, subject, now);

  const data = basic.tbsResponseData;
  const single = data.responses.find((r) => sameCertId(r.certID, subject));
  if (!single) {
    const serials = data.responses.map((r) => hex(new Uint8Array(r.certID.serialNumber))).join(', ') || 'none';
    throw invalid(`it is not about this certificate (serial ${hex(subject.serial)}; response has ${serials})`);
  }
  if (single.thisUpdate.getTime() > now.getTime() + SKEW_MS) throw invalid(`thisUpdate ${iso(single.thisUpdate)} is in the future`);
  if (single.nextUpdate && single.nextUpdate.getTime() < now.getTime() - SKEW_MS) {
    throw invalid(`stale: nextUpdate ${iso(single.nextUpdate)} has passed`);
  }
  const echoed = data.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (nonce && echoed && !equal(new Uint8Array(echoed.extnValue.buffer), new Uint8Array(AsnConvert.serialize(new OctetString(nonce))))) {
    throw invalid('the nonce does not match the request');
  }

  const verdict: Verdict = {
    status: single.certStatus.revoked ? 'revoked' : single.certStatus.good !== undefined ? 'good' : 'unknown',
    thisUpdate: iso(single.thisUpdate),
    nextUpdate: single.nextUpdate ? iso(single.nextUpdate) : null,
  };
  const revoked = single.certStatus.revoked;
  if (revoked) {
    verdict.revokedAt = iso(revoked.revocationTime);
    if (revoked.revocationReason) verdict.reason = CRLReasons[revoked.revocationReason.reason] ?? `reason ${revoked.revocationReason.reason}`;
  }
  return verdict;
}

/** The issuer itself, or a certificate in the response the issuer signed for OCSP signing, must have signed it. */
function verifySigner(basic: BasicOCSPResponse, raw: Uint8Array[], subject: Subject, now: Date): void {
  const algorithm = basic.signatureAlgorithm.algorithm;
  const signature = SIGNATURES[algorithm];
  if (!signature) throw invalid(`unsupported signature algorithm ${algorithm}`);
  const tbs = raw[0]!;
  const signedBy = (key: KeyObject) => {
    if (key.asymmetricKeyType !== signature.key) return false;
    try {
      return verifySignature(signature.hash, tbs, key, new Uint8Array(basic.signature));
    } catch {
      return false;
    }
  };
  if (signedBy(subject.issuer.publicKey)) return;

  // The certs field is [0] EXPLICIT SEQUENCE OF Certificate, after tbs, algorithm and signature.
  const certs = raw[3] ? derChildren(derChildren(raw[3], 0xa0)[0]!) : [];
  const reasons: string[] = [];
  for (const der of certs) {
    const cert = new X509Certificate(der);
    const name = cert.subject.replace(/\n/g, ', ');
    if (!signedBy(cert.publicKey)) continue;
    if (!cert.checkIssued(subject.issuer) || !cert.verify(subject.issuer.publicKey)) reasons.push(`signer ${name} is not issued by the certificate's issuer`);
    else if (!(cert.keyUsage ?? []).includes(id_kp_OCSPSigning)) reasons.push(`signer ${name} lacks the OCSPSigning extended key usage`);
    else if (new Date(cert.validFrom).getTime() > now.getTime() + SKEW_MS || new Date(cert.validTo).getTime() < now.getTime() - SKEW_MS) {
      reasons.push(`signer ${name} is not valid at ${iso(now)}`);
    } else return;
  }
  throw invalid(reasons[0] ?? (certs.length ? 'no certificate in it made its signature' : 'its signature does not verify with the issuer key'));
}

function sameCertId(id: CertID, subject: Subject): boolean {
  const hashOid = id.hashAlgorithm.algorithm;
  if (!CERT_ID_HASHES[hashOid]) return false;
  const ours = hashOid === SHA1 ? subject.certId : certIdFor(subject, hashOid);
  return (
    equal(new Uint8Array(id.serialNumber), subject.serial) &&
    equal(new Uint8Array(id.issuerNameHash.buffer), new Uint8Array(ours.issuerNameHash.buffer)) &&
    equal(new Uint8Array(id.issuerKeyHash.buffer), new Uint8Array(ours.issuerKeyHash.buffer))
  );
}

/**
 * The raw elements inside a DER SEQUENCE (or other constructed `tag`): signatures cover the bytes as
 * sent, which a parse and re-encode need not reproduce. Strict where the parser is lenient.
 */
function derChildren(der: Uint8Array, tag = 0x30): Uint8Array[] {
  const outer = readOne(der);
  if (outer.tag !== tag) throw new Error('unexpected DER element');
  return children(outer).map((c) => c.bytes);
}

const iso = (d: Date) => d.toISOString();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex') || '00';
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const toArrayBuffer = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
