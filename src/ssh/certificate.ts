import { constants, createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ecKeyObject, parseKeyBlob, type KeyMaterial, type PublicKey } from './public-key.js';
import { Reader } from './wire.js';

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
  reserved: Buffer;
  /** The CA's key. */
  signatureKey: PublicKey;
  /** ssh-ed25519, rsa-sha2-512, … */
  signatureType: string;
  signature: Buffer;
}

/** SSHKEY_CERT_MAX_PRINCIPALS */
const MAX_PRINCIPALS = 256;

/** name/data pairs of critical options or extensions; the data is itself a string (or empty). */
function options(data: Buffer, what: string): Record<string, Buffer> {
  const r = new Reader(data, what);
  const out: Record<string, Buffer> = {};
  while (!r.done) out[r.string().toString('latin1')] = r.string();
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
  const cert = {
    blob, nonce, serial, type: typeCode === 1 ? 'user' : 'host', keyId, principals, validAfter, validBefore,
    criticalOptions: options(critical, 'the critical options'), extensions: options(extensions, 'the extensions'), reserved,
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
