import { randomBytes } from 'node:crypto';
import { invalidOption, UsageError } from '../errors.js';
import { fingerprintMd5, fingerprintSha256, readKeyAt } from './keys.js';
import { isKeyTypeName, keyTypeName, parseKeyBlob, type Certificate, type PublicKey } from './public-key.js';
import { sshSign, type RsaSignature, type SigningKey } from './sign.js';
import { Reader, Writer } from './wire.js';

/**
 * OpenSSH certificates (PROTOCOL.certkeys) as OpenSSH 9.2's ssh-keygen makes and shows them:
 * signing (do_ca_sign, sshkey_certify), the -V validity grammar (parse_cert_times), the
 * source-address check (addr_match_cidr_list) and the -L text (print_cert). Parsing lives in
 * public-key.ts, as a certificate is a key blob.
 */

export type { Certificate };

export type CertificateType = 'user' | 'host';

/** A critical option or an extension: a flag (no value) or name=value. */
export interface CertificateOption {
  name: string;
  value?: string;
}

/** valid_before of a certificate that never expires (and valid_after 0: valid since always). */
export const FOREVER = 0xffff_ffff_ffff_ffffn;
const U64_MAX = FOREVER;
/** SSHKEY_CERT_MAX_PRINCIPALS */
export const MAX_PRINCIPALS = 256;

/** The extensions ssh-keygen gives a user certificate unless told otherwise (CERTOPT_DEFAULT). */
export const DEFAULT_USER_EXTENSIONS: readonly string[] = ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'];

/**
 * The certificate type name of a plain key type.
 * @example certificateTypeName('ssh-ed25519') // 'ssh-ed25519-cert-v01@openssh.com'
 */
export function certificateTypeName(algorithm: string): string {
  const name = algorithm.endsWith('@openssh.com') ? algorithm.replace(/@openssh\.com$/, '-cert-v01@openssh.com') : `${algorithm}-cert-v01@openssh.com`;
  if (!isKeyTypeName(name)) throw new UsageError(`a ${algorithm} key cannot be certified`, undefined, 'ERR_SSH_KEY_TYPE');
  return name;
}

const bytes = (s: string) => Buffer.from(s, 'utf8');

/**
 * Critical options or extensions as a certificate carries them (prepare_options_buf after
 * finalise_cert_exts): sorted by name (strcmp, on the bytes), each `string name, string data`
 * where a flag's data is empty and a value is a string inside the data string. A name given
 * twice is refused (ssh-keygen would write both; sshd then refuses the certificate).
 * @example encodeCertificateOptions([{ name: 'permit-pty' }, { name: 'force-command', value: 'uptime' }])
 */
export function encodeCertificateOptions(options: readonly CertificateOption[]): Buffer {
  const sorted = [...options].sort((a, b) => Buffer.compare(bytes(a.name), bytes(b.name)));
  const w = new Writer();
  sorted.forEach((o, i) => {
    if (o.name === '' || o.name.includes('\0')) throw invalidOption('options', `a bad option name ${JSON.stringify(o.name)}`, {}, 'ERR_SSH_BAD_CERT_OPTION');
    if (i > 0 && sorted[i - 1]!.name === o.name) throw invalidOption('options', `${o.name} is given twice`, {}, 'ERR_SSH_BAD_CERT_OPTION');
    if (o.value?.includes('\0')) throw invalidOption('options', `${o.name}: a value cannot hold a NUL`, {}, 'ERR_SSH_BAD_CERT_OPTION');
    w.string(o.name).string(o.value === undefined ? Buffer.alloc(0) : new Writer().string(o.value).bytes());
  });
  return w.bytes();
}

export interface SignCertificateOptions {
  type: CertificateType;
  /** Logged by sshd on every login with the certificate. */
  keyId: string;
  /** User names (user certificates) or host names (host certificates). Empty: valid for any. */
  principals: readonly string[];
  /** Seconds since the epoch; 0 is "always", FOREVER "forever". */
  validAfter: bigint;
  validBefore: bigint;
  serial: bigint;
  /** force-command, source-address, verify-required, … (user certificates only). */
  criticalOptions?: readonly CertificateOption[];
  /** permit-pty, … (user certificates only); none unless given: see DEFAULT_USER_EXTENSIONS. */
  extensions?: readonly CertificateOption[];
  /** 32 random bytes unless given. */
  nonce?: Buffer;
  /** How an RSA CA signs: rsa-sha2-512 unless told (as ssh-keygen -s). */
  rsaSignature?: RsaSignature;
}

/** Smallest RSA key keysmith certifies (OpenSSH itself takes 1024). */
const MIN_RSA_BITS = 2048;

/**
 * Certifies `subject` (a plain public key) with the CA key, as ssh-keygen -s does: a fresh nonce,
 * the key's public fields, the certificate's fields, the CA's public key and its signature over
 * all of that. The result is read back as OpenSSH reads certificates (signature verified) and
 * returned as a public key whose `certificate` is set; publicKeyLine() gives its line.
 * @example
 * const cert = signCertificate(parsePublicKeyLine(pubLine, 'work.pub'), await signingKey(caPem, 'ssh-ca/users'),
 *   { type: 'user', keyId: 'alice', principals: ['alice'], validAfter: 0n, validBefore: FOREVER, serial: 1n,
 *     extensions: DEFAULT_USER_EXTENSIONS.map((name) => ({ name })) });
 */
export function signCertificate(subject: PublicKey, ca: SigningKey, options: SignCertificateOptions): PublicKey {
  if (subject.certificate) throw new UsageError('a certificate cannot be certified again: sign the plain public key', undefined, 'ERR_SSH_KEY_TYPE');
  if (subject.algorithm === 'ssh-dss') throw new UsageError('DSA keys are not certified (OpenSSH disables them): use an ed25519, ecdsa or rsa key', undefined, 'ERR_SSH_KEY_TYPE');
  if (subject.algorithm === 'ssh-rsa' && subject.bits < MIN_RSA_BITS) throw new UsageError(`an RSA key of ${subject.bits} bits is too small to certify (at least ${MIN_RSA_BITS})`, undefined, 'ERR_SSH_KEY_TYPE');
  const o = options;
  if (o.serial < 0n || o.serial > U64_MAX) throw invalidOption('serial', 'a whole number from 0 to 18446744073709551615', {}, 'ERR_SSH_BAD_SERIAL');
  for (const t of [o.validAfter, o.validBefore]) if (t < 0n || t > U64_MAX) throw invalidOption('validity', 'times are 0 to 2^64-1 seconds', {}, 'ERR_SSH_BAD_VALIDITY');
  if (o.validBefore <= o.validAfter) throw invalidOption('validity', 'the certificate would end before it starts (empty validity interval)', {}, 'ERR_SSH_BAD_VALIDITY');
  if (o.principals.length > MAX_PRINCIPALS) throw invalidOption('principals', `at most ${MAX_PRINCIPALS}`, { max: MAX_PRINCIPALS }, 'ERR_SSH_BAD_PRINCIPAL');
  for (const p of o.principals) if (p === '' || p.includes('\0')) throw invalidOption('principals', p === '' ? 'an empty principal name' : 'a principal cannot hold a NUL', {}, 'ERR_SSH_BAD_PRINCIPAL');
  if (o.keyId.includes('\0')) throw invalidOption('keyId', 'a key id cannot hold a NUL', {}, 'ERR_SSH_BAD_KEY_ID');
  if (o.type === 'host' && (o.criticalOptions?.length || o.extensions?.length)) {
    throw invalidOption('options', 'host certificates carry no critical options or extensions', {}, 'ERR_SSH_BAD_CERT_OPTION');
  }
  const sourceAddress = o.criticalOptions?.find((c) => c.name === 'source-address')?.value;
  if (sourceAddress !== undefined) checkSourceAddress(sourceAddress);
  const nonce = o.nonce ?? randomBytes(32);
  const plain = new Reader(subject.blob, 'the key');
  plain.cstring();
  const principals = new Writer();
  for (const p of o.principals) principals.string(p);
  const body = new Writer()
    .string(certificateTypeName(subject.algorithm))
    .string(nonce)
    .raw(plain.rest())
    .uint64(o.serial)
    .uint32(o.type === 'user' ? 1 : 2)
    .string(o.keyId)
    .string(principals.bytes())
    .uint64(o.validAfter)
    .uint64(o.validBefore)
    .string(encodeCertificateOptions(o.criticalOptions ?? []))
    .string(encodeCertificateOptions(o.extensions ?? []))
    .string('')
    .string(ca.publicKey.blob)
    .bytes();
  const blob = Buffer.concat([body, new Writer().string(sshSign(ca, body, o.rsaSignature)).bytes()]);
  // Read back as OpenSSH would: a certificate that does not parse or verify is never written.
  const { algorithm, blob: fingerprintBlob, bits, certificate } = parseKeyBlob(blob);
  return { algorithm, blob: fingerprintBlob, bits, comment: subject.comment, certificate: certificate! };
}

// --- validity: ssh-keygen -V (parse_cert_times, OpenSSH 9.2) ---

const INT_MAX = 2147483647;
const isCSpace = (c: string | undefined) => c === ' ' || (c !== undefined && c >= '\t' && c <= '\r');

/**
 * convtime in misc.c: a sequence of NUMBER[smhdwSMHDW], each number as strtol reads it (leading
 * blanks and a + allowed), the total at most INT_MAX seconds. Undefined when invalid.
 * @example convtime('1h30m') // 5400
 */
export function convtime(s: string): number | undefined {
  if (s === '') return undefined;
  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  let p = 0;
  while (p < s.length) {
    let q = p;
    while (isCSpace(s[q])) q++;
    let negative = false;
    if (s[q] === '+' || s[q] === '-') negative = s[q++] === '-';
    const start = q;
    while (s[q]! >= '0' && s[q]! <= '9') q++;
    if (q === start) return undefined;
    const digits = s.slice(start, q).replace(/^0+(?=.)/, '');
    // Beyond INT_MAX either way (strtol saturates; the checks below refuse it).
    const secs = digits.length > 10 ? Infinity : Number(digits);
    if (negative && secs !== 0) return undefined;
    const unit = s[q] === undefined ? '' : s[q]!.toLowerCase();
    const multiplier = units[unit];
    if (multiplier === undefined) return undefined;
    if (unit !== '') q++;
    if (secs > Math.trunc(INT_MAX / multiplier)) return undefined;
    if (total > INT_MAX - secs * multiplier) return undefined;
    total += secs * multiplier;
    p = q;
  }
  return total;
}

/** glibc strptime's get_number: blanks, then at least one digit, more while the value may still fit. */
function getNumber(s: string, at: number, from: number, to: number, n: number): { value: number; at: number } | undefined {
  while (isCSpace(s[at])) at++;
  if (!(s[at]! >= '0' && s[at]! <= '9')) return undefined;
  let value = 0;
  do {
    value = value * 10 + (s.charCodeAt(at++) - 48);
  } while (--n > 0 && value * 10 <= to && s[at]! >= '0' && s[at]! <= '9');
  if (value < from || value > to) return undefined;
  return { value, at };
}

/**
 * The local time's standard offset (ms), as mktime with tm_isdst = 0 uses it: ssh-keygen asks for
 * standard time, so a summer date in a zone with daylight saving time is read an hour later.
 */
function standardOffsetMs(year: number): number {
  const jan = new Date(year, 0, 1).getTimezoneOffset();
  const jul = new Date(year, 6, 1).getTimezoneOffset();
  return Math.max(jan, jul) * 60_000;
}

/**
 * parse_absolute_time in misc.c: YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, in local time (read as
 * standard time, as ssh-keygen's mktime does), or UTC with a Z or UTC suffix. Undefined when invalid.
 * @example parseAbsoluteTime('20260101Z') // 1767225600n
 */
export function parseAbsoluteTime(s: string): bigint | undefined {
  let l = s.length;
  let utc = false;
  if (l > 1 && s.slice(l - 1).toLowerCase() === 'z') [utc, l] = [true, l - 1];
  else if (l > 3 && s.slice(l - 3).toLowerCase() === 'utc') [utc, l] = [true, l - 3];
  const part = (from: number, n: number) => s.slice(from, Math.min(from + n, s.length));
  let text: string;
  let fields: Array<[number, number, number]>; // [from, to, digits] per conversion
  const Y: [number, number, number] = [0, 9999, 4];
  const m: [number, number, number] = [1, 12, 2];
  const d: [number, number, number] = [1, 31, 2];
  const H: [number, number, number] = [0, 23, 2];
  const M: [number, number, number] = [0, 59, 2];
  const S: [number, number, number] = [0, 61, 2];
  if (l === 8) [text, fields] = [`${part(0, 4)}-${part(4, 2)}-${part(6, 2)}`, [Y, m, d]];
  else if (l === 12) [text, fields] = [`${part(0, 4)}-${part(4, 2)}-${part(6, 2)}T${part(8, 2)}:${part(10, 2)}`, [Y, m, d, H, M]];
  else if (l === 14) [text, fields] = [`${part(0, 4)}-${part(4, 2)}-${part(6, 2)}T${part(8, 2)}:${part(10, 2)}:${part(12, 2)}`, [Y, m, d, H, M, S]];
  else return undefined;
  const separators = ['-', '-', 'T', ':', ':'];
  const values: number[] = [];
  let at = 0;
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) {
      if (text[at] !== separators[i - 1]) return undefined;
      at++;
    }
    const [from, to, n] = fields[i]!;
    const got = getNumber(text, at, from, to, n);
    if (!got) return undefined;
    values.push(got.value);
    at = got.at;
  }
  if (at !== text.length) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = values as [number, number, number, number?, number?, number?];
  const wall = new Date(0);
  wall.setUTCFullYear(year, month - 1, day);
  wall.setUTCHours(hour, minute, second, 0);
  const ms = wall.getTime() + (utc ? 0 : standardOffsetMs(year));
  if (ms < 0) return undefined;
  return BigInt(Math.floor(ms / 1000));
}

function parseRelative(s: string, now: bigint, spec: string): bigint {
  const secs = convtime(s.slice(1));
  if (secs === undefined) throw badValidity(spec, `${JSON.stringify(s)} is not a relative time such as +8h, -5m or +1w2d`);
  if (s[0] === '-' && BigInt(secs) > now) throw badValidity(spec, `${s} cannot be represented (before 1970)`);
  return s[0] === '-' ? now - BigInt(secs) : now + BigInt(secs);
}

function parseHex(s: string, spec: string): bigint {
  if (!/^0x[0-9a-fA-F]+$/.test(s)) throw badValidity(spec, `${JSON.stringify(s)} is not a hexadecimal time`);
  const v = BigInt(s);
  if (v > U64_MAX) throw badValidity(spec, `${s} is larger than 64 bits`);
  return v;
}

const badValidity = (spec: string, why: string) => invalidOption('validity', `${JSON.stringify(spec)}: ${why}`, {}, 'ERR_SSH_BAD_VALIDITY');

/** A bare duration (keysmith's shorthand for +DURATION): numbers each with a unit (20260101 is no duration). */
const BARE_DURATION = /^(\d+[smhdwSMHDW])+$/;

/**
 * A validity as ssh-keygen -V reads it (parse_cert_times in OpenSSH 9.2), `now` being the time
 * of signing. `+8h` is from a minute ago (backdated, rounded down to the minute, for clocks
 * slightly behind) to 8 hours from now; `FROM:TO` takes, for FROM, a relative `-5m`/`+1d`,
 * `YYYYMMDD[HHMM[SS]]` local time (standard time, as ssh-keygen reads it) or with a Z or UTC
 * suffix, `0x…` seconds, or `always`; for TO the same or `forever`. keysmith also takes a bare
 * duration, `8h`, for `+8h`.
 * @example parseValidity('20260101:20260201Z', new Date())
 */
export function parseValidity(spec: string, now: Date): { validAfter: bigint; validBefore: bigint } {
  const t = BigInt(Math.floor(now.getTime() / 1000));
  const relative = spec.startsWith('+') ? spec : BARE_DURATION.test(spec) ? `+${spec}` : undefined;
  if (relative && !relative.includes(':')) {
    const secs = convtime(relative.slice(1));
    if (secs === undefined) throw badValidity(spec, 'not a relative time such as +8h, +30m or +1w2d');
    // ((now - 59) / 60) * 60, as ssh-keygen backdates it.
    return { validAfter: ((t - 59n) / 60n) * 60n, validBefore: t + BigInt(secs) };
  }
  const colon = spec.indexOf(':');
  if (colon <= 0 || colon === spec.length - 1) throw badValidity(spec, 'expected +DURATION (e.g. +8h) or FROM:TO (e.g. 20260101:20260201, -5m:+1h, always:forever)');
  const from = spec.slice(0, colon);
  const to = spec.slice(colon + 1);
  let validAfter: bigint;
  if (from[0] === '-' || from[0] === '+') validAfter = parseRelative(from, t, spec);
  else if (from === 'always') validAfter = 0n;
  else if (from.startsWith('0x')) validAfter = parseHex(from, spec);
  else {
    const v = parseAbsoluteTime(from);
    if (v === undefined) throw badValidity(spec, `invalid from time ${JSON.stringify(from)} (YYYYMMDD, YYYYMMDDHHMM[SS], with Z for UTC)`);
    validAfter = v;
  }
  let validBefore: bigint;
  if (to[0] === '-' || to[0] === '+') validBefore = parseRelative(to, t, spec);
  else if (to === 'forever') validBefore = FOREVER;
  else if (to.startsWith('0x')) validBefore = parseHex(to, spec);
  else {
    const v = parseAbsoluteTime(to);
    if (v === undefined) throw badValidity(spec, `invalid to time ${JSON.stringify(to)} (YYYYMMDD, YYYYMMDDHHMM[SS], with Z for UTC)`);
    validBefore = v;
  }
  if (validBefore <= validAfter) throw badValidity(spec, 'empty validity interval (it ends before it starts)');
  return { validAfter, validBefore };
}

// --- source-address: addr_match_cidr_list(NULL, list) in addrmatch.c ---

const VALID_CIDR_CHARS = /^[0-9a-fA-F.:/]*$/;
/** INET6_ADDRSTRLEN + 3 */
const MAX_CIDR_ENTRY = 49;

/** glibc's inet_aton_exact (getaddrinfo with AI_NUMERICHOST): 1 to 4 parts, each decimal, octal (0…) or hex (0x…). */
function inetAton(s: string): Buffer | undefined {
  const parts: number[] = [];
  let i = 0;
  for (;;) {
    if (!(s[i]! >= '0' && s[i]! <= '9')) return undefined;
    let base = 10;
    let j = i;
    if (s[j] === '0') {
      base = 8;
      j++;
      if (s[j] === 'x' || s[j] === 'X') {
        if (!/[0-9a-fA-F]/.test(s[j + 1] ?? '')) base = 0; // strtoul reads just "0"
        else [base, j] = [16, j + 1];
      }
    }
    let value = 0n;
    if (base === 0 || (base === 8 && !(s[j]! >= '0' && s[j]! <= '7'))) {
      j = i + 1; // the lone 0
    } else {
      const digit = base === 16 ? /[0-9a-fA-F]/ : base === 8 ? /[0-7]/ : /[0-9]/;
      const start = j;
      while (j < s.length && digit.test(s[j]!)) j++;
      value = BigInt(base === 16 ? `0x${s.slice(start, j)}` : base === 8 ? `0o${s.slice(start, j)}` : s.slice(start, j));
    }
    if (value > 0xffffffffn) return undefined;
    i = j;
    if (s[i] === '.') {
      if (parts.length > 2 || value > 0xffn) return undefined;
      parts.push(Number(value));
      i++;
      continue;
    }
    if (i !== s.length) return undefined;
    const max = [0xffffffffn, 0xffffffn, 0xffffn, 0xffn][parts.length]!;
    if (value > max) return undefined;
    const out = Buffer.alloc(4);
    out.writeUInt32BE(Number(value));
    parts.forEach((p, k) => (out[k] = p));
    return out;
  }
}

/** glibc's inet_pton4, for the IPv4 tail of an IPv6 address: exactly 4 decimal parts, no leading zeros. */
function inetPton4(s: string): Buffer | undefined {
  const out = [0];
  let sawDigit = false;
  let octets = 0;
  for (const ch of s) {
    if (ch >= '0' && ch <= '9') {
      const next = out[out.length - 1]! * 10 + Number(ch);
      if (sawDigit && out[out.length - 1] === 0) return undefined;
      if (next > 255) return undefined;
      out[out.length - 1] = next;
      if (!sawDigit) {
        if (++octets > 4) return undefined;
        sawDigit = true;
      }
    } else if (ch === '.' && sawDigit) {
      if (octets === 4) return undefined;
      out.push(0);
      sawDigit = false;
    } else return undefined;
  }
  return octets < 4 ? undefined : Buffer.from(out);
}

/** glibc's inet_pton6. */
function inetPton6(src: string): Buffer | undefined {
  const tmp = Buffer.alloc(16);
  let tp = 0;
  let colonp: number | undefined;
  let i = 0;
  if (src.length === 0) return undefined;
  if (src[0] === ':') {
    i++;
    if (i === src.length || src[i] !== ':') return undefined;
  }
  let curtok = i;
  let seen = 0;
  let val = 0;
  while (i < src.length) {
    const ch = src[i++]!;
    const digit = /[0-9a-fA-F]/.test(ch) ? parseInt(ch, 16) : -1;
    if (digit >= 0) {
      if (seen === 4) return undefined;
      val = (val << 4) | digit;
      if (val > 0xffff) return undefined;
      seen++;
      continue;
    }
    if (ch === ':') {
      curtok = i;
      if (seen === 0) {
        if (colonp !== undefined) return undefined;
        colonp = tp;
        continue;
      } else if (i === src.length) return undefined;
      if (tp + 2 > 16) return undefined;
      tmp[tp++] = (val >> 8) & 0xff;
      tmp[tp++] = val & 0xff;
      seen = 0;
      val = 0;
      continue;
    }
    const v4 = ch === '.' && tp + 4 <= 16 ? inetPton4(src.slice(curtok)) : undefined;
    if (v4) {
      v4.copy(tmp, tp);
      tp += 4;
      seen = 0;
      break;
    }
    return undefined;
  }
  if (seen > 0) {
    if (tp + 2 > 16) return undefined;
    tmp[tp++] = (val >> 8) & 0xff;
    tmp[tp++] = val & 0xff;
  }
  if (colonp !== undefined) {
    if (tp === 16) return undefined;
    const n = tp - colonp;
    tmp.copy(tmp, 16 - n, colonp, tp);
    tmp.fill(0, colonp, 16 - n);
    tp = 16;
  }
  return tp === 16 ? tmp : undefined;
}

/** addr_pton_cidr: -1 (not an address), -2 (a mask too long, or host bits set), or the network. */
function ptonCidr(p: string): -1 | -2 | { address: Buffer; bits: number } {
  let text = p;
  let masklen: number | undefined;
  const slash = p.indexOf('/');
  if (slash >= 0) {
    text = p.slice(0, slash);
    const mask = p.slice(slash + 1);
    if (!/^\d+$/.test(mask)) return -1;
    // strtoul: leading zeros count for nothing, and a huge value saturates (and is refused below).
    const digits = mask.replace(/^0+(?=.)/, '');
    masklen = digits.length > 4 ? Infinity : Number(digits);
    if (masklen > 128) return -1;
  }
  const address = inetAton(text) ?? inetPton6(text);
  if (!address) return -1;
  const bits = masklen ?? address.length * 8;
  if (bits > address.length * 8) return -2;
  for (let b = bits; b < address.length * 8; b++) if (address[b >> 3]! & (0x80 >> (b & 7))) return -2;
  return { address, bits };
}

/**
 * Checks a source-address list as ssh-keygen -O source-address= does (addr_match_cidr_list): a
 * comma-separated list of IPv4/IPv6 addresses or CIDR networks, no empty entry, no host bits
 * set under the mask. Throws a usage error naming the bad entry.
 * @example checkSourceAddress('10.0.0.0/8,192.168.1.7,2001:db8::/32')
 */
export function checkSourceAddress(list: string): void {
  const bad = (why: string) => invalidOption('sourceAddress', why, {}, 'ERR_SSH_BAD_SOURCE_ADDRESS');
  if (list === '') throw bad('an empty list');
  for (const entry of list.split(',')) {
    if (entry === '') throw bad(`an empty entry in ${JSON.stringify(list)}`);
    if (entry.length > MAX_CIDR_ENTRY) throw bad(`${JSON.stringify(entry.slice(0, 60))} is too long for an address`);
    if (!VALID_CIDR_CHARS.test(entry)) throw bad(`${JSON.stringify(entry)} is not an address or CIDR network (only 0-9 a-f . : / may appear)`);
    const r = ptonCidr(entry);
    if (r === -1) throw bad(`${JSON.stringify(entry)} is not an address or CIDR network`);
    if (r === -2) throw bad(`${JSON.stringify(entry)}: the mask is too long or host bits are set (e.g. 10.0.0.0/8, not 10.0.0.1/8)`);
  }
}

// --- ssh-keygen -L ---

/**
 * format_absolute_time: local time (the process's TZ), %Y-%m-%dT%H:%M:%S.
 * @example formatCertificateTime(1767225600n) // '2026-01-01T00:00:00' in UTC
 */
export function formatCertificateTime(seconds: bigint): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const MAX_DATE_S = 8_640_000_000_000n;
  if (seconds <= MAX_DATE_S) {
    const d = new Date(Number(seconds) * 1000);
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }
  // Beyond what a Date holds (year 275760): the civil date in UTC, shifted by the zone's last known offset.
  const offset = BigInt(-new Date(Number(MAX_DATE_S) * 1000).getTimezoneOffset() * 60);
  const t = seconds + offset;
  const days = t / 86400n;
  const rem = Number(t % 86400n);
  // days-from-civil inverse (Howard Hinnant's civil_from_days).
  const z = days + 719468n;
  const era = z / 146097n;
  const doe = z - era * 146097n;
  const yoe = (doe - doe / 1460n + doe / 36524n - doe / 146096n) / 365n;
  const doy = doe - (365n * yoe + yoe / 4n - yoe / 100n);
  const mp = (5n * doy + 2n) / 153n;
  const day = doy - (153n * mp + 2n) / 5n + 1n;
  const month = mp < 10n ? mp + 3n : mp - 9n;
  const year = yoe + era * 400n + (month <= 2n ? 1n : 0n);
  return `${year}-${p(Number(month))}-${p(Number(day))}T${p(Math.floor(rem / 3600))}:${p(Math.floor((rem % 3600) / 60))}:${p(rem % 60)}`;
}

/**
 * sshkey_format_cert_validity: forever, before T, after T, or from T to T.
 * @example formatValidity({ validAfter: 0n, validBefore: FOREVER }) // 'forever'
 */
export function formatValidity(cert: Pick<Certificate, 'validAfter' | 'validBefore'>): string {
  if (cert.validAfter === 0n && cert.validBefore === FOREVER) return 'forever';
  if (cert.validAfter === 0n) return `before ${formatCertificateTime(cert.validBefore)}`;
  if (cert.validBefore === FOREVER) return `after ${formatCertificateTime(cert.validAfter)}`;
  return `from ${formatCertificateTime(cert.validAfter)} to ${formatCertificateTime(cert.validBefore)}`;
}

/** A cstring as sshbuf_get_cstring reads it (no NUL but a last one), or undefined. */
function cstringOf(r: Reader): string | undefined {
  try {
    return r.cstring();
  } catch {
    return undefined;
  }
}

const FLAG_EXTENSIONS = new Set(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc', 'no-touch-required']);

/** show_options: one line per option, as ssh-keygen -L prints them. Throws when an option is corrupt. */
function showOptions(options: Array<[string, Buffer]>, critical: boolean): string {
  let out = '';
  for (const [name, data] of options) {
    if (name.slice(0, -1).includes('\0')) throw new Error('an option name holds a NUL');
    const shown = name.endsWith('\0') ? name.slice(0, -1) : name;
    out += `                ${safe(shown)}`;
    let extra = data.length;
    if (!critical && FLAG_EXTENSIONS.has(shown)) out += '\n';
    else if (critical && (shown === 'force-command' || shown === 'source-address')) {
      const r = new Reader(data, 'the option');
      const arg = cstringOf(r);
      if (arg === undefined) throw new Error(`the ${shown} option is corrupt`);
      out += ` ${safe(arg)}\n`;
      extra = data.length - r.offset;
    } else if (critical && shown === 'verify-required') out += '\n';
    else if (data.length > 0) {
      out += ` UNKNOWN OPTION: ${data.toString('hex')} (len ${data.length})\n`;
      extra = 0;
    } else out += ' UNKNOWN FLAG OPTION\n';
    if (extra !== 0) throw new Error(`the ${shown} option is corrupt (extra data at its end)`);
  }
  return out;
}

/** Control characters (C0 and DEL) as `?`: a certificate's texts come from whoever made it. */
/**
 * A certificate's string (its bytes as latin1) with every control character shown as `?`: C0, DEL
 * and C1 — as code points when the bytes are UTF-8 (so other UTF-8 text prints as it is), else as
 * bytes 0x80-0x9f (CSI 0x9b is an escape on some terminals).
 */
function safe(s: string): string {
  const bytes = Buffer.from(s, 'latin1');
  const text = bytes.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(bytes)) return Buffer.from(text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?'), 'utf8').toString('latin1');
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

/**
 * The certificate of `key` exactly as `ssh-keygen -L` prints it (print_cert), after the caller's
 * header line: its times in local time (the TZ of the process), strings as their bytes (latin1
 * here: write the result with Buffer.from(text, 'latin1')), control characters shown as `?`.
 * Throws a plain Error for an option ssh-keygen would call corrupt. `md5`: MD5 fingerprints (-E md5).
 * @example process.stdout.write(Buffer.from(`work-cert.pub:\n${renderCertificate(key)}`, 'latin1'))
 */
export function renderCertificate(key: PublicKey, md5 = false): string {
  const fingerprint = md5 ? fingerprintMd5 : fingerprintSha256;
  const c = key.certificate;
  if (!c) throw new Error('not a certificate');
  const { critical, extensions } = c.rawOptions;
  const lines = [
    `        Type: ${key.algorithm} ${c.type} certificate`,
    `        Public key: ${keyTypeName(key.algorithm)} ${fingerprint(key.blob)}`,
    `        Signing CA: ${keyTypeName(c.signatureKey.algorithm)} ${fingerprint(c.signatureKey.blob)} (using ${safe(c.signatureType)})`,
    `        Key ID: "${safe(c.keyId)}"`,
    `        Serial: ${c.serial}`,
    `        Valid: ${formatValidity(c)}`,
  ];
  let out = `${lines.join('\n')}\n        Principals: `;
  out += c.principals.length === 0 ? '(none)\n' : `${c.principals.map((p) => `\n                ${safe(p)}`).join('')}\n`;
  out += `        Critical Options: ${critical.length ? `\n${showOptions(critical, true)}` : '(none)\n'}`;
  out += `        Extensions: ${extensions.length ? `\n${showOptions(extensions, false)}` : '(none)\n'}`;
  return out;
}

/** A certificate read from a line of a file, numbered from 1, or why that line is not one. */
export type CertificateLine = { line: number; key: PublicKey } | { line: number; error: string };

/**
 * The lines of a file as `ssh-keygen -L` reads them (do_show_cert): leading blanks skipped,
 * blank and # lines passed over, each other line a key (`type base64 [comment]`) that must be a
 * certificate. The rest of a line is its comment.
 * @example readCertificateLines(text).filter((l) => 'key' in l).map((l) => renderCertificate(l.key))
 */
export function readCertificateLines(text: string): CertificateLine[] {
  const out: CertificateLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.split('\0')[0]!.replace(/^[ \t]+/, '');
    if (line === '' || line === '\r' || line.startsWith('#')) return;
    const got = readKeyAt(line);
    if ('error' in got) out.push({ line: i + 1, error: `invalid key (${got.error})` });
    else if (!got.key.certificate) out.push({ line: i + 1, error: 'is not a certificate' });
    else out.push({ line: i + 1, key: { ...got.key, comment: got.rest.replace(/\r$/, '') } });
  });
  return out;
}

/**
 * Where a certificate stands at `now`.
 * @example certificateStatus(key.certificate!, new Date()) // 'expired'
 */
export function certificateStatus(cert: Pick<Certificate, 'validAfter' | 'validBefore'>, now: Date): 'valid' | 'expired' | 'not-yet-valid' {
  const t = BigInt(Math.floor(now.getTime() / 1000));
  if (t < cert.validAfter) return 'not-yet-valid';
  if (t >= cert.validBefore) return 'expired';
  return 'valid';
}

/** A certificate time as ISO-8601 (UTC), or null for "always" (0) and "forever" (2^64-1); past year 9999, the seconds. */
function isoTime(seconds: bigint, edge: bigint): string | null {
  if (seconds === edge) return null;
  if (seconds > 253402300799n) return String(seconds);
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

/** Bytes read as latin1 (as the parser keeps them), as the UTF-8 text they most likely are. */
const text = (latin1: string) => Buffer.from(latin1, 'latin1').toString('utf8');

/** An option's data for JSON: true for a flag, the string for name=value, else {hex}. */
function optionValue(data: Buffer): true | string | { hex: string } {
  if (data.length === 0) return true;
  const r = new Reader(data, 'the option');
  try {
    const s = r.string();
    if (r.done) return s.toString('utf8');
  } catch {
    // not one string
  }
  return { hex: data.toString('hex') };
}

/** What `ssh show --json` gives for a certificate: a stable, documented shape. */
export interface CertificateInfo {
  type: CertificateType;
  /** ssh-ed25519-cert-v01@openssh.com, … */
  algorithm: string;
  /** The certified key: its SHA256 fingerprint, type (ED25519-CERT…), bits. */
  publicKey: { fingerprint: string; type: string; bits: number };
  signingCa: { fingerprint: string; type: string; signatureAlgorithm: string };
  keyId: string;
  /** A decimal string: serials are 64-bit. */
  serial: string;
  /** ISO-8601 UTC; null: valid since always. */
  validAfter: string | null;
  /** ISO-8601 UTC; null: valid forever. */
  validBefore: string | null;
  /** ssh-keygen -L's words: forever, from … to … (local time). */
  valid: string;
  status: 'valid' | 'expired' | 'not-yet-valid';
  /** Empty: valid for every principal. */
  principals: string[];
  criticalOptions: Record<string, true | string | { hex: string }>;
  extensions: Record<string, true | string | { hex: string }>;
  comment: string;
}

/**
 * A certificate's fields for JSON (CertificateInfo).
 * @example JSON.stringify(certificateInfo(key, new Date()))
 */
export function certificateInfo(key: PublicKey, now: Date): CertificateInfo {
  const c = key.certificate!;
  return {
    type: c.type,
    algorithm: key.algorithm,
    publicKey: { fingerprint: fingerprintSha256(key.blob), type: keyTypeName(key.algorithm), bits: key.bits },
    signingCa: { fingerprint: fingerprintSha256(c.signatureKey.blob), type: keyTypeName(c.signatureKey.algorithm), signatureAlgorithm: c.signatureType },
    keyId: text(c.keyId),
    serial: String(c.serial),
    validAfter: isoTime(c.validAfter, 0n),
    validBefore: isoTime(c.validBefore, FOREVER),
    valid: formatValidity(c),
    status: certificateStatus(c, now),
    principals: c.principals.map(text),
    criticalOptions: Object.fromEntries(Object.entries(c.criticalOptions).map(([k, v]) => [text(k), optionValue(v)])),
    extensions: Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [text(k), optionValue(v)])),
    comment: key.comment,
  };
}
