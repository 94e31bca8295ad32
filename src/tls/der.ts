/**
 * A minimal DER reader: it finds the fields of certificates that OpenSSL has already parsed
 * (Node's X509Certificate refuses anything else first), and of the small extensions inside them.
 *
 * Why not asn1js/@peculiar/asn1-schema for the whole certificate: decoding one certificate costs
 * them 110–210 µs, which made `tls check` over 5,000 files take 4.9 s; this walk costs a few µs.
 * It is strict (definite lengths, single-byte tags, nothing past the end) and checked against
 * @peculiar/asn1-x509 on every certificate of fixtures/tls (test/unit/tls/der.test.ts).
 * Extension values are still decoded by @peculiar/asn1-x509.
 */

/** One DER element: its tag byte, and where it and its content lie in `bytes`. */
export interface Tlv {
  tag: number;
  /** The whole element (tag, length and content). */
  bytes: Uint8Array;
  /** The content alone. */
  content: Uint8Array;
}

export const TAG = { boolean: 0x01, integer: 0x02, octetString: 0x04, oid: 0x06, sequence: 0x30 } as const;

/** Reads the element at `offset`; throws on anything that is not well-formed DER. */
export function readTlv(bytes: Uint8Array, offset = 0): Tlv {
  if (offset + 2 > bytes.length) throw new Error('DER: truncated');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: multi-byte tags are not used here');
  let length = bytes[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || start + n > bytes.length) throw new Error('DER: bad length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[start + i]!;
    if (bytes[start] === 0 || length < 0x80) throw new Error('DER: length not minimally encoded');
    start += n;
  }
  const end = start + length;
  if (end > bytes.length) throw new Error('DER: truncated');
  return { tag, bytes: bytes.subarray(offset, end), content: bytes.subarray(start, end) };
}

/** Reads exactly one element filling `bytes`. */
export function readOne(bytes: Uint8Array): Tlv {
  const tlv = readTlv(bytes);
  if (tlv.bytes.length !== bytes.length) throw new Error('DER: trailing bytes');
  return tlv;
}

/** The elements of a SEQUENCE filling `bytes` exactly. */
export function sequence(bytes: Uint8Array): Tlv[] {
  const tlv = readOne(bytes);
  if (tlv.tag !== TAG.sequence) throw new Error('DER: not a SEQUENCE');
  return children(tlv);
}

/** The elements inside a constructed element. */
export function children(tlv: Tlv): Tlv[] {
  if (!(tlv.tag & 0x20)) throw new Error('DER: not a constructed element');
  const out: Tlv[] = [];
  for (let at = 0; at < tlv.content.length; ) {
    const child = readTlv(tlv.content, at);
    out.push(child);
    at += child.bytes.length;
  }
  return out;
}

/** An OBJECT IDENTIFIER's content in dotted form. */
export function oid(content: Uint8Array): string {
  if (content.length === 0) throw new Error('DER: empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (const [i, byte] of content.entries()) {
    if (byte === 0x80 && (i === 0 || !(content[i - 1]! & 0x80))) throw new Error('DER: OID arc not minimally encoded');
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) throw new Error('DER: OID arc too large');
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  if (content[content.length - 1]! & 0x80) throw new Error('DER: truncated OID');
  const first = arcs.shift()!;
  const top = first < 40 ? 0 : first < 80 ? 1 : 2;
  return [top, first - top * 40, ...arcs].join('.');
}

export interface CertificateFields {
  version: number;
  /** The signature algorithm inside and outside the signed part (RFC 5280 §4.1.1.2 wants them equal). */
  innerSignature: Uint8Array;
  outerSignature: Uint8Array;
  issuer: Tlv;
  subject: Tlv;
  validity: Tlv;
  /** SubjectPublicKeyInfo. */
  spki: Tlv;
  extensions: Array<{ extnID: string; critical: boolean; value: Uint8Array }>;
}

/** Locates the fields of an X.509 certificate (RFC 5280 §4.1). */
export function certificateFields(der: Uint8Array): CertificateFields {
  const [tbs, outer] = children(readOne(der));
  if (!tbs || !outer || tbs.tag !== TAG.sequence) throw new Error('DER: not a certificate');
  const fields = children(tbs);
  let i = 0;
  let version = 1;
  if (fields[0]?.tag === 0xa0) {
    const v = readOne(fields[0].content);
    if (v.tag !== TAG.integer || v.content.length !== 1) throw new Error('DER: bad version');
    version = v.content[0]! + 1;
    i = 1;
  }
  const [, innerSignature, issuer, validity, subject, spki] = fields.slice(i, i + 6);
  if (!spki) throw new Error('DER: truncated certificate');
  const extensions: CertificateFields['extensions'] = [];
  const wrapped = fields.slice(i + 6).find((f) => f.tag === 0xa3);
  if (wrapped) {
    for (const ext of children(readOne(wrapped.content))) {
      const parts = children(ext);
      const id = parts[0];
      const critical = parts.length === 3 && parts[1]!.tag === TAG.boolean && parts[1]!.content[0] !== 0;
      const value = parts[parts.length - 1];
      if (!id || id.tag !== TAG.oid || !value || value.tag !== TAG.octetString || parts.length > 3) throw new Error('DER: bad extension');
      extensions.push({ extnID: oid(id.content), critical, value: value.content });
    }
  }
  return { version, innerSignature: innerSignature!.bytes, outerSignature: outer.bytes, issuer: issuer!, subject: subject!, validity: validity!, spki, extensions };
}

// The small extension values every validation reads, decoded here rather than by @peculiar/asn1-x509
// for the same reason (they are checked against it in test/unit/tls/der.test.ts); the rarer ones
// (names, name constraints' directory names) stay with the library.

/** basicConstraints (RFC 5280 §4.2.1.9): SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }. */
export function basicConstraints(value: Uint8Array): { cA: boolean; pathLenConstraint?: number } {
  const parts = sequence(value);
  let cA = false;
  let at = 0;
  if (parts[at]?.tag === TAG.boolean) {
    if (parts[at]!.content.length !== 1) throw new Error('DER: bad BOOLEAN');
    cA = parts[at++]!.content[0] !== 0;
  }
  const len = parts[at];
  if (len && len.tag !== TAG.integer) throw new Error('DER: bad pathLenConstraint');
  if (parts.length > at + (len ? 1 : 0)) throw new Error('DER: bad basicConstraints');
  return len ? { cA, pathLenConstraint: smallInteger(len) } : { cA };
}

/** A BIT STRING's set bits, numbered as DER does (bit 0 is the first byte's most significant bit). */
export function bitString(value: Uint8Array): Set<number> {
  const tlv = readOne(value);
  const unused = tlv.content[0] ?? 8;
  if (tlv.tag !== 0x03 || unused > 7 || (unused > 0 && tlv.content.length < 2)) throw new Error('DER: bad BIT STRING');
  // DER: the unused bits of the last byte are zero (X.690 §11.2.1).
  if (tlv.content[tlv.content.length - 1]! & ((1 << unused) - 1)) throw new Error('DER: BIT STRING padding bits are not zero');
  const bits = new Set<number>();
  for (let i = 1; i < tlv.content.length; i++) for (let b = 0; b < 8; b++) if (tlv.content[i]! & (0x80 >> b)) bits.add((i - 1) * 8 + b);
  return bits;
}

/** A SEQUENCE OF OBJECT IDENTIFIER (extKeyUsage). */
export function oidSequence(value: Uint8Array): string[] {
  return sequence(value).map((el) => {
    if (el.tag !== TAG.oid) throw new Error('DER: not an OID');
    return oid(el.content);
  });
}

/** An OCTET STRING's content (subjectKeyIdentifier). */
export function octetString(value: Uint8Array): Uint8Array {
  const tlv = readOne(value);
  if (tlv.tag !== TAG.octetString) throw new Error('DER: not an OCTET STRING');
  return tlv.content;
}

/** authorityKeyIdentifier's keyIdentifier ([0] IMPLICIT OCTET STRING), when present. */
export function authorityKeyId(value: Uint8Array): Uint8Array | undefined {
  return sequence(value).find((el) => el.tag === 0x80)?.content;
}

/**
 * A validity time: UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`,
 * the only forms RFC 5280 §4.1.2.5 allows.
 */
export function time(tlv: Tlv): Date {
  const text = Buffer.from(tlv.content).toString('latin1');
  const m = tlv.tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : tlv.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (!m) throw new Error(`DER: a time RFC 5280 does not allow (${JSON.stringify(text)})`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const fullYear = tlv.tag === 0x17 ? (year >= 50 ? 1900 + year : 2000 + year) : year;
  const date = new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw new Error(`DER: no such time ${JSON.stringify(text)}`);
  return date;
}

/** Validity ::= SEQUENCE { notBefore Time, notAfter Time }. */
export function validity(tlv: Tlv): { notBefore: Date; notAfter: Date } {
  const parts = children(tlv);
  if (parts.length !== 2) throw new Error('DER: bad validity');
  return { notBefore: time(parts[0]!), notAfter: time(parts[1]!) };
}

/** A non-negative INTEGER's content, saturating at Number.MAX_SAFE_INTEGER (a constraint that large is no constraint). */
function smallInteger(tlv: Tlv): number {
  if (tlv.content.length < 1 || tlv.content[0]! & 0x80) throw new Error('DER: bad INTEGER');
  return Math.min(tlv.content.reduce((n, b) => n * 256 + b, 0), Number.MAX_SAFE_INTEGER);
}

/** certificatePolicies (RFC 5280 §4.2.1.4): the policy identifiers, qualifiers left aside. */
export function certificatePolicies(value: Uint8Array): string[] {
  const ids = sequence(value).map((info) => {
    const [id, qualifiers, extra] = info.tag === TAG.sequence ? children(info) : [];
    if (id?.tag !== TAG.oid || extra || (qualifiers && qualifiers.tag !== TAG.sequence)) throw new Error('DER: bad PolicyInformation');
    for (const q of qualifiers ? children(qualifiers) : []) policyQualifier(q);
    return oid(id.content);
  });
  // RFC 5280 §4.2.1.4: a policy identifier MUST NOT appear more than once.
  if (new Set(ids).size !== ids.length) throw new Error('certificatePolicies names a policy twice');
  return ids;
}

/** DisplayText ::= CHOICE { IA5String, VisibleString, BMPString, UTF8String } */
const DISPLAY_TEXT = new Set([0x16, 0x1a, 0x1e, 0x0c]);

/** A PolicyQualifierInfo: a CPS pointer is an IA5String, a user notice { noticeRef, explicitText } (RFC 5280 §4.2.1.4). */
function policyQualifier(q: Tlv): void {
  const [id, value, extra] = q.tag === TAG.sequence ? children(q) : [];
  if (id?.tag !== TAG.oid || !value || extra) throw new Error('DER: bad PolicyQualifierInfo');
  const kind = oid(id.content);
  if (kind === '1.3.6.1.5.5.7.2.1' && value.tag !== 0x16) throw new Error('a CPS qualifier that is not an IA5String');
  if (kind !== '1.3.6.1.5.5.7.2.2') return;
  if (value.tag !== TAG.sequence) throw new Error('a user notice that is not a SEQUENCE');
  const parts = children(value);
  let at = 0;
  if (parts[at]?.tag === TAG.sequence) {
    const [organization, numbers, more] = children(parts[at++]!);
    if (!organization || !DISPLAY_TEXT.has(organization.tag) || numbers?.tag !== TAG.sequence || more) throw new Error('a bad noticeRef');
    if (children(numbers).some((n) => n.tag !== TAG.integer)) throw new Error('a bad noticeRef');
  }
  if (parts[at] && DISPLAY_TEXT.has(parts[at]!.tag)) at++;
  if (at !== parts.length) throw new Error('a bad user notice');
}

/** policyMappings (RFC 5280 §4.2.1.5): pairs of policies, never anyPolicy on either side. */
export function policyMappings(value: Uint8Array): Array<[string, string]> {
  return sequence(value).map((pair) => {
    const [from, to, extra] = pair.tag === TAG.sequence ? children(pair) : [];
    if (from?.tag !== TAG.oid || to?.tag !== TAG.oid || extra) throw new Error('DER: bad policyMappings');
    const mapping: [string, string] = [oid(from.content), oid(to.content)];
    if (mapping.includes('2.5.29.32.0')) throw new Error('a policy mapped to or from anyPolicy');
    return mapping;
  });
}

/** policyConstraints (RFC 5280 §4.2.1.11): SEQUENCE { [0] requireExplicitPolicy, [1] inhibitPolicyMapping }, both optional. */
export function policyConstraints(value: Uint8Array): { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } {
  const out: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } = {};
  const fields = sequence(value);
  // RFC 5280 §4.2.1.11: conforming CAs MUST NOT issue an empty sequence.
  if (fields.length === 0) throw new Error('policyConstraints is empty');
  for (const el of fields) {
    if (el.tag === 0x80) out.requireExplicitPolicy = smallInteger(el);
    else if (el.tag === 0x81) out.inhibitPolicyMapping = smallInteger(el);
    else throw new Error('DER: bad policyConstraints');
  }
  return out;
}

/** inhibitAnyPolicy (RFC 5280 §4.2.1.14): SkipCerts ::= INTEGER. */
export function inhibitAnyPolicy(value: Uint8Array): number {
  const tlv = readOne(value);
  if (tlv.tag !== TAG.integer) throw new Error('DER: bad inhibitAnyPolicy');
  return smallInteger(tlv);
}

/** Universal string (and BIT/OCTET STRING) tags with the constructed bit: BER allows them, DER does not (X.690 §10.2). */
const CONSTRUCTED_STRINGS = new Set([0x23, 0x24, 0x2c, 0x32, 0x33, 0x34, 0x36, 0x3a, 0x3c, 0x3e]);

/** String types OpenSSL compares in canonical form (X509_NAME canon): case-folded, whitespace collapsed. */
const CANONICAL_STRINGS = new Set([0x0c, 0x13, 0x14, 0x16, 0x1a, 0x1c, 0x1e]);

/** The text of a directory string, or null for a type that is not text. */
export function stringValue(tag: number, bytes: Uint8Array): string | null {
  const b = Buffer.from(bytes);
  switch (tag) {
    case 0x0c: // UTF8String
      return b.toString('utf8');
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x14: // T61String (as OpenSSL: Latin-1)
    case 0x16: // IA5String
    case 0x1a: // VisibleString
      return b.toString('latin1');
    case 0x1e: // BMPString: UCS-2, big-endian
      return b.length % 2 ? null : Buffer.from(b).swap16().toString('utf16le');
    case 0x1c: // UniversalString: UCS-4, big-endian
      if (b.length % 4) return null;
      try {
        return String.fromCodePoint(...Array.from({ length: b.length / 4 }, (_, i) => b.readUInt32BE(i * 4)));
      } catch {
        return null;
      }
    default:
      return null;
  }
}

export interface Attribute {
  type: string;
  /** The value's universal tag (0x0c UTF8String, 0x13 PrintableString, 0x16 IA5String, …). */
  tag: number;
  value: Uint8Array;
}

/** A Name's RDNs, each a set of attributes; every value must be primitive (X.690 §10.2: DER has no constructed strings). */
export function nameAttributes(name: Tlv): Attribute[][] {
  if (name.tag !== TAG.sequence) throw new Error('DER: a Name is a SEQUENCE');
  return children(name).map((rdn) => {
    if (rdn.tag !== 0x31) throw new Error('DER: an RDN is a SET');
    return children(rdn).map((atv) => {
      const [type, value, extra] = atv.tag === TAG.sequence ? children(atv) : [];
      if (type?.tag !== TAG.oid || !value || extra) throw new Error('DER: bad attribute in a Name');
      if (CONSTRUCTED_STRINGS.has(value.tag)) throw new Error('DER: a constructed string in a Name');
      return { type: oid(type.content), tag: value.tag, value: value.content };
    });
  });
}

/** OpenSSL's canonical text: leading and trailing whitespace dropped, inner runs made one space, ASCII lower-cased. */
const canonicalText = (s: string) => s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '').replace(/[ \t\n\v\f\r]+/g, ' ').replace(/[A-Z]/g, (c) => c.toLowerCase());

/** One RDN in canonical form: equal strings for names X.509 treats as equal, as OpenSSL's X509_NAME_cmp does. */
export function canonicalRdn(rdn: Attribute[]): string {
  return rdn
    .map((a) => {
      const text = CANONICAL_STRINGS.has(a.tag) ? stringValue(a.tag, a.value) : null;
      return `${a.type}=${text === null ? `#${a.tag.toString(16)}:${Buffer.from(a.value).toString('hex')}` : JSON.stringify(canonicalText(text))}`;
    })
    .sort() // a multi-valued RDN is a SET: its order carries no meaning
    .join('+');
}

/** A Name's RDNs in canonical form; empty RDNs are dropped, as OpenSSL's canonical encoding drops them. */
export function canonicalRdns(name: Tlv): string[] {
  return nameAttributes(name)
    .filter((rdn) => rdn.length > 0)
    .map(canonicalRdn);
}

/** A whole Name in canonical form, for matching issuers to subjects. */
export function canonicalName(name: Tlv): string {
  return canonicalRdns(name).join(',');
}

/** Throws unless the element, and every element inside a constructed one, is well-formed DER. */
export function wellFormed(tlv: Tlv, depth = 0): void {
  if (depth > 32) throw new Error('DER: nested too deeply');
  if (tlv.tag & 0x20) for (const child of children(tlv)) wellFormed(child, depth + 1);
}

const KEY_TYPES: Record<string, KeyInfo['type']> = {
  '1.2.840.113549.1.1.1': 'rsa',
  '2.5.8.1.1': 'rsa', // X.500's id-ea-rsa, which OpenSSL also reads as RSA
  '1.2.840.113549.1.1.10': 'rsa-pss',
  '1.2.840.10045.2.1': 'ec',
  '1.2.840.10040.4.1': 'dsa',
  '1.3.14.3.2.12': 'dsa', // OIW's DSA
  '1.3.101.112': 'ed25519',
  '1.3.101.113': 'ed448',
};
const CURVES: Record<string, string> = { '1.2.840.10045.3.1.7': 'prime256v1', '1.3.132.0.34': 'secp384r1', '1.3.132.0.35': 'secp521r1', '1.3.132.0.10': 'secp256k1' };

export interface KeyInfo {
  type: 'rsa' | 'rsa-pss' | 'ec' | 'dsa' | 'ed25519' | 'ed448' | 'other';
  /** RSA modulus or DSA prime size. */
  bits?: number;
  /** An EC key's named curve (OpenSSL's name, else its OID); undefined with explicit parameters. */
  curve?: string;
}

/** The bit length of a positive INTEGER's content. */
function integerBits(content: Uint8Array): number {
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  return (content.length - i) * 8 - Math.clz32(content[i]!) + 24;
}

/** What kind of key a SubjectPublicKeyInfo holds, and how strong it is (checked against Node's reading in der.test.ts). */
export function keyInfo(spki: Tlv): KeyInfo {
  const [algorithm, key] = children(spki);
  const [id, params] = algorithm?.tag === TAG.sequence ? children(algorithm) : [];
  if (id?.tag !== TAG.oid || key?.tag !== 0x03) throw new Error('DER: bad SubjectPublicKeyInfo');
  const type = KEY_TYPES[oid(id.content)] ?? 'other';
  if (type === 'rsa' || type === 'rsa-pss') {
    const modulus = sequence(key.content.subarray(1))[0];
    if (modulus?.tag !== TAG.integer) throw new Error('DER: bad RSA key');
    return { type, bits: integerBits(modulus.content) };
  }
  if (type === 'ec') return params?.tag === TAG.oid ? { type, curve: CURVES[oid(params.content)] ?? oid(params.content) } : { type };
  if (type === 'dsa') {
    const p = params?.tag === TAG.sequence ? children(params)[0] : undefined;
    return p?.tag === TAG.integer ? { type, bits: integerBits(p.content) } : { type };
  }
  return { type };
}
