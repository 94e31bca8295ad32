import { createHash } from 'node:crypto';
import { BLOWFISH_P, BLOWFISH_S } from './blowfish-pi.js';

const P0 = Int32Array.from(BLOWFISH_P);
const S0 = Int32Array.from(BLOWFISH_S);
/** "OxychromaticBlowfishSwatDynamite" as big-endian words. */
const MAGIC = Int32Array.from(Buffer.from('OxychromaticBlowfishSwatDynamite').reduce<number[]>((w, b, i) => {
  if (i % 4 === 0) w.push(0);
  w[w.length - 1] = (w[w.length - 1]! << 8) | b;
  return w;
}, []));

/** 64 bytes (a SHA-512 digest) as 16 big-endian words: what Blowfish's stream2word cycles through. */
function words(digest: Buffer): Int32Array {
  const w = new Int32Array(16);
  for (let i = 0; i < 16; i++) w[i] = digest.readInt32BE(i * 4);
  return w;
}

/**
 * OpenBSD's bcrypt_hash (eksblowfish with 64 rounds of key expansion): one Int32Array of state and
 * the Feistel rounds written out, so V8 keeps everything in 32-bit registers. This is where
 * bcrypt_pbkdf spends all its time.
 */
function bcryptHash(pass: Int32Array, salt: Int32Array, out: Uint8Array): void {
  const P = P0.slice();
  const S = S0.slice();
  let l = 0;
  let r = 0;
  const encipher = () => {
    l ^= P[0]!;
    for (let i = 1; i < 16; i += 2) {
      r ^= ((((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) | 0) ^ P[i]!;
      l ^= ((((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) | 0) ^ P[i + 1]!;
    }
    const t = l;
    l = r ^ P[17]!;
    r = t;
  };
  // expandstate(salt, pass): the key (pass) into P, the data (salt) mixed into every block.
  for (let i = 0; i < 18; i++) P[i]! ^= pass[i & 15]!;
  let j = 0;
  for (let i = 0; i < 18; i += 2) {
    l ^= salt[j++ & 15]!;
    r ^= salt[j++ & 15]!;
    encipher();
    P[i] = l;
    P[i + 1] = r;
  }
  for (let i = 0; i < 1024; i += 2) {
    l ^= salt[j++ & 15]!;
    r ^= salt[j++ & 15]!;
    encipher();
    S[i] = l;
    S[i + 1] = r;
  }
  // 64 × (expand0state(salt); expand0state(pass)).
  for (let round = 0; round < 128; round++) {
    const key = round & 1 ? pass : salt;
    for (let i = 0; i < 18; i++) P[i]! ^= key[i & 15]!;
    l = 0;
    r = 0;
    for (let i = 0; i < 18; i += 2) {
      encipher();
      P[i] = l;
      P[i + 1] = r;
    }
    for (let i = 0; i < 1024; i += 2) {
      encipher();
      S[i] = l;
      S[i + 1] = r;
    }
  }
  const c = MAGIC.slice();
  for (let n = 0; n < 64; n++) {
    for (let b = 0; b < 8; b += 2) {
      l = c[b]!;
      r = c[b + 1]!;
      encipher();
      c[b] = l;
      c[b + 1] = r;
    }
  }
  for (let i = 0; i < 8; i++) {
    out[4 * i] = c[i]! & 0xff;
    out[4 * i + 1] = (c[i]! >>> 8) & 0xff;
    out[4 * i + 2] = (c[i]! >>> 16) & 0xff;
    out[4 * i + 3] = c[i]! >>> 24;
  }
}

const sha512 = (data: Uint8Array) => createHash('sha512').update(data).digest();

/**
 * bcrypt_pbkdf, as OpenSSH derives the key and IV of an encrypted private key. Checked against the
 * reference port and against ssh-keygen, which reads the keys it protects.
 */
export function bcryptPbkdf(passphrase: Uint8Array, salt: Uint8Array, keyLength: number, rounds: number): Buffer {
  if (rounds < 1 || passphrase.length === 0 || salt.length === 0 || keyLength < 1 || keyLength > 1024) throw new Error('bcrypt_pbkdf: bad parameters');
  const stride = Math.ceil(keyLength / 32);
  const amount = Math.ceil(keyLength / stride);
  const key = Buffer.alloc(keyLength);
  const pass = words(sha512(passphrase));
  const countSalt = Buffer.alloc(salt.length + 4);
  countSalt.set(salt);
  const out = new Uint8Array(32);
  const tmp = new Uint8Array(32);
  for (let count = 1, left = keyLength; left > 0; count++) {
    countSalt.writeUInt32BE(count, salt.length);
    bcryptHash(pass, words(sha512(countSalt)), tmp);
    out.set(tmp);
    for (let i = 1; i < rounds; i++) {
      bcryptHash(pass, words(sha512(tmp)), tmp);
      for (let k = 0; k < 32; k++) out[k]! ^= tmp[k]!;
    }
    let i = 0;
    for (; i < Math.min(amount, left); i++) {
      const dest = i * stride + (count - 1);
      if (dest >= keyLength) break;
      key[dest] = out[i]!;
    }
    left -= i;
  }
  return key;
}
