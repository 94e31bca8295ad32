import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { bech32 } from '@scure/base';

/**
 * age v1 (age-encryption.org/v1) for X25519 recipients on Node's native crypto: X25519, HKDF-SHA256,
 * HMAC-SHA256 and ChaCha20-Poly1305. The file vault opens and writes through this on every command,
 * so it is the hot path; age-encryption (pure JS, web streams) stays for passphrase (scrypt) files.
 * Interoperability is tested against the `age` tool and age-encryption.
 */
const VERSION = 'age-encryption.org/v1';
const X25519_INFO = 'age-encryption.org/v1/X25519';
const CHUNK = 64 * 1024;
const TAG = 16;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/=+$/, '');
const unb64 = (s: string) => {
  if (!/^[A-Za-z0-9+/]*$/.test(s)) throw new Error('invalid base64 in header');
  return Buffer.from(s, 'base64');
};

// DER prefixes of an X25519 PKCS#8 private key and SPKI public key, followed by the 32 raw bytes.
const PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI = Buffer.from('302a300506032b656e032100', 'hex');

const privateKey = (raw: Uint8Array) => createPrivateKey({ key: Buffer.concat([PKCS8, raw]), format: 'der', type: 'pkcs8' });
const publicKey = (raw: Uint8Array) => createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' });
const rawPublic = (key: KeyObject) => createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI.length);

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

const headerMac = (fileKey: Uint8Array, headerUpToDashes: string) =>
  createHmac('sha256', Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32))).update(headerUpToDashes).digest();

/** Encrypts to age1… recipients. */
export function encryptX25519(plain: Uint8Array, recipients: string[]): Buffer {
  const fileKey = randomBytes(16);
  let header = `${VERSION}\n`;
  for (const r of recipients) {
    const theirs = decodeBech32(r.trim(), 'age', 'recipient');
    // Generated as DER and re-imported (see nodeKeyPair in ssh/keys.ts: a generated KeyObject can deadlock Node 20).
    const pair = generateKeyPairSync('x25519', { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
    const ephemeral = createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' });
    const share = pair.publicKey.subarray(SPKI.length);
    const shared = diffieHellman({ privateKey: ephemeral, publicKey: publicKey(theirs) });
    const wrapKey = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([share, theirs]), X25519_INFO, 32));
    header += `-> X25519 ${b64(share)}\n${b64(chacha(wrapKey, Buffer.alloc(12), fileKey))}\n`;
  }
  header += '---';
  header += ` ${b64(headerMac(fileKey, header))}\n`;
  const nonce = randomBytes(16);
  const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
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

/** Thrown when no X25519 stanza opens with the identities given (a different key, or a passphrase file). */
export class NoMatchingIdentity extends Error {}

/** Decrypts an age file for X25519 identities; throws on a malformed, foreign or altered file. */
export function decryptX25519(file: Uint8Array, identities: string[]): Buffer {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const macAt = buf.indexOf('\n--- ');
  const end = macAt < 0 ? -1 : buf.indexOf(0x0a, macAt + 1);
  if (end < 0 || !buf.subarray(0, VERSION.length + 1).equals(Buffer.from(`${VERSION}\n`))) throw new Error('invalid header');
  const text = buf.subarray(0, end).toString('latin1');
  const lines = text.split('\n');
  const stanzas: Array<{ args: string[]; body: Buffer }> = [];
  let i = 1;
  while (i < lines.length && lines[i]!.startsWith('-> ')) {
    const args = lines[i]!.slice(3).split(' ');
    let body = '';
    for (i++; ; i++) {
      const line = lines[i];
      if (line === undefined || line.length > 64) throw new Error('invalid stanza');
      body += line;
      if (line.length < 64) break;
    }
    i++;
    stanzas.push({ args, body: unb64(body) });
  }
  if (i !== lines.length - 1 || !lines[i]!.startsWith('--- ')) throw new Error('invalid header');
  if (stanzas.some((s) => s.args[0] === 'scrypt')) throw new NoMatchingIdentity('passphrase-encrypted file');
  let fileKey: Buffer | undefined;
  for (const identity of identities) {
    const mine = privateKey(decodeBech32(identity.trim(), 'age-secret-key-', 'identity'));
    const ours = rawPublic(mine);
    for (const s of stanzas) {
      if (s.args[0] !== 'X25519' || s.args.length !== 2 || s.body.length !== 32) continue;
      const share = unb64(s.args[1]!);
      if (share.length !== 32) throw new Error('invalid X25519 stanza');
      const shared = diffieHellman({ privateKey: mine, publicKey: publicKey(share) });
      const wrapKey = Buffer.from(hkdfSync('sha256', shared, Buffer.concat([share, ours]), X25519_INFO, 32));
      try {
        fileKey = unchacha(wrapKey, Buffer.alloc(12), s.body);
        break;
      } catch {
        /* a stanza for another recipient */
      }
    }
    if (fileKey) break;
  }
  if (!fileKey) throw new NoMatchingIdentity("no identity matched any of the file's recipients");
  const headerText = text.slice(0, text.lastIndexOf('\n--- ') + 4);
  if (!headerMac(fileKey, headerText).equals(unb64(lines[i]!.slice(4)))) throw new Error('invalid header HMAC');
  const payload = buf.subarray(end + 1);
  if (payload.length < 16 + TAG) throw new Error('payload is too small');
  const key = Buffer.from(hkdfSync('sha256', fileKey, payload.subarray(0, 16), 'payload', 32));
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
