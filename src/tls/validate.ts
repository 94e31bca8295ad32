/**
 * The one path validator behind every trust verdict keysmith gives (`tls check` and `tls inspect`,
 * files and live hosts alike): RFC 5280 §6 path validation plus the rules browsers enforce for
 * server certificates.
 *
 * Why not a library: pkijs's CertificateChainValidationEngine ignores pathLenConstraint, EKU and
 * unknown critical extensions on leaves, and takes the last certificate given as the leaf; OpenSSL's
 * verifier is not reachable from Node without a handshake (which needs the leaf's private key). So
 * the parts with mature implementations come from OpenSSL through Node — signatures
 * (`X509Certificate.verify`), host names and IPs (`checkHost` with RFC 6125 flags, `checkIP`) — and
 * the rest is written here and checked against `openssl verify -x509_strict -purpose sslserver` on
 * the corpus in fixtures/tls/ (test/integration/tls-validate.test.ts). Where keysmith is stricter
 * than OpenSSL (SAN required, no partial wildcards) the rule is cited beside the check.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import {
  authorityKeyId, basicConstraints, bitString, canonicalName, canonicalRdn, certificateFields, certificatePolicies, children, inhibitAnyPolicy,
  keyInfo, nameAttributes, octetString, oid, oidSequence, policyConstraints, readOne, sequence, stringValue, TAG as DER_TAG, validity, wellFormed,
  type Attribute, type CertificateFields, type Tlv,
} from './der.js';
import { pemCertificates } from './pem.js';

/** The rule a chain breaks: stable codes, documented in the README. */
export type TrustRule =
  | 'MALFORMED'
  | 'UNTRUSTED'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'NOT_A_CA'
  | 'PATH_LENGTH'
  | 'KEY_USAGE'
  | 'NAME_CONSTRAINTS'
  | 'UNKNOWN_CRITICAL_EXTENSION'
  | 'DUPLICATE_EXTENSION'
  | 'EXTENDED_KEY_USAGE'
  | 'NO_SAN'
  | 'WEAK_KEY'
  | 'WEAK_SIGNATURE'
  | 'POLICY'
  | 'PROFILE';

export interface TrustError {
  code: TrustRule;
  /** Which certificate of the path breaks it: 0 is the leaf, then its issuers up to the root. */
  certificate: number;
  message: string;
}

export interface Verdict {
  trusted: boolean;
  /** Why not, when not trusted. */
  trustError: TrustError | null;
  /** The path checked, leaf first (to the root when one was found). */
  path: Cert[];
}

const OID = {
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
 * Extensions whose meaning keysmith processes, the same list as OpenSSL's X509_supported_extension:
 * anything else marked critical makes the certificate unusable (RFC 5280 §4.2) — key identifiers,
 * AIA and CRL distribution points among them, which RFC 5280 wants non-critical anyway.
 */
const UNDERSTOOD = new Set<string>([
  OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName, OID.nameConstraints,
  OID.certificatePolicies, OID.policyMappings, OID.policyConstraints, OID.inhibitAnyPolicy, OID.nsCertType,
]);

/**
 * Extensions OpenSSL decodes whenever it meets them (x509v3_cache_extensions): one it cannot decode
 * makes the certificate invalid. AIA and issuerAltName it leaves alone, and so does keysmith.
 */
const DECODED_BY_OPENSSL = new Set<string>([...UNDERSTOOD, OID.authorityKeyId, OID.subjectKeyId, OID.crlDistributionPoints]);

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
const KU = { digitalSignature: 0, keyEncipherment: 2, keyAgreement: 4, keyCertSign: 5, cRLSign: 6 } as const;

/** A general name as it stands in DER: its CHOICE tag and its content bytes. */
interface RawName {
  tag: number;
  bytes: Uint8Array;
}
const NAME = { email: 1, dns: 2, directory: 4, uri: 6, ip: 7 } as const;
const TAG_SEQUENCE = DER_TAG.sequence;

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
  get emptySubject(): boolean {
    return this.#fields.subject.content.length === 0;
  }
  get emptyIssuer(): boolean {
    return this.#fields.issuer.content.length === 0;
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
      if (id?.tag !== DER_TAG.oid) throw new Error('DER: bad signature algorithm');
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
      const hash = params?.tag === DER_TAG.sequence ? children(params).find((p) => p.tag === 0xa0) : undefined;
      const hashId = hash ? sequence(hash.content)[0] : undefined;
      const hashOid = hashId?.tag === DER_TAG.oid ? oid(hashId.content) : 'SHA-1 (the default)';
      return STRONG_HASHES.has(hashOid) ? null : `signed with RSA-PSS over ${hashOid}, not SHA-2`;
    });
  }
  /** Why the public key is too weak to trust, or null. */
  get weakKey(): string | null {
    return this.#once('weakKey', () => {
      const key = keyInfo(this.#fields.spki);
      if ((key.type === 'rsa' || key.type === 'rsa-pss' || key.type === 'dsa') && key.bits !== undefined && key.bits < 2048) return `a ${key.bits}-bit ${key.type.toUpperCase()} key`;
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

/** Reads a GeneralNames (a SAN, or a subtree list), keeping each name's exact bytes. */
function generalNames(der: Uint8Array): RawName[] {
  return sequence(der).map(rawName);
}

function rawName(el: Tlv): RawName {
  if ((el.tag & 0xc0) !== 0x80) throw new Error('a general name must be context-tagged');
  const tag = el.tag & 0x1f;
  // otherName, x400Address, directoryName and ediPartyName are constructed; the rest are strings
  // or bytes, which DER encodes primitive (X.690 §10.2): a constructed dNSName is not DER.
  if (Boolean(el.tag & 0x20) !== [0, 3, 4, 5].includes(tag)) throw new Error(`DER: general name [${tag}] wrongly ${el.tag & 0x20 ? 'constructed' : 'primitive'}`);
  // directoryName is [4] EXPLICIT Name: keep the inner Name's DER.
  if (tag === NAME.directory) return { tag, bytes: readOne(el.content).bytes };
  return { tag, bytes: el.content };
}

interface Constraints {
  permitted: RawName[];
  excluded: RawName[];
}

function parseNameConstraints(e: { value: Uint8Array }): Constraints {
  const out: Constraints = { permitted: [], excluded: [] };
  for (const part of sequence(e.value)) {
    const list = part.tag === 0xa0 ? out.permitted : part.tag === 0xa1 ? out.excluded : null;
    if (!list) throw new Error('nameConstraints: unexpected field');
    for (const subtree of children(part)) {
      if (subtree.tag !== TAG_SEQUENCE) throw new Error('nameConstraints: a subtree is a SEQUENCE');
      const fields = children(subtree);
      // minimum must be 0 and maximum absent (RFC 5280 §4.2.1.10); OpenSSL refuses anything else.
      if (fields.length !== 1) throw new Error('nameConstraints: minimum/maximum are not allowed');
      list.push(rawName(fields[0]!));
    }
  }
  return out;
}

const ascii = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** RFC 5280 §4.2.1.10 dNSName: the name is the constraint, or the constraint with labels added on the left. */
function dnsWithin(name: string, base: string): boolean {
  const [n, b] = [lower(name), lower(base)];
  if (b === '') return true;
  if (n.length < b.length || !n.endsWith(b)) return false;
  return n.length === b.length || b.startsWith('.') || n[n.length - b.length - 1] === '.';
}

/**
 * rfc822Name, as OpenSSL's nc_email: a mailbox (`user@host`), every mailbox at a host (`host` or
 * `@host`), or at every host below a domain (`.domain`). Local parts compare case-insensitively.
 */
function emailWithin(mailbox: string, base: string): boolean | null {
  const at = mailbox.indexOf('@');
  if (at < 0) return null;
  const host = lower(mailbox.slice(at + 1));
  const baseAt = base.indexOf('@');
  if (baseAt < 0 && base.startsWith('.')) return host.length > base.length - 1 && host.endsWith(lower(base));
  if (baseAt > 0 && lower(base.slice(0, baseAt)) !== lower(mailbox.slice(0, at))) return false;
  return host === lower(base.slice(baseAt + 1));
}

/**
 * uniformResourceIdentifier, as OpenSSL's nc_uri: the host is what follows `://` up to the first `:`
 * (or else `/`) — not a WHATWG parse, which would see `good.test` in `https://good.test?.evil.test`.
 */
function uriWithin(uri: string, base: string): boolean | null {
  const start = uri.indexOf('://');
  if (start < 0) return null;
  const rest = uri.slice(start + 3);
  const colon = rest.indexOf(':');
  const end = colon >= 0 ? colon : rest.indexOf('/');
  const host = lower(end >= 0 ? rest.slice(0, end) : rest);
  if (!host) return null;
  return base.startsWith('.') ? host.length > base.length && host.endsWith(lower(base)) : host === lower(base);
}

function ipWithin(ip: Uint8Array, base: Uint8Array): boolean {
  if (base.length !== ip.length * 2) return false;
  for (let i = 0; i < ip.length; i++) if ((ip[i]! & base[ip.length + i]!) !== (base[i]! & base[ip.length + i]!)) return false;
  return true;
}

/** directoryName: the constraint's RDNs are the first RDNs of the name, compared in canonical form. */
function dnWithin(name: Uint8Array, base: Uint8Array): boolean {
  const [n, b] = [name, base].map((der) => nameAttributes(readOne(der)).map(canonicalRdn));
  return b!.length <= n!.length && b!.every((rdn, i) => rdn === n![i]);
}

/** Whether `name` (of the constraint's type) lies within `base`; null when the type is not one we can match. */
function within(name: RawName, base: RawName): boolean | null {
  switch (base.tag) {
    case NAME.dns:
      return dnsWithin(ascii(name.bytes), ascii(base.bytes));
    case NAME.email:
      return emailWithin(ascii(name.bytes), ascii(base.bytes));
    case NAME.uri:
      return uriWithin(ascii(name.bytes), ascii(base.bytes));
    case NAME.ip:
      return ipWithin(name.bytes, base.bytes);
    case NAME.directory:
      return dnWithin(name.bytes, base.bytes);
    default:
      return null;
  }
}

/** The names of `cert` that name constraints apply to (RFC 5280 §6.1.3 (b), (c)). */
function constrainedNames(cert: Cert, leaf: boolean): RawName[] {
  const names: RawName[] = [];
  if (!cert.emptySubject) names.push({ tag: NAME.directory, bytes: cert.subjectDer });
  const sans = cert.subjectAltNames ?? [];
  names.push(...sans);
  const attrs = cert.subjectRdns.flat();
  // Email addresses in the subject are rfc822Names too (RFC 5280 §4.2.1.10); an emailAddress is an
  // IA5String, and OpenSSL refuses to judge any other (unsupported name syntax).
  for (const a of attrs) {
    if (a.type !== OID.emailAddress) continue;
    if (a.tag !== 0x16) throw new NameSyntaxError('an emailAddress in the subject that is not an IA5String');
    names.push({ tag: NAME.email, bytes: a.value });
  }
  // As OpenSSL does: a leaf with no DNS SAN has its host-name-like CNs checked as dNSNames.
  if (leaf && !sans.some((n) => n.tag === NAME.dns)) {
    for (const a of attrs) {
      const text = a.type === OID.commonName ? stringValue(a.tag, a.value) : null;
      if (text !== null && /^[A-Za-z0-9*_-]+(\.[A-Za-z0-9*_-]+)+\.?$/.test(text)) names.push({ tag: NAME.dns, bytes: Buffer.from(text, 'latin1') });
    }
  }
  return names;
}

const TYPE_NAMES: Record<number, string> = { 1: 'email', 2: 'DNS', 4: 'directory name', 6: 'URI', 7: 'IP' };
function show(name: RawName): string {
  if (name.tag === NAME.ip) return `IP ${name.bytes.length === 4 ? [...name.bytes].join('.') : Buffer.from(name.bytes).toString('hex')}`;
  if (name.tag === NAME.directory) return `directory name ${nameAttributes(readOne(name.bytes)).map(canonicalRdn).join(', ')}`;
  return `${TYPE_NAMES[name.tag] ?? `name type ${name.tag}`} ${JSON.stringify(ascii(name.bytes))}`;
}

/** A name the constraints cannot be checked against: the path is refused, as OpenSSL refuses it. */
class NameSyntaxError extends Error {}

/**
 * A wildcard DNS name `*.X` also names every `Y.X`: it breaks an excluded subtree `Y.X` though the
 * string `*.X` is outside it. OpenSSL misses this; BoringSSL and Chromium refuse it.
 */
function wildcardReaches(name: RawName, excluded: RawName): boolean {
  if (name.tag !== NAME.dns || excluded.tag !== NAME.dns) return false;
  const n = ascii(name.bytes);
  if (!n.startsWith('*.')) return false;
  const base = lower(ascii(excluded.bytes).replace(/^\./, ''));
  return base.endsWith(lower(n.slice(1))) && !base.slice(0, base.length - n.length + 1).includes('.');
}

/** Checks one name against one CA's constraints; returns why it fails, or null. */
function violates(name: RawName, c: Constraints): string | null {
  const sameType = (s: RawName) => s.tag === name.tag;
  const permitted = c.permitted.filter(sameType);
  if (permitted.length > 0) {
    const results = permitted.map((p) => within(name, p));
    if (results.some((r) => r === null)) return `cannot check ${show(name)} against its permitted subtrees`;
    if (!results.includes(true)) return `${show(name)} is outside the permitted subtrees`;
  }
  for (const e of c.excluded.filter(sameType)) {
    const r = within(name, e) || wildcardReaches(name, e);
    if (r === null) return `cannot check ${show(name)} against its excluded subtrees`;
    if (r) return `${show(name)} is in an excluded subtree`;
  }
  return null;
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

export interface ValidateOptions {
  /** The time to check validity at. */
  at: Date;
  /** The purpose: a TLS server certificate (the only one for now). */
  purpose?: 'serverAuth';
}

/** The longest path built (OpenSSL's default depth is 100; real chains have 2–4). */
export const MAX_CHAIN = 32;
/** Certificates of one bundle that are looked at for issuers (found by subject, so many cost little). */
const MAX_POOL = 1000;
const MAX_PATHS = 16;

/**
 * Validates `presented` (leaf first, then any intermediates in any order, as a server sends them or
 * a bundle holds them) against `store` at `options.at`.
 * @example
 * const verdict = validateChain(pems.map((p) => new Cert(new X509Certificate(p).raw)), new TrustStore(roots), { at: new Date() });
 * if (!verdict.trusted) console.log(verdict.trustError?.code, verdict.trustError?.message);
 */
export function validateChain(presented: Cert[], store: TrustStore, options: ValidateOptions): Verdict {
  const leaf = presented[0];
  if (!leaf) throw new Error('validateChain: no certificate');
  if (leaf.nameError) return { trusted: false, trustError: { code: 'MALFORMED', certificate: 0, message: `certificate 0 (${leaf.label}): ${leaf.nameError}` }, path: [leaf] };
  const pool = new Map<string, Cert[]>();
  for (const c of presented.slice(1, MAX_POOL)) pool.set(c.subjectKey, [...(pool.get(c.subjectKey) ?? []), c]);
  let first: Verdict | undefined;
  for (const { path, anchored } of candidatePaths(leaf, pool, store)) {
    const error = anchored ? checkPath(path, options) : unanchored(path);
    const verdict: Verdict = { trusted: error === null, trustError: error, path };
    if (verdict.trusted) return verdict;
    // Report the first anchored path's failure: it is the chain the server meant.
    if (!first || (anchored && first.trustError?.code === 'UNTRUSTED')) first = verdict;
  }
  return first!;
}

function unanchored(path: Cert[]): TrustError {
  const top = path.length - 1;
  const cert = path[top]!;
  if (cert.selfIssued && safeVerify(cert, cert)) return { code: 'UNTRUSTED', certificate: top, message: `self-signed certificate ${top} (${cert.label}) is not a trusted root` };
  return { code: 'UNTRUSTED', certificate: top, message: `no trusted issuer found for certificate ${top} (issuer: ${cert.issuer.split('\n').join(', ') || '(empty)'})` };
}

/** Paths from the leaf upward, trusted roots tried first; each either ends at a root of the store or is a dead end. */
function* candidatePaths(leaf: Cert, pool: Map<string, Cert[]>, store: TrustStore): Generator<{ path: Cert[]; anchored: boolean }> {
  let yielded = 0;
  const path = [leaf];
  function* walk(): Generator<{ path: Cert[]; anchored: boolean }> {
    if (yielded >= MAX_PATHS) return;
    const top = path[path.length - 1]!;
    if (store.has(top)) {
      yielded++;
      yield { path: [...path], anchored: true };
      return;
    }
    const seen = new Set(path.map((c) => c.fingerprint));
    const candidates = [...store.issuersOf(top), ...(pool.get(top.issuerKey) ?? [])].filter((c) => !seen.has(c.fingerprint) && keyIdsMatch(top, c));
    if (candidates.length === 0 || path.length > MAX_CHAIN) {
      yielded++;
      yield { path: [...path], anchored: false };
      return;
    }
    for (const c of candidates) {
      path.push(c);
      yield* walk();
      path.pop();
    }
  }
  yield* walk();
}

/** An issuer whose subject key id differs from the child's authority key id is not its issuer (as OpenSSL's X509_check_issued). */
function keyIdsMatch(child: Cert, issuer: Cert): boolean {
  try {
    const akid = child.authorityKeyId;
    const skid = issuer.subjectKeyId;
    return !akid || !skid || akid === skid;
  } catch {
    return true; // a malformed extension is reported by the path check
  }
}

function safeVerify(child: Cert, issuer: Cert): boolean {
  try {
    return child.node.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** RFC 5280 §6.1 over a path that ends in a trusted root, plus the server-certificate rules. */
function checkPath(path: Cert[], options: ValidateOptions): TrustError | null {
  // Decode every extension the checks read first, so that a malformed one is named, not thrown.
  const constrained = path.some((c) => c.extension(OID.nameConstraints));
  for (const [i, cert] of path.entries()) {
    try {
      if (cert.nameError) throw new Error(cert.nameError);
      // What OpenSSL decodes it must be able to decode (else OpenSSL calls the certificate invalid).
      for (const e of cert.extensions) if (DECODED_BY_OPENSSL.has(e.extnID)) wellFormed(readOne(e.value));
      checkShapes(cert);
      void [cert.basicConstraints, cert.keyUsage, cert.extKeyUsage, cert.subjectAltNames, cert.authorityKeyId, cert.subjectKeyId, cert.nameConstraints, cert.nsCertType, cert.notAfter, cert.signatureAlgorithm, cert.weakKey, cert.weakSignature];
      if (constrained && !cert.emptySubject) void cert.subjectRdns;
    } catch (err) {
      return { code: 'MALFORMED', certificate: i, message: `certificate ${i} (${cert.label}): cannot decode it: ${(err as Error).message}` };
    }
  }
  try {
    return checkPathUnsafe(path, options);
  } catch (err) {
    // Whatever the checks could not read is a certificate no verdict can rest on: never "trusted".
    return { code: 'MALFORMED', certificate: 0, message: `cannot judge this chain: ${(err as Error).message}` };
  }
}

function checkPathUnsafe(path: Cert[], options: ValidateOptions): TrustError | null {
  const fail = (code: TrustRule, certificate: number, message: string): TrustError => ({ code, certificate, message: `certificate ${certificate} (${path[certificate]!.label}): ${message}` });
  const last = path.length - 1;
  const at = options.at;

  for (const [i, cert] of path.entries()) {
    // Extensions: each once (RFC 5280 §4.2), every critical one understood.
    const ids = cert.extensions.map((e) => e.extnID);
    const dup = ids.find((id, k) => ids.indexOf(id) !== k);
    if (dup) return fail('DUPLICATE_EXTENSION', i, `extension ${dup} appears more than once (RFC 5280 §4.2)`);
    const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.extnID));
    if (unknown) return fail('UNKNOWN_CRITICAL_EXTENSION', i, `unknown critical extension ${unknown.extnID} (RFC 5280 §4.2)`);
    if (cert.version < 3 && cert.extensions.length > 0) return fail('PROFILE', i, 'a version 1 or 2 certificate with extensions (RFC 5280 §4.1.2.1)');
    // Signatures: each certificate by the next one's key. The root is trusted as it stands.
    if (i < last && !safeVerify(cert, path[i + 1]!)) return fail('BAD_SIGNATURE', i, `the signature does not verify with the key of certificate ${i + 1}`);
    // Browsers refuse weak keys anywhere in the path (CA/B BR §6.1.5) and weak hashes in the
    // signatures they check (§7.1.3.2): the root's signature on itself is never checked.
    if (cert.weakKey) return fail('WEAK_KEY', i, `${cert.weakKey}; at least 2048-bit RSA or P-256 is needed (CA/B BR §6.1.5)`);
    if (i < last && cert.weakSignature) return fail('WEAK_SIGNATURE', i, `${cert.weakSignature}, which browsers no longer accept (CA/B BR §7.1.3.2)`);
    // Validity of every certificate, the root included.
    if (at < cert.notBefore) return fail('NOT_YET_VALID', i, `not valid before ${cert.notBefore.toISOString()}`);
    if (at > cert.notAfter) return fail('EXPIRED', i, `expired ${cert.notAfter.toISOString()}`);
  }

  for (let i = 1; i <= last; i++) {
    const cert = path[i]!;
    // An issuer must be a CA: v3 with basicConstraints cA. A v1 root too is refused, as
    // `openssl verify -x509_strict` does (none is left in the public root programs).
    if (!cert.isCa) {
      const why = cert.version < 3 ? `a version ${cert.version} certificate cannot be a CA` : cert.basicConstraints ? 'basicConstraints says it is not a CA' : 'no basicConstraints: not a CA';
      return fail('NOT_A_CA', i, `${why} (RFC 5280 §4.2.1.9)`);
    }
    const ku = cert.keyUsage;
    if (ku && !ku.has(KU.keyCertSign)) return fail('KEY_USAGE', i, 'its keyUsage lacks keyCertSign, so it cannot sign certificates (RFC 5280 §4.2.1.3)');
    // pathLenConstraint: how many non-self-issued intermediates may follow it.
    const pathLen = cert.basicConstraints?.pathLenConstraint;
    if (pathLen !== undefined) {
      const below = path.slice(1, i).filter((c) => !c.selfIssued).length;
      if (below > pathLen) return fail('PATH_LENGTH', i, `pathLenConstraint ${pathLen} allows ${pathLen} intermediate(s) below it, the path has ${below} (RFC 5280 §4.2.1.9)`);
    }
    // Name constraints apply to every certificate below, except self-issued intermediates (§6.1.3 (b)).
    const nc = cert.nameConstraints;
    if (nc) {
      for (let j = i - 1; j >= 0; j--) {
        if (j > 0 && path[j]!.selfIssued) continue;
        let names: RawName[];
        try {
          names = constrainedNames(path[j]!, j === 0);
        } catch (err) {
          if (!(err instanceof NameSyntaxError)) throw err;
          return fail('NAME_CONSTRAINTS', j, `${err.message}: its names cannot be checked against the constraints of certificate ${i}`);
        }
        for (const name of names) {
          const why = violates(name, nc);
          if (why) return fail('NAME_CONSTRAINTS', j, `${why} of certificate ${i} (RFC 5280 §4.2.1.10)`);
        }
      }
    }
  }

  const policy = checkPolicies(path);
  if (policy) return fail('POLICY', policy[0], policy[1]);

  // A trust anchor checked on its own (a root's file against the store) is trusted as it stands;
  // every other path is judged as a TLS server's, whatever its leaf claims to be.
  if (last > 0) {
    const why = serverPurpose(path);
    if (why) return fail(why[0], why[1], why[2]);
  }

  if (last > 0) {
    const why = profile(path);
    if (why) return fail('PROFILE', why[0], why[1]);
  }
  return null;
}

/**
 * CRL distribution points, which OpenSSL decodes but keysmith does not otherwise read: they must at
 * least have their ASN.1 shape, or OpenSSL calls the certificate invalid.
 */
function checkShapes(cert: Cert): void {
  const crldp = cert.extension(OID.crlDistributionPoints);
  if (!crldp) return;
  // CRLDistributionPoints ::= SEQUENCE OF DistributionPoint { [0] name, [1] reasons, [2] cRLIssuer }, all optional
  for (const dp of sequence(crldp.value)) {
    if (dp.tag !== TAG_SEQUENCE || children(dp).some((f) => ![0xa0, 0x81, 0xa2].includes(f.tag))) throw new Error('DER: bad cRLDistributionPoints');
  }
}

/** Serverauth EKU (Netscape/Microsoft SGC also on intermediates, as OpenSSL and Chrome accept it). */
const SERVER_EKU = { leaf: [OID.serverAuth], ca: [OID.serverAuth, '2.16.840.1.113730.4.1', '1.3.6.1.4.1.311.10.3.3'] };
/** The Netscape certificate type bit for an SSL server. */
const NS_SSL_SERVER = 1;

/** The rules for a TLS server's chain, as OpenSSL's sslserver purpose and browsers apply them. */
function serverPurpose(path: Cert[]): [TrustRule, number, string] | null {
  const last = path.length - 1;
  // EKU on the leaf and on intermediates (not the root, as OpenSSL and browsers do).
  for (let i = 0; i < last; i++) {
    const eku = path[i]!.extKeyUsage;
    if (eku && !(i === 0 ? SERVER_EKU.leaf : SERVER_EKU.ca).some((u) => eku.includes(u))) return ['EXTENDED_KEY_USAGE', i, `extendedKeyUsage without serverAuth (${eku.join(', ')})`];
  }
  const ns = path[0]!.nsCertType;
  if (ns && !ns.has(NS_SSL_SERVER)) return ['EXTENDED_KEY_USAGE', 0, 'a Netscape certificate type without SSL server'];
  const leaf = path[0]!;
  const ku = leaf.keyUsage;
  if (ku && ![KU.digitalSignature, KU.keyEncipherment, KU.keyAgreement].some((b) => ku.has(b))) {
    return ['KEY_USAGE', 0, 'its keyUsage allows neither digitalSignature, keyEncipherment nor keyAgreement, as a TLS server needs'];
  }
  // Browsers match host names against the SAN only: CA/B Baseline Requirements §7.1.4.2.1, RFC 9525 §6.3
  // (RFC 6125 §6.4.4 allowed the CN; OpenSSL still falls back to it, keysmith does not).
  if (!leaf.subjectAltNames?.length) return ['NO_SAN', 0, 'no subjectAltName: browsers and keysmith match host names only against it (CA/B BR §7.1.4.2.1)'];
  return null;
}

/**
 * Certificate policies, RFC 5280 §6.1 with its default inputs (any policy acceptable, no explicit
 * policy required at the start): a path fails only when a CA requires an explicit policy
 * (policyConstraints) and no policy is valid all the way down to the leaf. The trust anchor's own
 * extensions are not processed (§6.1.1 (d)). Without policy mappings the valid policy tree reduces
 * to a set, which is what is kept here; a path that maps policies and requires an explicit policy
 * is refused rather than judged by a partial implementation. Returns why the path fails, or null.
 */
function checkPolicies(path: Cert[]): [number, string] | null {
  const n = path.length - 1; // the certificates below the trust anchor: path[n - 1] … path[0]
  // Policy extensions OpenSSL cannot use make it refuse the path (invalid policy extension).
  for (let i = 0; i < n; i++) {
    try {
      void [path[i]!.policies, path[i]!.policyConstraints, path[i]!.inhibitAnyPolicy];
    } catch (err) {
      return [i, `an invalid policy extension: ${(err as Error).message}`];
    }
  }
  if (n === 0 || !path.slice(0, n).some((c) => c.policyConstraints || c.inhibitAnyPolicy !== undefined)) return null;
  let explicit = n + 1;
  let inhibitAny = n + 1;
  let valid: Set<string> | 'any' | null = 'any';
  const mapped = path.slice(1, n).some((c) => c.extension(OID.policyMappings));
  for (let k = 1; k <= n; k++) {
    const cert = path[n - k]!;
    const leaf = k === n;
    const policies = cert.policies;
    if (valid !== null && policies) {
      const anyAllowed = policies.includes(OID.anyPolicy) && (inhibitAny > 0 || (!leaf && cert.selfIssued));
      const specific = policies.filter((p) => p !== OID.anyPolicy);
      const next: Set<string> | 'any' = valid === 'any' ? (anyAllowed ? 'any' : new Set(specific)) : new Set([...specific.filter((p) => (valid as Set<string>).has(p)), ...(anyAllowed ? valid : [])]);
      valid = next === 'any' || next.size > 0 ? next : null;
    } else valid = null;
    if (leaf) {
      if (explicit > 0) explicit--;
      if (cert.policyConstraints?.requireExplicitPolicy === 0) explicit = 0;
    } else {
      if (explicit === 0 && valid === null) break;
      if (!cert.selfIssued) {
        if (explicit > 0) explicit--;
        if (inhibitAny > 0) inhibitAny--;
      }
      const required = cert.policyConstraints?.requireExplicitPolicy;
      if (required !== undefined) explicit = Math.min(explicit, required);
      if (cert.inhibitAnyPolicy !== undefined) inhibitAny = Math.min(inhibitAny, cert.inhibitAnyPolicy);
    }
  }
  if (explicit > 0) return null;
  if (mapped) return [0, 'the path maps certificate policies and requires an explicit one: keysmith does not process policy mappings, so it cannot vouch for it'];
  if (valid === null) return [0, 'a CA requires an explicit certificate policy, and no policy is valid for the whole path (RFC 5280 §6.1.3 (d), §6.1.5 (g))'];
  return null;
}

/**
 * RFC 5280's MUSTs for conforming certificates, as `openssl verify -x509_strict` enforces them.
 * Returns [certificate index, why] or null.
 */
function profile(path: Cert[]): [number, string] | null {
  for (const [i, cert] of path.entries()) {
    const bc = cert.extension(OID.basicConstraints);
    const ku = cert.keyUsage;
    const sans = cert.subjectAltNames;
    const emptySubject = cert.emptySubject;
    if (cert.basicConstraints?.pathLenConstraint !== undefined && !ku?.has(KU.keyCertSign)) return [i, 'pathLenConstraint without keyCertSign (RFC 5280 §4.2.1.9)'];
    if (cert.isCa) {
      if (bc && !bc.critical) return [i, 'a CA whose basicConstraints is not critical (RFC 5280 §4.2.1.9)'];
      if (!ku) return [i, 'a CA without keyUsage (RFC 5280 §4.2.1.3)'];
    } else {
      if (cert.basicConstraints?.pathLenConstraint !== undefined) return [i, 'pathLenConstraint on a certificate that is not a CA (RFC 5280 §4.2.1.9)'];
      if (ku?.has(KU.keyCertSign)) return [i, 'keyCertSign on a certificate that is not a CA (RFC 5280 §4.2.1.3)'];
    }
    if (cert.emptyIssuer) return [i, 'an empty issuer name (RFC 5280 §4.1.2.4)'];
    if (emptySubject && (cert.isCa || ku?.has(KU.cRLSign) || !sans)) return [i, 'an empty subject without a subjectAltName (RFC 5280 §4.1.2.6)'];
    if (emptySubject && sans && !cert.extension(OID.subjectAltName)!.critical) return [i, 'an empty subject with a non-critical subjectAltName (RFC 5280 §4.2.1.6)'];
    if (sans && sans.length === 0) return [i, 'an empty subjectAltName (RFC 5280 §4.2.1.6)'];
    if (cert.version >= 3) {
      if (i < path.length - 1 && !cert.authorityKeyId) return [i, 'no authorityKeyIdentifier key id (RFC 5280 §4.2.1.1)'];
      if (cert.isCa && !cert.extension(OID.subjectKeyId)) return [i, 'a CA without subjectKeyIdentifier (RFC 5280 §4.2.1.2)'];
    }
    if (!cert.signatureAlgorithmsMatch) return [i, 'the signature algorithm differs inside and outside the signed part (RFC 5280 §4.1.1.2)'];
  }
  return null;
}

/**
 * Whether the leaf names `host`, by RFC 6125 / RFC 9525 as browsers apply them, through OpenSSL's
 * matcher: subjectAltName only (never the CN), a wildcard only as the whole left-most label and
 * for one label, never for an IP address, never directly under a public suffix (`*.co.uk`, CA/B BR
 * §3.2.2.6, by the Public Suffix List's ICANN section); IPs match iPAddress entries only.
 */
export async function matchesHost(leaf: Cert, host: string): Promise<boolean> {
  const name = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isIP(name)) return leaf.node.checkIP(name) !== undefined;
  const matched = leaf.node.checkHost(name, { subject: 'never', wildcards: true, partialWildcards: false, multiLabelWildcards: false });
  if (matched === undefined || !matched.startsWith('*.')) return matched !== undefined;
  const base = lower(matched.slice(2));
  const { getPublicSuffix } = await import('tldts');
  if (getPublicSuffix(base, { allowPrivateDomains: false }) !== base) return true;
  // The wildcard is not allowed; the host may still be named exactly.
  return leaf.node.checkHost(name, { subject: 'never', wildcards: false }) !== undefined;
}

export interface ServerVerdict {
  trusted: boolean;
  trustError: TrustError | null;
  /** null when no host name was given (a file). */
  hostnameMatch: boolean | null;
  path: Cert[];
}

/**
 * The verdict on a TLS server's chain (from a live server or a file): trust, and whether the leaf
 * names `host` when one is given.
 */
export async function verifyServer(certs: Cert[], store: TrustStore, options: { at: Date; host?: string | null }): Promise<ServerVerdict> {
  const { trusted, trustError, path } = validateChain(certs, store, { at: options.at });
  return { trusted, trustError, hostnameMatch: options.host ? await matchesHost(certs[0]!, options.host) : null, path };
}

/**
 * Reads the certificates of a PEM bundle (garbage between blocks ignored) or one DER certificate.
 * `cache` shares certificates met before (the same intermediate in many files is parsed once).
 */
export function parseCertificates(bytes: Uint8Array, cache?: Map<string, Cert>): Cert[] {
  const text = Buffer.from(bytes).toString('latin1');
  const bodies = pemCertificates(text);
  if (bodies.length === 0) return text.includes('-----BEGIN') ? [] : [new Cert(bytes)];
  return bodies.map((base64) => {
    let cert = cache?.get(base64);
    if (!cert) {
      cert = new Cert(Buffer.from(base64, 'base64'));
      cache?.set(base64, cert);
    }
    return cert;
  });
}
