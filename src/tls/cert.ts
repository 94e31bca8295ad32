/**
 * A certificate as the validator reads it: parsed by OpenSSL (through Node's X509Certificate), its
 * fields located by the DER walk (der.ts), its extensions decoded once when asked; and the store of
 * trusted roots, indexed by canonical subject.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import {
  authorityKeyId, basicConstraints, bitString, canonicalName, certificateFields, certificatePolicies, children, inhibitAnyPolicy,
  keyInfo, nameAttributes, octetString, oid, oidSequence, policyConstraints, policyMappings, readOne, sequence, TAG, validity,
  type Attribute, type CertificateFields,
} from './der.js';
import { generalNames, parseNameConstraints, type Constraints, type RawName } from './name-constraints.js';
import { pemCertificates } from './pem.js';
import { UsageError } from '../errors.js';

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  authorityKeyId: '2.5.29.35',
  subjectKeyId: '2.5.29.14',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  anyPolicy: '2.5.29.32.0',
  crlDistributionPoints: '2.5.29.31',
  nsCertType: '2.16.840.1.113730.1.1',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  emailAddress: '1.2.840.113549.1.9.1',
  commonName: '2.5.4.3',
} as const;

/**
 * The signature algorithms keysmith accepts on a certificate: SHA-2 with RSA, ECDSA or DSA, and
 * EdDSA. An allow-list, so that MD5, SHA-1 and their many OIDs (PKCS#1, OIW, X9.57) all fail.
 */
const STRONG_SIGNATURES = new Set([
  '1.2.840.113549.1.1.11', '1.2.840.113549.1.1.12', '1.2.840.113549.1.1.13', '1.2.840.113549.1.1.14', // sha256/384/512/224WithRSAEncryption
  '1.2.840.10045.4.3.1', '1.2.840.10045.4.3.2', '1.2.840.10045.4.3.3', '1.2.840.10045.4.3.4', // ecdsa-with-SHA224/256/384/512
  '2.16.840.1.101.3.4.3.1', '2.16.840.1.101.3.4.3.2', // dsa-with-sha224/256
  '1.3.101.112', '1.3.101.113', // Ed25519, Ed448
]);
const RSASSA_PSS = '1.2.840.113549.1.1.10';
/** SHA-224, SHA-256, SHA-384, SHA-512: the hashes RSA-PSS may name. */
const STRONG_HASHES = new Set(['2.16.840.1.101.3.4.2.4', '2.16.840.1.101.3.4.2.1', '2.16.840.1.101.3.4.2.2', '2.16.840.1.101.3.4.2.3']);

/** The curves CA/B BR §6.1.5 allows; Ed25519 and Ed448 are allowed too (OpenSSL accepts them, keysmith issues them). */
const STRONG_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/** KeyUsage bits as DER numbers them (bit 0 is the most significant bit of the first byte). */
export const KU = { digitalSignature: 0, keyEncipherment: 2, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

/** One certificate: parsed by OpenSSL (through Node), its fields located by a DER walk, its extensions decoded by @peculiar/asn1-x509 when asked. */
export class Cert {
  readonly node: X509Certificate;
  readonly der: Buffer;
  readonly fingerprint: string;
  readonly #fields: CertificateFields;
  readonly #memo = new Map<string, unknown>();

  /** The subject and issuer in canonical form (as OpenSSL compares names); see {@link nameError}. */
  readonly subjectKey: string;
  readonly issuerKey: string;
  /** Why the subject or issuer is not a DER Name, if it is not: such a certificate chains to nothing. */
  readonly nameError: string | undefined;

  /** Throws when OpenSSL cannot parse `der` as a certificate. */
  constructor(der: Uint8Array | X509Certificate) {
    // DER only: X509Certificate would also take PEM text, and a PEM inside a PEM is not a certificate.
    if (!(der instanceof X509Certificate) && readOne(der).tag !== TAG.sequence) throw new Error('DER: not a certificate');
    this.node = der instanceof X509Certificate ? der : new X509Certificate(der);
    this.der = this.node.raw;
    this.fingerprint = this.node.fingerprint256;
    this.#fields = certificateFields(this.der);
    try {
      this.subjectKey = canonicalName(this.#fields.subject);
      this.issuerKey = canonicalName(this.#fields.issuer);
    } catch (err) {
      this.nameError = (err as Error).message;
      this.subjectKey = `!subject ${this.fingerprint}`;
      this.issuerKey = `!issuer ${this.fingerprint}`;
    }
  }

  /** Computes a derived value once. */
  #once<T>(key: string, make: () => T): T {
    if (!this.#memo.has(key)) this.#memo.set(key, make());
    return this.#memo.get(key) as T;
  }
  get subject(): string {
    return this.node.subject ?? '';
  }
  get issuer(): string {
    return this.node.issuer ?? '';
  }
  /** The subject for people: one line, `(empty subject)` rather than nothing. */
  get label(): string {
    return this.subject.split('\n').join(', ') || '(empty subject)';
  }
  /** No attribute at all (OpenSSL counts entries: a Name of empty RDNs is empty too). */
  get emptySubject(): boolean {
    return this.#once('emptySubject', () => nameAttributes(this.#fields.subject).every((rdn) => rdn.length === 0));
  }
  get emptyIssuer(): boolean {
    return this.#once('emptyIssuer', () => nameAttributes(this.#fields.issuer).every((rdn) => rdn.length === 0));
  }
  /** The subject's RDNs (when {@link nameError} is unset). */
  get subjectRdns(): Attribute[][] {
    return this.#once('subjectRdns', () => nameAttributes(this.#fields.subject));
  }
  get subjectDer(): Uint8Array {
    return this.#fields.subject.bytes;
  }
  get #validity(): { notBefore: Date; notAfter: Date } {
    return this.#once('validity', () => validity(this.#fields.validity));
  }
  get notBefore(): Date {
    return this.#validity.notBefore;
  }
  get notAfter(): Date {
    return this.#validity.notAfter;
  }
  get version(): number {
    return this.#fields.version;
  }
  /** The OID of the algorithm the issuer signed with. */
  get signatureAlgorithm(): string {
    return this.#once('sigalg', () => {
      const id = sequence(this.#fields.outerSignature)[0];
      if (id?.tag !== TAG.oid) throw new Error('DER: bad signature algorithm');
      return oid(id.content);
    });
  }
  /** Why the issuer's signature algorithm is too weak to trust, or null. */
  get weakSignature(): string | null {
    return this.#once('weakSignature', () => {
      const algorithm = this.signatureAlgorithm;
      if (STRONG_SIGNATURES.has(algorithm)) return null;
      if (algorithm !== RSASSA_PSS) return `signed with ${algorithm}, not a SHA-2 or EdDSA signature`;
      // RSASSA-PSS-params: [0] EXPLICIT hashAlgorithm, SHA-1 when absent (RFC 4055 §3.1).
      const params = sequence(this.#fields.outerSignature)[1];
      const hash = params?.tag === TAG.sequence ? children(params).find((p) => p.tag === 0xa0) : undefined;
      const hashId = hash ? sequence(hash.content)[0] : undefined;
      const hashOid = hashId?.tag === TAG.oid ? oid(hashId.content) : 'SHA-1 (the default)';
      return STRONG_HASHES.has(hashOid) ? null : `signed with RSA-PSS over ${hashOid}, not SHA-2`;
    });
  }
  /** Why the public key is too weak to trust, or null. */
  get weakKey(): string | null {
    return this.#once('weakKey', () => {
      const key = keyInfo(this.#fields.spki);
      if (key.type === 'other') return 'a key of a type keysmith does not know';
      if (key.type === 'rsa' || key.type === 'rsa-pss' || key.type === 'dsa') {
        if (key.bits === undefined) return `a ${key.type.toUpperCase()} key of unknown size`;
        if (key.bits < 2048) return `a ${key.bits}-bit ${key.type.toUpperCase()} key`;
      }
      if (key.type === 'ec' && !STRONG_CURVES.has(key.curve ?? '')) return `an EC key on ${key.curve ?? 'explicit parameters'}`;
      return null;
    });
  }
  /** The public key, made once (it checks the signature of every certificate this one issued). */
  get publicKey(): KeyObject {
    return this.#once('publicKey', () => this.node.publicKey);
  }
  /** Whether the signature algorithm is the same inside and outside the signed part. */
  get signatureAlgorithmsMatch(): boolean {
    return Buffer.from(this.#fields.innerSignature).equals(this.#fields.outerSignature);
  }
  get extensions(): CertificateFields['extensions'] {
    return this.#fields.extensions;
  }
  extension(oid: string): CertificateFields['extensions'][number] | undefined {
    return this.extensions.find((e) => e.extnID === oid);
  }
  /** An extension's value decoded by `decode`, once; undefined when the extension is absent. */
  #decoded<T>(oid: string, decode: (value: Uint8Array) => T): T | undefined {
    return this.#once(oid, () => {
      const e = this.extension(oid);
      return e ? decode(e.value) : undefined;
    });
  }
  get basicConstraints(): { cA: boolean; pathLenConstraint?: number } | undefined {
    return this.#decoded(OID.basicConstraints, basicConstraints);
  }
  get isCa(): boolean {
    return this.version === 3 && this.basicConstraints?.cA === true;
  }
  /** The keyUsage bits (DER bit numbers), or null when the extension is absent (any use allowed). */
  get keyUsage(): Set<number> | null {
    return this.#decoded(OID.keyUsage, bitString) ?? null;
  }
  get extKeyUsage(): string[] | null {
    return this.#decoded(OID.extKeyUsage, oidSequence) ?? null;
  }
  get policies(): string[] | undefined {
    return this.#decoded(OID.certificatePolicies, certificatePolicies);
  }
  get policyConstraints(): { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } | undefined {
    return this.#decoded(OID.policyConstraints, policyConstraints);
  }
  get policyMappings(): Array<[string, string]> | undefined {
    return this.#decoded(OID.policyMappings, policyMappings);
  }
  get inhibitAnyPolicy(): number | undefined {
    return this.#decoded(OID.inhibitAnyPolicy, inhibitAnyPolicy);
  }
  get subjectAltNames(): RawName[] | null {
    return this.#once('san', () => {
      const e = this.extension(OID.subjectAltName);
      return e ? generalNames(e.value) : null;
    });
  }
  get nameConstraints(): Constraints | null {
    return this.#once('nc', () => {
      const e = this.extension(OID.nameConstraints);
      return e ? parseNameConstraints(e) : null;
    });
  }
  get selfIssued(): boolean {
    return this.subjectKey === this.issuerKey;
  }
  get subjectKeyId(): string | undefined {
    return this.#decoded(OID.subjectKeyId, (v) => Buffer.from(octetString(v)).toString('hex'));
  }
  get authorityKeyId(): string | undefined {
    return this.#decoded(OID.authorityKeyId, (v) => {
      const id = authorityKeyId(v);
      return id && Buffer.from(id).toString('hex');
    });
  }
  get nsCertType(): Set<number> | undefined {
    return this.#decoded(OID.nsCertType, bitString);
  }
}

/** Trusted roots, indexed by subject so that finding an issuer is one lookup. */
export class TrustStore {
  readonly #bySubject = new Map<string, Cert[]>();
  readonly #fingerprints = new Set<string>();

  /** From PEM or DER certificates; ones that do not parse are passed over (OS bundles hold odd entries). */
  constructor(certificates: Iterable<string | Uint8Array>) {
    for (const pemOrDer of certificates) {
      let cert: Cert;
      try {
        cert = new Cert(typeof pemOrDer === 'string' ? new X509Certificate(pemOrDer) : pemOrDer);
      } catch {
        continue;
      }
      if (this.#fingerprints.has(cert.fingerprint)) continue;
      this.#fingerprints.add(cert.fingerprint);
      this.#bySubject.set(cert.subjectKey, [...(this.#bySubject.get(cert.subjectKey) ?? []), cert]);
    }
  }
  get size(): number {
    return this.#fingerprints.size;
  }
  has(cert: Cert): boolean {
    return this.#fingerprints.has(cert.fingerprint);
  }
  issuersOf(cert: Cert): Cert[] {
    return this.#bySubject.get(cert.issuerKey) ?? [];
  }
}

/**
 * Reads the certificates of a PEM bundle (garbage between blocks ignored) or one DER certificate.
 * `cache` shares certificates met before (the same intermediate in many files is parsed once).
 */
export function parseCertificates(bytes: Uint8Array, cache?: Map<string, Cert>): Cert[] {
  const text = Buffer.from(bytes).toString('latin1');
  const bodies = pemCertificates(text);
  if (bodies.length === 0) return text.includes('-----BEGIN') ? [] : [certificate(bytes)];
  return bodies.map((base64) => {
    let cert = cache?.get(base64);
    if (!cert) {
      cert = certificate(Buffer.from(base64, 'base64'));
      cache?.set(base64, cert);
    }
    return cert;
  });
}

/** One certificate's DER, or a typed refusal saying why it is not one. */
function certificate(der: Uint8Array): Cert {
  try {
    return new Cert(der);
  } catch (err) {
    throw new UsageError(`not a certificate: ${(err as Error).message}`, { cause: err }, 'ERR_TLS_MALFORMED');
  }
}
