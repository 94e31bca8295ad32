import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { bech32 } from '@scure/base';

/**
 * age v1 (age-encryption.org/v1) on Node's native crypto: the header and payload format, and the
 * X25519 recipient type (X25519, HKDF-SHA256, HMAC-SHA256, ChaCha20-Poly1305). The file vault opens
 * and writes through this on every command, so it is the hot path; the ssh-ed25519 and ssh-rsa
 * recipient types are in age-ssh.ts, and age-encryption (pure JS, web streams) stays for passphrase
 * (scrypt) files. Interoperability is tested against the `age` tool and age-encryption.
 */
const VERSION = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const ZERO_NONCE = Buffer.alloc(12);

export const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '');
/** Canonical unpadded base64 only, as the age spec requires of decoders. */
export function unb64(s: string): Buffer {
  const b = Buffer.from(s, 'base64');
  if (b64(b) !== s) throw new Error('invalid base64 in header'); // Buffer skips what is not base64, accepts - _ and =
  return b;
}

/** One recipient stanza: `-> type args…` and its body. */
export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}
/** Wraps the file key for one recipient. */
export type Wrap = (fileKey: Buffer) => Stanza;
/**
 * The file key from a stanza: undefined when the stanza is not for this identity; throws when the
 * stanza is malformed, or is for this identity and does not open.
 */
export type Unwrap = (stanza: Stanza) => Buffer | undefined;

// DER prefixes of an X25519 PKCS#8 private key and SPKI public key, followed by the 32 raw bytes.
const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI = Buffer.from('302a300506032b656e032100', 'hex');

/** An X25519 private key from its 32 raw bytes (X25519 clamps them). */
export const privateKey = (raw: Uint8Array) => createPrivateKey({ key: Buffer.concat([PKCS8, raw]), format: 'der', type: 'pkcs8' });
export const publicKey = (raw: Uint8Array) => createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' });
export const rawPublic = (key: KeyObject) => createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI.length);
/** X25519(mine, theirs); throws when the result is all zeros (a point of small order). */
export const x25519 = (mine: KeyObject, theirs: Uint8Array | KeyObject) =>
  diffieHellman({ privateKey: mine, publicKey: theirs instanceof Uint8Array ? publicKey(theirs) : theirs });
export const hkdf32 = (ikm: Uint8Array, salt: Uint8Array, info: string) => Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));

function decodeBech32(text: string, prefix: string, what: string): Buffer {
  try {
    const { prefix: p, bytes } = bech32.decodeToBytes(text.toLowerCase());
    if (p !== prefix || bytes.length !== 32) throw new Error();
    return Buffer.from(bytes);
  } catch {
    throw new Error(`invalid ${what}`);
  }
}

export function generateX25519Identity(): string {
  return bech32.encode('age-secret-key-', bech32.toWords(randomBytes(32)), false).toUpperCase();
}

export function x25519Recipient(identity: string): string {
  const secret = decodeBech32(identity.trim(), 'age-secret-key-', 'identity');
  return bech32.encode('age', bech32.toWords(rawPublic(privateKey(secret))), false);
}

const chacha = (key: Uint8Array, nonce: Buffer, data: Uint8Array) => {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  return Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
};

function unchacha(key: Uint8Array, nonce: Buffer, sealed: Uint8Array): Buffer {
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  d.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
}

const headerMac = (fileKey: Uint8Array, headerUpToDashes: string) => createHmac('sha256', hkdf32(fileKey, Buffer.alloc(0), 'header')).update(headerUpToDashes).digest();

const untweaked = (shared: Buffer) => shared;

/**
 * The ephemeral-static X25519 wrap of the X25519 and ssh-ed25519 types: the file key sealed with
 * HKDF(shared, share ‖ theirs, info), where `tweak` may transform the shared secret (ssh-ed25519).
 */
export function sealX25519(theirs: Buffer, fileKey: Buffer, info: string, tweak = untweaked, theirKey: KeyObject = publicKey(theirs)): { share: Buffer; body: Buffer } {
  // Generated as DER and re-imported (see nodeKeyPair in ssh/keys.ts: a generated KeyObject can deadlock Node 20).
  const pair = generateKeyPairSync('x25519', { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
  const share = pair.publicKey.subarray(SPKI.length);
  const shared = tweak(x25519(createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }), theirKey));
  return { share, body: chacha(hkdf32(shared, Buffer.concat([share, theirs]), info), ZERO_NONCE, fileKey) };
}

/** What sealX25519 sealed to `ours` (the public key of `mine`); undefined when it does not open. */
export function openX25519(mine: KeyObject, ours: Buffer, share: Buffer, body: Buffer, info: string, tweak = untweaked): Buffer | undefined {
  const wrapKey = hkdf32(tweak(x25519(mine, share)), Buffer.concat([share, ours]), info);
  try {
    return unchacha(wrapKey, ZERO_NONCE, body);
  } catch {
    return undefined;
  }
}

export function x25519Wrap(recipient: string): Wrap {
  const theirs = decodeBech32(recipient.trim(), 'age', 'recipient');
  const theirKey = publicKey(theirs);
  return (fileKey) => {
    const { share, body } = sealX25519(theirs, fileKey, X25519_INFO, untweaked, theirKey);
    return { type: 'X25519', args: [b64(share)], body };
  };
}

export function x25519Unwrap(identity: string): Unwrap {
  const mine = privateKey(decodeBech32(identity.trim(), 'age-secret-key-', 'identity'));
  const ours = rawPublic(mine);
  return (s) => {
    if (s.type !== 'X25519' || s.args.length !== 1 || s.body.length !== 32) return undefined;
    const share = unb64(s.args[0]!);
    if (share.length !== 32) throw new Error('invalid X25519 stanza');
    return openX25519(mine, ours, share, s.body, X25519_INFO); // undefined: a stanza for another recipient
  };
}

/** Encrypts to the recipients whose wraps are given. */
export function encryptAge(plain: Uint8Array, wraps: Wrap[]): Buffer {
  const fileKey = randomBytes(16);
  let header = `${VERSION}\n`;
  for (const wrap of wraps) {
    const { type, args, body } = wrap(fileKey);
    // The body wrapped at 64 columns, its last line shorter (empty when the rest is a whole line).
    header += `-> ${[type, ...args].join(' ')}\n${`${b64(body)}\n`.replace(/.{64}/g, '$&\n')}`;
  }
  header += '---';
  header += ` ${b64(headerMac(fileKey, header))}\n`;
  const nonce = randomBytes(16);
  const key = hkdf32(fileKey, nonce, 'payload');
  const chunks = Math.max(1, Math.ceil(plain.length / CHUNK));
  const parts: Buffer[] = [Buffer.from(header), nonce];
  const n = Buffer.alloc(12);
  for (let i = 0; i < chunks; i++) {
    n.writeUIntBE(i, 5, 6);
    n[11] = i === chunks - 1 ? 1 : 0;
    parts.push(chacha(key, n, plain.subarray(i * CHUNK, (i + 1) * CHUNK)));
  }
  return Buffer.concat(parts);
}

/** Encrypts to age1… recipients. */
export const encryptX25519 = (plain: Uint8Array, recipients: string[]): Buffer => encryptAge(plain, recipients.map(x25519Wrap));

/** Thrown when no stanza opens with the identities given (a different key, or a passphrase file). */
export class NoMatchingIdentity extends Error {}

/** Decrypts an age file for the identities whose unwraps are given; throws on a malformed, foreign or altered file. */
export function decryptAge(file: Uint8Array, unwraps: Unwrap[]): Buffer {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const macAt = buf.indexOf('\n--- ');
  const end = macAt < 0 ? -1 : buf.indexOf(0x0a, macAt + 1);
  if (end < 0 || !buf.subarray(0, VERSION.length + 1).equals(Buffer.from(`${VERSION}\n`))) throw new Error('invalid header');
  const text = buf.subarray(0, end).toString('latin1');
  const lines = text.split('\n');
  const stanzas: Stanza[] = [];
  let i = 1;
  while (i < lines.length && lines[i]!.startsWith('-> ')) {
    const [type = '', ...args] = lines[i]!.slice(3).split(' ');
    let body = '';
    for (i++; ; i++) {
      const line = lines[i];
      if (line === undefined || line.length > 64) throw new Error('invalid stanza');
      body += line;
      if (line.length < 64) break;
    }
    i++;
    stanzas.push({ type, args, body: unb64(body) });
  }
  if (i !== lines.length - 1 || !lines[i]!.startsWith('--- ')) throw new Error('invalid header');
  if (stanzas.some((s) => s.type === 'scrypt')) throw new NoMatchingIdentity('passphrase-encrypted file');
  let fileKey: Buffer | undefined;
  for (const unwrap of unwraps) {
    for (const s of stanzas) {
      fileKey = unwrap(s);
      if (fileKey) break;
    }
    if (fileKey) break;
  }
  if (!fileKey) throw new NoMatchingIdentity("no identity matched any of the file's recipients");
  const headerText = text.slice(0, text.lastIndexOf('\n--- ') + 4);
  if (!headerMac(fileKey, headerText).equals(unb64(lines[i]!.slice(4)))) throw new Error('invalid header HMAC');
  const payload = buf.subarray(end + 1);
  if (payload.length < 16 + TAG) throw new Error('payload is too small');
  const key = hkdf32(fileKey, payload.subarray(0, 16), 'payload');
  const body = payload.subarray(16);
  const chunks = Math.ceil(body.length / (CHUNK + TAG));
  const out: Buffer[] = [];
  const n = Buffer.alloc(12);
  for (let c = 0; c < chunks; c++) {
    const sealed = body.subarray(c * (CHUNK + TAG), (c + 1) * (CHUNK + TAG));
    if (sealed.length < TAG || (sealed.length === TAG && chunks > 1)) throw new Error('invalid chunk');
    n.writeUIntBE(c, 5, 6);
    n[11] = c === chunks - 1 ? 1 : 0;
    out.push(unchacha(key, n, sealed)); // fails when a chunk was altered, reordered or the file cut
  }
  return Buffer.concat(out);
}

/** Decrypts an age file for AGE-SECRET-KEY-1… identities. */
export const decryptX25519 = (file: Uint8Array, identities: string[]): Buffer => decryptAge(file, identities.map(x25519Unwrap));
