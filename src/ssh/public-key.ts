import { constants, createHash, createPublicKey, ECDH, verify, type KeyObject } from 'node:crypto';
import { Reader, Writer } from './wire.js';

/**
 * Public key blobs read as strictly as OpenSSH 9.2's sshkey.c (sshkey_from_blob_internal and each
 * type's deserialize_public): known type names, exact field lengths, no trailing bytes, EC points
 * on their curve, RSA moduli of at least 1024 bits, security-key application strings read to the
 * end, certificates parsed whole and their CA signature verified. The fingerprint blob is the key
 * as OpenSSH re-encodes it (to_blob with force_plain), as ssh-keygen -l hashes it.
 */

type Kind = 'ed25519' | 'ed25519-sk' | 'ecdsa' | 'ecdsa-sk' | 'dsa' | 'rsa';

interface KeyImpl {
  name: string;
  /** What ssh-keygen -l prints in brackets (sshkey_type). */
  short: string;
  kind: Kind;
  cert: boolean;
  curve?: Curve;
  /** A signature algorithm name that is also read as a key type (rsa-sha2-256, webauthn). */
  sigonly?: boolean;
}

type Curve = 'nistp256' | 'nistp384' | 'nistp521';

/** keyimpls[] of sshkey.c, in its order (the order decides which short name matches first). */
const IMPLS: KeyImpl[] = [
  { name: 'ssh-ed25519', short: 'ED25519', kind: 'ed25519', cert: false },
  { name: 'ssh-ed25519-cert-v01@openssh.com', short: 'ED25519-CERT', kind: 'ed25519', cert: true },
  { name: 'sk-ssh-ed25519@openssh.com', short: 'ED25519-SK', kind: 'ed25519-sk', cert: false },
  { name: 'sk-ssh-ed25519-cert-v01@openssh.com', short: 'ED25519-SK-CERT', kind: 'ed25519-sk', cert: true },
  ...(['nistp256', 'nistp384', 'nistp521'] as const).flatMap((curve) => [
    { name: `ecdsa-sha2-${curve}`, short: 'ECDSA', kind: 'ecdsa' as const, cert: false, curve },
    { name: `ecdsa-sha2-${curve}-cert-v01@openssh.com`, short: 'ECDSA-CERT', kind: 'ecdsa' as const, cert: true, curve },
  ]),
  { name: 'sk-ecdsa-sha2-nistp256@openssh.com', short: 'ECDSA-SK', kind: 'ecdsa-sk', cert: false, curve: 'nistp256' },
  { name: 'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', short: 'ECDSA-SK-CERT', kind: 'ecdsa-sk', cert: true, curve: 'nistp256' },
  { name: 'webauthn-sk-ecdsa-sha2-nistp256@openssh.com', short: 'ECDSA-SK', kind: 'ecdsa-sk', cert: false, curve: 'nistp256', sigonly: true },
  { name: 'ssh-dss', short: 'DSA', kind: 'dsa', cert: false },
  { name: 'ssh-dss-cert-v01@openssh.com', short: 'DSA-CERT', kind: 'dsa', cert: true },
  { name: 'ssh-rsa', short: 'RSA', kind: 'rsa', cert: false },
  { name: 'ssh-rsa-cert-v01@openssh.com', short: 'RSA-CERT', kind: 'rsa', cert: true },
  { name: 'rsa-sha2-256', short: 'RSA', kind: 'rsa', cert: false, sigonly: true },
  { name: 'rsa-sha2-256-cert-v01@openssh.com', short: 'RSA-CERT', kind: 'rsa', cert: true, sigonly: true },
  { name: 'rsa-sha2-512', short: 'RSA', kind: 'rsa', cert: false, sigonly: true },
  { name: 'rsa-sha2-512-cert-v01@openssh.com', short: 'RSA-CERT', kind: 'rsa', cert: true, sigonly: true },
];

/** sshkey_type_from_name: an exact name, or (plain types only) the short name in any case. */
function implFromName(name: string): KeyImpl | undefined {
  return IMPLS.find((i) => i.name === name || (!i.cert && i.short.toLowerCase() === name.toLowerCase()));
}

/** sshkey_ssh_name_from_type_nid: the canonical name of a kind, plain or certificate. */
function canonical(kind: Kind, cert: boolean, curve?: Curve): KeyImpl {
  return IMPLS.find((i) => i.kind === kind && i.cert === cert && !i.sigonly && (i.curve === undefined || i.curve === curve))!;
}

/** Whether a key type name (the first word of a key line) names the same key type as a blob. */
export function sameKeyType(lineType: string, key: PublicKey): boolean {
  const a = IMPLS.find((i) => i.name === lineType);
  const b = IMPLS.find((i) => i.name === key.algorithm)!;
  if (!a || a.kind !== b.kind || a.cert !== b.cert) return false;
  return a.curve === undefined || a.curve === b.curve;
}

/** The short type name ssh-keygen prints: ED25519, ECDSA-SK, RSA-CERT, … */
export function keyTypeName(algorithm: string): string {
  return IMPLS.find((i) => i.name === algorithm)?.short ?? algorithm.toUpperCase();
}

export function isKeyTypeName(name: string): boolean {
  return IMPLS.some((i) => i.name === name);
}

/** A public key: its fingerprint blob, and what ssh-keygen -l says about it. */
export interface PublicKey {
  /** ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, sk-ssh-ed25519@openssh.com, ssh-ed25519-cert-v01@openssh.com, … */
  algorithm: string;
  /** The (certified) key as OpenSSH encodes it: what fingerprints hash. */
  blob: Buffer;
  bits: number;
  comment: string;
  /** For a certificate: all of it, including its blob as read. */
  certificate?: Certificate;
}

/** A parsed public key with what a signature check needs. */
export interface KeyMaterial extends PublicKey {
  kind: Kind;
  curve?: Curve;
  ed25519?: Buffer;
  point?: Buffer;
  rsa?: { e: Buffer; n: Buffer };
  /** A security key's application ("ssh:"), as bytes. */
  application?: Buffer;
}

const CURVES: Record<Curve, { jwk: string; openssl: string; bits: number; bytes: number; order: bigint }> = {
  nistp256: { jwk: 'P-256', openssl: 'prime256v1', bits: 256, bytes: 32, order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n },
  nistp384: { jwk: 'P-384', openssl: 'secp384r1', bits: 384, bytes: 48, order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n },
  nistp521: { jwk: 'P-521', openssl: 'secp521r1', bits: 521, bytes: 66, order: 0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n },
};

export const CURVE_JWK = Object.fromEntries(Object.entries(CURVES).map(([name, c]) => [name, c.jwk])) as Record<Curve, string>;

/** BN_num_bits of a big-endian magnitude. */
function bitLength(b: Buffer): number {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return i === b.length ? 0 : (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!));
}
const big = (b: Buffer) => (b.length ? BigInt(`0x${b.toString('hex')}`) : 0n);
const SSH_RSA_MINIMUM_MODULUS_SIZE = 1024;
const SSHBUF_MAX_ECPOINT = (528 * 2) / 8 + 1;

/** The KeyObject of an EC point; node's import checks that the point is on the curve. */
export function ecKeyObject(curve: Curve, point: Buffer): KeyObject {
  const n = CURVES[curve].bytes;
  return createPublicKey({ key: { kty: 'EC', crv: CURVES[curve].jwk, x: point.subarray(1, 1 + n).toString('base64url'), y: point.subarray(1 + n).toString('base64url') }, format: 'jwk' });
}

/**
 * sshbuf_get_ec (uncompressed points only, exact length, on the curve) and then
 * sshkey_ec_validate_public: x and y longer than half the order's bits, and below order - 1.
 * (Not the point at infinity and nQ = infinity follow for these prime-order curves.)
 */
function checkPoint(curve: Curve, point: Buffer): void {
  const c = CURVES[curve];
  if (point.length === 0 || point.length > SSHBUF_MAX_ECPOINT) throw new Error('bad EC point length');
  if (point[0] !== 4) throw new Error('only uncompressed EC points are allowed');
  if (point.length !== 1 + 2 * c.bytes) throw new Error('bad EC point length');
  const x = point.subarray(1, 1 + c.bytes);
  const y = point.subarray(1 + c.bytes);
  const half = Math.floor(c.bits / 2);
  for (const v of [x, y]) {
    if (bitLength(v) <= half) throw new Error('EC point coordinate too small');
    if (big(v) >= c.order - 1n) throw new Error('EC point coordinate too large');
  }
  // EC_POINT_oct2point checks the point is on the curve; so does this (10-60× faster than a JWK import).
  try {
    ECDH.convertKey(point, c.openssl, undefined, undefined, 'uncompressed');
  } catch {
    throw new Error('the EC point is not on the curve');
  }
}

/**
 * Parses a public key or certificate blob as sshkey_from_blob does, throwing a plain Error saying
 * what is wrong (callers wrap it in their typed error).
 * @example parseKeyBlob(Buffer.from(line.split(' ')[1], 'base64')).bits // 256
 */
export function parseKeyBlob(blob: Buffer, allowCert = true): KeyMaterial {
  const r = new Reader(blob, 'the key');
  const typeName = r.cstring();
  const impl = implFromName(typeName);
  if (!impl) throw new Error(`unknown key type ${JSON.stringify(typeName)}`);
  if (impl.cert && !allowCert) throw new Error('a certificate cannot sign a certificate');
  const nonce = impl.cert ? r.string() : undefined;
  const m: Omit<KeyMaterial, 'algorithm' | 'blob' | 'bits' | 'comment'> = { kind: impl.kind };
  const plain = new Writer();
  let bits: number;
  if (impl.kind === 'ed25519' || impl.kind === 'ed25519-sk') {
    m.ed25519 = r.string();
    if (m.ed25519.length !== 32) throw new Error('an ed25519 key is 32 bytes');
    plain.string(canonical(impl.kind, false).name).string(m.ed25519);
    bits = 256;
  } else if (impl.kind === 'ecdsa' || impl.kind === 'ecdsa-sk') {
    // The curve comes from the type name as written (sshkey_ecdsa_nid_from_name), not the alias.
    const curve = IMPLS.find((i) => i.curve && i.name === typeName)?.curve;
    if (!curve) throw new Error(`no curve for ${typeName}`);
    if (r.cstring() !== curve) throw new Error('the curve does not match the key type');
    m.curve = curve;
    m.point = r.string();
    checkPoint(curve, m.point);
    plain.string(canonical(impl.kind, false, curve).name).string(curve).string(m.point);
    bits = CURVES[curve].bits;
  } else if (impl.kind === 'rsa') {
    const e = r.mpint();
    const n = r.mpint();
    bits = bitLength(n);
    if (bits < SSH_RSA_MINIMUM_MODULUS_SIZE) throw new Error(`an RSA key of ${bits} bits is below OpenSSH's minimum of ${SSH_RSA_MINIMUM_MODULUS_SIZE}`);
    m.rsa = { e, n };
    plain.string('ssh-rsa').mpint(e).mpint(n);
  } else {
    const [p, q, g, y] = [r.mpint(), r.mpint(), r.mpint(), r.mpint()];
    bits = bitLength(p);
    plain.string('ssh-dss').mpint(p).mpint(q).mpint(g).mpint(y);
  }
  if (impl.kind.endsWith('-sk')) {
    m.application = Buffer.from(r.cstring(), 'latin1');
    plain.string(m.application);
  }
  const key: KeyMaterial = { ...m, algorithm: canonical(impl.kind, impl.cert, m.curve).name, blob: plain.bytes(), bits, comment: '' };
  if (nonce) key.certificate = parseCertificateBody(r, blob, nonce);
  r.end();
  return key;
}

// Certificates (PROTOCOL.certkeys): in this file, as a certificate holds key blobs and a key blob may be a certificate.
/** An OpenSSH certificate (PROTOCOL.certkeys), as cert_parse in sshkey.c reads it. */
export interface Certificate {
  /** The whole certificate blob, as read. */
  blob: Buffer;
  nonce: Buffer;
  serial: bigint;
  type: 'user' | 'host';
  keyId: string;
  /** Empty: valid for any principal. */
  principals: string[];
  /** Seconds since the epoch; 0 and 2^64-1 mean "always" and "forever". */
  validAfter: bigint;
  validBefore: bigint;
  criticalOptions: Record<string, Buffer>;
  extensions: Record<string, Buffer>;
  /** The same as name/data pairs in the order written, duplicates kept (what ssh-keygen -L shows). */
  rawOptions: { critical: Array<[string, Buffer]>; extensions: Array<[string, Buffer]> };
  reserved: Buffer;
  /** The CA's key. */
  signatureKey: PublicKey;
  /** ssh-ed25519, rsa-sha2-512, … */
  signatureType: string;
  signature: Buffer;
}

/** SSHKEY_CERT_MAX_PRINCIPALS */
const MAX_PRINCIPALS = 256;

/** name/data pairs of critical options or extensions, in order; the data is itself a string (or empty). */
function options(data: Buffer, what: string): Array<[string, Buffer]> {
  const r = new Reader(data, what);
  const out: Array<[string, Buffer]> = [];
  while (!r.done) out.push([r.string().toString('latin1'), r.string()]);
  return out;
}

/** Options by name (the last of a name wins). No prototype: an option named __proto__ is an option like any other. */
function byName(pairs: Array<[string, Buffer]>): Record<string, Buffer> {
  const out = Object.create(null) as Record<string, Buffer>;
  for (const [name, data] of pairs) out[name] = data;
  return out;
}

/**
 * The rest of a certificate after its nonce and key: read to the signature, which must be the CA's
 * over everything before it. `blob` is the whole certificate. Throws a plain Error.
 */
export function parseCertificateBody(r: Reader, blob: Buffer, nonce: Buffer): Certificate {
  const serial = r.uint64();
  const typeCode = r.uint32();
  const keyId = r.cstring();
  const principalBytes = r.string();
  const validAfter = r.uint64();
  const validBefore = r.uint64();
  const critical = r.string();
  const extensions = r.string();
  const reserved = r.string();
  const caBlob = r.string();
  const signed = blob.subarray(0, r.offset);
  const signature = r.string();
  if (typeCode !== 1 && typeCode !== 2) throw new Error(`unknown certificate type ${typeCode}`);
  const principals: string[] = [];
  for (const p = new Reader(principalBytes, 'the principals'); !p.done; ) {
    if (principals.length >= MAX_PRINCIPALS) throw new Error('too many principals');
    principals.push(p.cstring());
  }
  const rawOptions = { critical: options(critical, 'the critical options'), extensions: options(extensions, 'the extensions') };
  const cert = {
    blob, nonce, serial, type: typeCode === 1 ? 'user' : 'host', keyId, principals, validAfter, validBefore,
    criticalOptions: byName(rawOptions.critical), extensions: byName(rawOptions.extensions), rawOptions, reserved,
  } as const;
  let ca: KeyMaterial;
  try {
    ca = parseKeyBlob(caBlob, false);
  } catch (err) {
    throw new Error(`bad CA key (${(err as Error).message})`);
  }
  const signatureType = verifySignature(ca, signature, signed);
  const { kind: _k, curve: _c, ed25519: _e, point: _p, rsa: _r, application: _a, ...signatureKey } = ca;
  return { ...cert, signatureKey, signatureType, signature };
}

const RSA_HASHES: Record<string, string> = { 'ssh-rsa': 'sha1', 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' };
const EC_HASHES: Record<string, string> = { nistp256: 'sha256', nistp384: 'sha384', nistp521: 'sha512' };
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

const ed25519Key = (pk: Buffer): KeyObject => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') }, format: 'jwk' });

/** CA keys met lately: one CA signs many certificates, and importing a P-384/521 key costs ~0.5 ms. */
const caKeys = new Map<string, KeyObject>();
function cachedKey(key: KeyMaterial, make: () => KeyObject): KeyObject {
  const id = key.blob.toString('base64');
  let k = caKeys.get(id);
  if (!k) {
    if (caKeys.size >= 64) caKeys.clear();
    caKeys.set(id, (k = make()));
  }
  return k;
}

/** An SSH ECDSA signature (mpint r, mpint s) as IEEE P1363 r||s, or undefined when it cannot be one. */
function p1363(sigbuf: Buffer, bytes: number): Buffer | undefined {
  const s = new Reader(sigbuf, 'the signature');
  const parts = [s.mpint(), s.mpint()];
  s.end();
  if (parts.some((v) => v.length > bytes)) return undefined;
  return Buffer.concat(parts.map((v) => Buffer.concat([Buffer.alloc(bytes - v.length), v])));
}

/** What an sk signature covers: sha256(application) || flags || counter || sha256(data). */
function skMessage(application: Buffer, flags: number, counter: number, data: Buffer): Buffer {
  const fc = Buffer.alloc(5);
  fc.writeUInt8(flags, 0);
  fc.writeUInt32BE(counter, 1);
  return Buffer.concat([sha256(application), fc, sha256(data)]);
}

/**
 * Checks `signature` by `key` over `data` as sshkey_verify does for each key type (the signature's
 * own framing included: type name, lengths, no trailing bytes). Returns the signature type.
 */
export function verifySignature(key: KeyMaterial, signature: Buffer, data: Buffer): string {
  const r = new Reader(signature, 'the CA signature');
  if (signature.length === 0) throw new Error('empty CA signature');
  const type = r.cstring();
  let ok: boolean;
  const bad = () => new Error('the CA signature does not verify');
  if (key.kind === 'ed25519' || key.kind === 'ed25519-sk') {
    const sk = key.kind === 'ed25519-sk';
    if (type !== (sk ? 'sk-ssh-ed25519@openssh.com' : 'ssh-ed25519')) throw new Error('CA signature type mismatch');
    const sig = r.string();
    const [flags, counter] = sk ? [r.byte(), r.uint32()] : [0, 0];
    r.end();
    if (sig.length !== 64) throw bad();
    ok = verify(null, sk ? skMessage(key.application!, flags, counter, data) : data, cachedKey(key, () => ed25519Key(key.ed25519!)), sig);
  } else if (key.kind === 'ecdsa' || key.kind === 'ecdsa-sk') {
    const sk = key.kind === 'ecdsa-sk';
    // webauthn-sk-ecdsa signatures (over a WebAuthn clientData) are not checked: refused.
    if (type !== (sk ? 'sk-ecdsa-sha2-nistp256@openssh.com' : `ecdsa-sha2-${key.curve}`)) throw new Error('CA signature type mismatch');
    const sigbuf = r.string();
    const [flags, counter] = sk ? [r.byte(), r.uint32()] : [0, 0];
    r.end();
    const rs = p1363(sigbuf, Math.ceil(Number(key.bits) / 8));
    if (!rs) throw bad();
    const message = sk ? skMessage(key.application!, flags, counter, data) : data;
    ok = verify(sk ? 'sha256' : EC_HASHES[key.curve!]!, message, { key: cachedKey(key, () => ecKeyObject(key.curve!, key.point!)), dsaEncoding: 'ieee-p1363' }, rs);
  } else if (key.kind === 'rsa') {
    const hash = RSA_HASHES[type];
    if (!hash) throw new Error('CA signature type mismatch');
    let sig = r.string();
    r.end();
    const modlen = Math.ceil(key.bits / 8);
    if (sig.length > modlen) throw bad();
    sig = Buffer.concat([Buffer.alloc(modlen - sig.length), sig]);
    try {
      const pub = cachedKey(key, () => createPublicKey({ key: { kty: 'RSA', n: key.rsa!.n.toString('base64url'), e: key.rsa!.e.toString('base64url') }, format: 'jwk' }));
      ok = verify(hash, data, { key: pub, padding: constants.RSA_PKCS1_PADDING }, sig);
    } catch {
      ok = false;
    }
  } else throw new Error('DSA certificate authorities are not supported');
  if (!ok) throw bad();
  return type;
}
