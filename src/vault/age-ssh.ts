import { constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { isKeyTypeName, parseKeyBlob, type PublicKey } from '../ssh/public-key.js';
import { decodeBase64Strict, Reader } from '../ssh/wire.js';
import { b64, hkdf32, openX25519, privateKey, publicKey, rawPublic, sealX25519, unb64, x25519, type Unwrap, type Wrap } from './x25519-age.js';

/**
 * age's ssh-ed25519 and ssh-rsa recipient types, for existing SSH keys (agessh in the age repository
 * is the reference). They are not anonymous: each stanza names its key by a 4-byte tag. The OpenSSH
 * private key reader (ssh/keys.ts, with bcrypt_pbkdf) is imported only when an SSH identity is used.
 */
export type SshKind = 'ssh-ed25519' | 'ssh-rsa';

const ED25519_INFO = 'age-encryption.org/v1/ssh-ed25519';
const RSA_OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('age-encryption.org/v1/ssh-rsa') };
const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';

/** Whether an identity is an OpenSSH private key (else it is an AGE-SECRET-KEY-1…). */
export const isSshIdentity = (identity: string) => identity.trimStart().startsWith(BEGIN);

/** A stanza's first argument: the first 4 bytes of SHA-256 of the key's SSH wire encoding. */
const tagOf = (blob: Buffer) => b64(createHash('sha256').update(blob).digest().subarray(0, 4));

/** ssh-ed25519 multiplies the X25519 shared secret by a scalar bound to the SSH key: HKDF(ikm = empty, salt = wire key). */
function tweakOf(blob: Buffer): (shared: Buffer) => Buffer {
  const tweak = privateKey(hkdf32(Buffer.alloc(0), blob, ED25519_INFO));
  return (shared) => x25519(tweak, shared);
}

const P = 2n ** 255n - 19n;
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n; // -121665/121666
function power(base: bigint, exp: bigint): bigint {
  let r = 1n;
  for (let b = base % P, e = exp; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) r = (r * b) % P;
  return r;
}
const inverse = (v: bigint) => power(v, P - 2n);
const fromLE = (b: Buffer) => BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
const toLE = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex').reverse();
const base64url = (v: bigint) => Buffer.from(v.toString(16).padStart(2 * Math.ceil(v.toString(16).length / 2), '0'), 'hex').toString('base64url');
let probe: KeyObject | undefined;

/**
 * The X25519 public key of an Ed25519 one, u = (1 + y) / (1 − y), refused as age refuses it: a point
 * not on the curve (x² = (y² − 1) / (d·y² + 1) must be a square; like edwards25519, y ≥ p is reduced)
 * or of small order (X25519 with it gives zero).
 */
function montgomeryOf(ed25519: Buffer): Buffer {
  const y = (fromLE(ed25519) & ((1n << 255n) - 1n)) % P;
  const y2 = (y * y) % P;
  const x2 = ((y2 - 1n + P) * inverse((D * y2 + 1n) % P)) % P;
  if (x2 !== 0n && power(x2, (P - 1n) / 2n) !== 1n) throw new Error('the key is not a point of the curve');
  const u = toLE(((1n + y) * inverse((1n - y + P) % P)) % P);
  try {
    x25519((probe ??= privateKey(Buffer.alloc(32, 1))), u);
  } catch {
    throw new Error('the key is a point of small order');
  }
  return u;
}

/** Parses `ssh-ed25519 AAAA… [comment]` or `ssh-rsa AAAA… [comment]`; a plain one-line Error says why a line is not one. */
export function sshRecipient(line: string): { kind: SshKind; wrap: Wrap } {
  const [type = '', token = ''] = line.trim().split(/[ \t]+/);
  if (type !== 'ssh-ed25519' && type !== 'ssh-rsa') {
    throw new Error(`unsupported recipient type ${isKeyTypeName(type) ? type : JSON.stringify(type.slice(0, 40))} (age takes age1…, ssh-ed25519 and ssh-rsa keys)`);
  }
  try {
    const key = parseKeyBlob(decodeBase64Strict(token));
    if (key.algorithm !== type) throw new Error(`the line says ${type}, the key is ${key.algorithm}`);
    const tag = tagOf(key.blob);
    if (type === 'ssh-ed25519') {
      const theirs = montgomeryOf(key.ed25519!);
      const theirKey = publicKey(theirs);
      const tweak = tweakOf(key.blob);
      return {
        kind: type,
        wrap: (fileKey) => {
          const { share, body } = sealX25519(theirs, fileKey, ED25519_INFO, tweak, theirKey);
          return { type, args: [tag, b64(share)], body };
        },
      };
    }
    const { n, e } = key.rsa!;
    if (n.length < 256) throw new Error(`an RSA key of ${key.bits} bits is too small (age takes 2048 bits and up)`);
    const rsa = createPublicKey({ key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') }, format: 'jwk' });
    return { kind: type, wrap: (fileKey) => ({ type, args: [tag], body: publicEncrypt({ key: rsa, ...RSA_OAEP }, fileKey) }) };
  } catch (err) {
    throw new Error(`invalid ${type} recipient (${(err as Error).message})`);
  }
}

/** An OpenSSH ed25519 or RSA private key read by ssh/keys.ts: its public key and line, and its private section when unencrypted. */
async function readSshIdentity(text: string): Promise<{ publicKey: PublicKey; line: string; section?: Reader }> {
  if (!isSshIdentity(text)) throw new Error('not an OpenSSH private key');
  const keys = await import('../ssh/keys.js');
  const { publicKey, encrypted } = await keys.readPrivateKey(text, 'the SSH identity');
  const { algorithm } = publicKey!;
  if (algorithm !== 'ssh-ed25519' && algorithm !== 'ssh-rsa') throw new Error(`unsupported SSH identity type ${algorithm} (age takes ssh-ed25519 and ssh-rsa keys)`);
  const line = keys.publicKeyLine(publicKey!);
  if (encrypted) return { publicKey: publicKey!, line };
  const section = new Reader(keys.readOpenSshContainer(text)!.body, 'the SSH identity');
  section.uint32(); // check bytes and key type, which readPrivateKey checked
  section.uint32();
  section.cstring();
  return { publicKey: publicKey!, line, section };
}

/** `ssh-ed25519 AAAA… comment` of an OpenSSH private key, as `ssh-keygen -y` prints it (no comment for a passphrase-protected key). */
export async function sshPublicLine(identity: string): Promise<string> {
  return (await readSshIdentity(identity)).line;
}

/** The unwrap of an unencrypted OpenSSH ed25519 or RSA private key; plain Errors say why it cannot be one. */
export async function sshUnwrap(identity: string): Promise<Unwrap> {
  const { publicKey, section: r } = await readSshIdentity(identity);
  if (!r) throw new Error('the SSH identity is protected by a passphrase: age needs the key unencrypted');
  const tag = tagOf(publicKey.blob);
  if (publicKey.algorithm === 'ssh-ed25519') {
    r.string(); // the public key again
    const secret = r.string(); // seed ‖ public key
    if (secret.length !== 64) throw new Error('the SSH identity: an ed25519 private key is 64 bytes');
    const mine = privateKey(createHash('sha512').update(secret.subarray(0, 32)).digest().subarray(0, 32));
    const ours = rawPublic(mine);
    const tweak = tweakOf(publicKey.blob);
    return (s) => {
      if (s.type !== 'ssh-ed25519') return undefined;
      const share = s.args.length === 2 ? unb64(s.args[1]!) : undefined;
      if (share?.length !== 32) throw new Error('invalid ssh-ed25519 stanza');
      if (s.args[0] !== tag) return undefined;
      const fileKey = openX25519(mine, ours, share, s.body, ED25519_INFO, tweak);
      if (!fileKey) throw new Error('the ssh-ed25519 stanza for this key does not open');
      return fileKey;
    };
  }
  // n, e, d, q⁻¹ mod p, p, q; a JWK wants d mod (p − 1) and d mod (q − 1) as well.
  const int = () => BigInt(`0x${r.mpint().toString('hex') || '0'}`);
  const [n, e, d, qi, p, q] = [int(), int(), int(), int(), int(), int()];
  const jwk = { n, e, d, p, q, qi, dp: d % (p - 1n), dq: d % (q - 1n) };
  const rsa = createPrivateKey({ key: { kty: 'RSA', ...Object.fromEntries(Object.entries(jwk).map(([k, v]) => [k, base64url(v)])) }, format: 'jwk' });
  return (s) => {
    if (s.type !== 'ssh-rsa') return undefined;
    if (s.args.length !== 1) throw new Error('invalid ssh-rsa stanza');
    if (s.args[0] !== tag) return undefined;
    try {
      return privateDecrypt({ key: rsa, ...RSA_OAEP }, s.body);
    } catch {
      throw new Error('the ssh-rsa stanza for this key does not open');
    }
  };
}
