/**
 * Name constraints (RFC 5280 §4.2.1.10, §6.1.3 (b)–(c)), matched as OpenSSL's nc_match does for
 * each name type: DNS, email, URI, IP and directory names, permitted and excluded. Names are kept as
 * the exact bytes the certificate holds; directory names are compared in canonical form.
 */
import { canonicalRdns, children, readOne, sequence, stringValue, TAG, type Attribute, type Tlv } from './der.js';

const OID = { emailAddress: '1.2.840.113549.1.9.1', commonName: '2.5.4.3' } as const;

/** A general name as it stands in DER: its CHOICE tag and its content bytes. */
export interface RawName {
  tag: number;
  bytes: Uint8Array;
}
export const NAME = { email: 1, dns: 2, directory: 4, uri: 6, ip: 7 } as const;

/** Reads a GeneralNames (a SAN, or a subtree list), keeping each name's exact bytes. */
export function generalNames(der: Uint8Array): RawName[] {
  return sequence(der).map(rawName);
}

export function rawName(el: Tlv): RawName {
  if ((el.tag & 0xc0) !== 0x80) throw new Error('a general name must be context-tagged');
  const tag = el.tag & 0x1f;
  // otherName, x400Address, directoryName and ediPartyName are constructed; the rest are strings
  // or bytes, which DER encodes primitive (X.690 §10.2): a constructed dNSName is not DER.
  if (Boolean(el.tag & 0x20) !== [0, 3, 4, 5].includes(tag)) throw new Error(`DER: general name [${tag}] wrongly ${el.tag & 0x20 ? 'constructed' : 'primitive'}`);
  // directoryName is [4] EXPLICIT Name: keep the inner Name's DER.
  if (tag === NAME.directory) return { tag, bytes: readOne(el.content).bytes };
  return { tag, bytes: el.content };
}

export interface Constraints {
  permitted: RawName[];
  excluded: RawName[];
}

export function parseNameConstraints(e: { value: Uint8Array }): Constraints {
  const out: Constraints = { permitted: [], excluded: [] };
  for (const part of sequence(e.value)) {
    const list = part.tag === 0xa0 ? out.permitted : part.tag === 0xa1 ? out.excluded : null;
    if (!list) throw new Error('nameConstraints: unexpected field');
    for (const subtree of children(part)) {
      if (subtree.tag !== TAG.sequence) throw new Error('nameConstraints: a subtree is a SEQUENCE');
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
  const [n, b] = [name, base].map((der) => canonicalRdns(readOne(der)));
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
/** What name constraints read of a certificate (a Cert has it): a structural type, so cert.ts and this file do not import each other. */
export interface NamedCertificate {
  emptySubject: boolean;
  subjectDer: Uint8Array;
  subjectAltNames: RawName[] | null;
  subjectRdns: Attribute[][];
}

export function constrainedNames(cert: NamedCertificate, leaf: boolean): RawName[] {
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
      let text = a.type === OID.commonName ? stringValue(a.tag, a.value) : null;
      if (text === null) continue;
      // OpenSSL's cn2dnsid: one trailing NUL is dropped; a NUL inside is unsupported syntax.
      if (text.endsWith('\0')) text = text.slice(0, -1);
      if (text.includes('\0')) throw new NameSyntaxError('a NUL inside a common name');
      if (/^[A-Za-z0-9*_-]+(\.[A-Za-z0-9*_-]+)+\.?$/.test(text)) names.push({ tag: NAME.dns, bytes: Buffer.from(text, 'latin1') });
    }
  }
  return names;
}

const TYPE_NAMES: Record<number, string> = { 1: 'email', 2: 'DNS', 4: 'directory name', 6: 'URI', 7: 'IP' };
function show(name: RawName): string {
  if (name.tag === NAME.ip) return `IP ${name.bytes.length === 4 ? [...name.bytes].join('.') : Buffer.from(name.bytes).toString('hex')}`;
  if (name.tag === NAME.directory) return `directory name ${canonicalRdns(readOne(name.bytes)).join(', ')}`;
  return `${TYPE_NAMES[name.tag] ?? `name type ${name.tag}`} ${JSON.stringify(ascii(name.bytes))}`;
}

/** A name the constraints cannot be checked against: the path is refused, as OpenSSL refuses it. */
export class NameSyntaxError extends Error {}

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
export function violates(name: RawName, c: Constraints): string | null {
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
