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
  for (const byte of content) {
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
  const [, innerSignature, issuer, validity, subject] = fields.slice(i, i + 5);
  if (!subject) throw new Error('DER: truncated certificate');
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
  return { version, innerSignature: innerSignature!.bytes, outerSignature: outer.bytes, issuer: issuer!, subject, validity: validity!, extensions };
}

// The small extension values every validation reads, decoded here rather than by @peculiar/asn1-x509
// for the same reason (they are checked against it in test/unit/tls/der.test.ts); the rarer ones
// (names, name constraints' directory names) stay with the library.

/** basicConstraints (RFC 5280 §4.2.1.9): SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }. */
export function basicConstraints(value: Uint8Array): { cA: boolean; pathLenConstraint?: number } {
  const parts = children(readOne(value));
  let cA = false;
  let at = 0;
  if (parts[at]?.tag === TAG.boolean) {
    if (parts[at]!.content.length !== 1) throw new Error('DER: bad BOOLEAN');
    cA = parts[at++]!.content[0] !== 0;
  }
  const len = parts[at];
  if (len && (len.tag !== TAG.integer || len.content.length < 1 || len.content.length > 4 || len.content[0]! & 0x80)) throw new Error('DER: bad pathLenConstraint');
  if (parts.length > at + (len ? 1 : 0)) throw new Error('DER: bad basicConstraints');
  return len ? { cA, pathLenConstraint: len.content.reduce((n, b) => n * 256 + b, 0) } : { cA };
}

/** A BIT STRING's set bits, numbered as DER does (bit 0 is the first byte's most significant bit). */
export function bitString(value: Uint8Array): Set<number> {
  const tlv = readOne(value);
  if (tlv.tag !== 0x03 || tlv.content.length < 1 || tlv.content[0]! > 7) throw new Error('DER: bad BIT STRING');
  const bits = new Set<number>();
  for (let i = 1; i < tlv.content.length; i++) for (let b = 0; b < 8; b++) if (tlv.content[i]! & (0x80 >> b)) bits.add((i - 1) * 8 + b);
  return bits;
}

/** A SEQUENCE OF OBJECT IDENTIFIER (extKeyUsage). */
export function oidSequence(value: Uint8Array): string[] {
  return children(readOne(value)).map((el) => {
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
  return children(readOne(value)).find((el) => el.tag === 0x80)?.content;
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

/** A small non-negative INTEGER's content. */
function smallInteger(tlv: Tlv): number {
  if (tlv.content.length < 1 || tlv.content.length > 4 || tlv.content[0]! & 0x80) throw new Error('DER: bad INTEGER');
  return tlv.content.reduce((n, b) => n * 256 + b, 0);
}

/** certificatePolicies (RFC 5280 §4.2.1.4): the policy identifiers, qualifiers left aside. */
export function certificatePolicies(value: Uint8Array): string[] {
  return children(readOne(value)).map((info) => {
    const id = children(info)[0];
    if (id?.tag !== TAG.oid) throw new Error('DER: bad PolicyInformation');
    return oid(id.content);
  });
}

/** policyConstraints (RFC 5280 §4.2.1.11): SEQUENCE { [0] requireExplicitPolicy, [1] inhibitPolicyMapping }, both optional. */
export function policyConstraints(value: Uint8Array): { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } {
  const out: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } = {};
  for (const el of children(readOne(value))) {
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
