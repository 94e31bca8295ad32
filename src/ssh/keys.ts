import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import { AuthError, invalidOption, UsageError } from '../errors.js';
import { bcryptPbkdfParallel } from './bcrypt-pbkdf.js';
import { isKeyTypeName, keyTypeName, parseKeyBlob, sameKeyType, type PublicKey } from './public-key.js';
import { decodeBase64Strict, Reader, Writer } from './wire.js';

export { keyTypeName, type PublicKey };

export type KeyType = 'ed25519' | 'ecdsa' | 'rsa';

export interface GeneratedKey {
  privateKey: string;
  publicKey: PublicKey;
}

const CURVES: Record<number, { name: string; jwk: string; bytes: number }> = {
  256: { name: 'nistp256', jwk: 'P-256', bytes: 32 },
  384: { name: 'nistp384', jwk: 'P-384', bytes: 48 },
  521: { name: 'nistp521', jwk: 'P-521', bytes: 66 },
};

const b64u = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');
const pad = (b: Buffer, n: number) => (b.length >= n ? b : Buffer.concat([Buffer.alloc(n - b.length), b]));

/** The public blob and OpenSSH private fields of a node key, from its JWK. */
function fromJwk(jwk: JsonWebKey): { algorithm: string; bits: number; pub: Writer; priv: (w: Writer) => void } {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') {
    const x = b64u(jwk.x);
    return {
      algorithm: 'ssh-ed25519',
      bits: 256,
      pub: new Writer().string('ssh-ed25519').string(x),
      priv: (w) => w.string(x).string(Buffer.concat([b64u(jwk.d), x])),
    };
  }
  if (jwk.kty === 'EC') {
    const curve = Object.entries(CURVES).find(([, c]) => c.jwk === jwk.crv);
    if (!curve) throw new UsageError(`unsupported curve ${jwk.crv}`);
    const [bits, c] = curve;
    const algorithm = `ecdsa-sha2-${c.name}`;
    const q = Buffer.concat([Buffer.from([4]), pad(b64u(jwk.x), c.bytes), pad(b64u(jwk.y), c.bytes)]);
    return {
      algorithm,
      bits: Number(bits),
      pub: new Writer().string(algorithm).string(c.name).string(q),
      priv: (w) => w.string(c.name).string(q).mpint(b64u(jwk.d)),
    };
  }
  if (jwk.kty === 'RSA') {
    const n = b64u(jwk.n);
    let bits = n.length * 8;
    for (let top = n[0]!; top < 0x80 && bits > 0; top <<= 1) bits--;
    return {
      algorithm: 'ssh-rsa',
      bits,
      pub: new Writer().string('ssh-rsa').mpint(b64u(jwk.e)).mpint(n),
      priv: (w) => w.mpint(n).mpint(b64u(jwk.e)).mpint(b64u(jwk.d)).mpint(b64u(jwk.qi)).mpint(b64u(jwk.p)).mpint(b64u(jwk.q)),
    };
  }
  throw new UsageError(`unsupported key type ${jwk.kty}`, undefined, 'ERR_SSH_KEY_TYPE');
}

export interface KeygenOptions {
  type: KeyType;
  bits?: number;
  comment: string;
  passphrase?: string;
  /** bcrypt_pbkdf rounds for a passphrase (ssh-keygen -a). */
  rounds?: number;
}

/** Checks type and size the way ssh-keygen does, with RSA at least 3072 bits. */
export function keySize(type: KeyType, bits: number | undefined): number {
  if (type === 'ed25519') {
    if (bits !== undefined && bits !== 256) throw invalidOption('bits', 'ed25519 keys are always 256 bits', { allowed: [256] });
    return 256;
  }
  if (type === 'ecdsa') {
    const b = bits ?? 256;
    if (!CURVES[b]) throw invalidOption('bits', 'ecdsa keys are 256, 384 or 521 bits', { allowed: Object.keys(CURVES).map(Number) });
    return b;
  }
  const b = bits ?? 3072;
  if (!Number.isInteger(b) || b < 3072 || b > 16384) throw invalidOption('bits', 'rsa keys are 3072 to 16384 bits (smaller ones are no longer safe)', { min: 3072, max: 16384 });
  return b;
}

/**
 * A fresh private key. It comes back as DER and is re-imported: exporting the generated KeyObject
 * itself as JWK can deadlock Node 20 when a GC finalises the key-generation job mid-export (seen
 * with RSA 4096 here).
 */
function nodeKeyPair(type: KeyType, bits: number): KeyObject {
  const pub = { type: 'spki', format: 'der' } as const;
  const priv = { type: 'pkcs8', format: 'der' } as const;
  let der: Buffer;
  if (type === 'ed25519') der = generateKeyPairSync('ed25519', { publicKeyEncoding: pub, privateKeyEncoding: priv }).privateKey;
  else if (type === 'ecdsa') der = generateKeyPairSync('ec', { namedCurve: CURVES[bits]!.jwk, publicKeyEncoding: pub, privateKeyEncoding: priv }).privateKey;
  else der = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 65537, publicKeyEncoding: pub, privateKeyEncoding: priv }).privateKey;
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

const MAGIC = Buffer.from('openssh-key-v1\0');
const CIPHER = 'aes256-ctr';

type Kdf = (passphrase: string, salt: Buffer, rounds: number) => Promise<Buffer>;

/** bcrypt_pbkdf as OpenSSH uses it for aes256-ctr: 32 bytes of key, 16 of IV. */
/** aes256-ctr's key and IV are 48 bytes: two independent bcrypt_pbkdf blocks, on two threads when that pays (16+ rounds, 2+ cores). */
export const bcryptKdf: Kdf = (passphrase, salt, rounds) => bcryptPbkdfParallel(Buffer.from(passphrase), salt, 48, rounds);

/** An OpenSSH private key file ("openssh-key-v1"), encrypted like ssh-keygen when given a passphrase. */
async function encodePrivate(key: KeyObject, comment: string, passphrase: string | undefined, rounds: number, kdf: Kdf): Promise<{ pem: string; publicKey: PublicKey }> {
  const { algorithm, bits, pub, priv } = fromJwk(key.export({ format: 'jwk' }));
  const blob = pub.bytes();
  const check = randomBytes(4).readUInt32BE();
  const section = new Writer().uint32(check).uint32(check).string(algorithm);
  priv(section);
  section.string(comment);
  const block = passphrase ? 16 : 8;
  for (let i = 1; section.length % block !== 0; i++) section.raw(Buffer.from([i]));
  let body = section.bytes();
  const out = new Writer().raw(MAGIC);
  if (passphrase) {
    const salt = randomBytes(16);
    const keyIv = await kdf(passphrase, salt, rounds);
    const cipher = createCipheriv('aes-256-ctr', keyIv.subarray(0, 32), keyIv.subarray(32, 48));
    body = Buffer.concat([cipher.update(body), cipher.final()]);
    out.string(CIPHER).string('bcrypt').string(new Writer().string(salt).uint32(rounds).bytes());
  } else out.string('none').string('none').string('');
  out.uint32(1).string(blob).string(body);
  const b64 = out.bytes().toString('base64').replace(/.{70}/g, '$&\n');
  return {
    pem: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: { algorithm, blob, bits, comment },
  };
}

/** A private key as an unencrypted OpenSSH key file (for the vault, which encrypts it). */
export async function unencryptedPem(key: KeyObject, comment: string): Promise<{ pem: string; publicKey: PublicKey }> {
  return encodePrivate(key, comment, undefined, 0, bcryptKdf);
}

/**
 * A new key pair in OpenSSH's formats, made with Node's crypto (no SSH library is loaded).
 * @example const { privateKey, publicKey } = await generateKey({ type: 'ed25519', comment: 'me@laptop' })
 */
export async function generateKey(options: KeygenOptions, kdf: Kdf = bcryptKdf): Promise<GeneratedKey> {
  const bits = keySize(options.type, options.bits);
  const rounds = options.rounds ?? 16;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) throw invalidOption('rounds', 'a whole number from 1 to 1000', { min: 1, max: 1000 });
  const { pem, publicKey } = await encodePrivate(nodeKeyPair(options.type, bits), options.comment, options.passphrase || undefined, rounds, kdf);
  return { privateKey: pem, publicKey };
}

/** `ssh-ed25519 AAAA… comment` (a certificate's line for a certificate). */
export function publicKeyLine(key: PublicKey): string {
  const blob = key.certificate?.blob ?? key.blob;
  return `${key.algorithm} ${blob.toString('base64')}${key.comment ? ` ${key.comment}` : ''}`;
}

/**
 * Reads a public key or certificate blob as strictly as OpenSSH's sshkey_from_blob: the type, size
 * and fingerprint blob (the key as OpenSSH encodes it). Throws a plain Error when it is malformed.
 */
export function describeBlob(blob: Buffer, comment = ''): PublicKey {
  const { algorithm, blob: plain, bits, certificate } = parseKeyBlob(blob);
  return { algorithm, blob: plain, bits, comment, ...(certificate ? { certificate } : {}) };
}

/**
 * Reads `type base64 [comment]` at the start of `line` as sshkey_read does: a known type name,
 * strict base64 up to the next space or tab, a blob of that same type. Undefined when it is not a
 * key; `rest` is what follows the blob, from its first non-blank character.
 */
export function readKeyAt(line: string): { key: PublicKey; rest: string } | { error: string } {
  const space = line.search(/[ \t]/);
  if (space < 0) return { error: 'expected "type base64 [comment]"' };
  const type = line.slice(0, space);
  if (!isKeyTypeName(type)) return { error: `unknown key type ${JSON.stringify(type.slice(0, 40))}` };
  const from = space + /^[ \t]*/.exec(line.slice(space))![0].length;
  if (from === line.length) return { error: 'no key after the type' };
  const end = line.slice(from).search(/[ \t]/);
  const token = end < 0 ? line.slice(from) : line.slice(from, from + end);
  try {
    const key = describeBlob(decodeBase64Strict(token));
    if (!sameKeyType(type, key)) return { error: `the line says ${type}, the key is ${key.algorithm}` };
    return { key, rest: end < 0 ? '' : line.slice(from + end).replace(/^[ \t]+/, '') };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Parses `type base64 [comment]` (an authorized_keys line without options, or a .pub file). */
export function parsePublicKeyLine(line: string, where: string): PublicKey {
  const got = readKeyAt(line.trim());
  if ('error' in got) throw new UsageError(`${where}: not an OpenSSH public key (${got.error})`, undefined, 'ERR_SSH_BAD_KEY');
  return { ...got.key, comment: got.rest.trim() };
}

export interface PrivateKeyFile {
  /**
   * The public half. Undefined only for an encrypted PEM or PKCS#8 key read without its passphrase:
   * there the public half is encrypted too (an OpenSSH key carries it in the clear).
   */
  publicKey: PublicKey | undefined;
  encrypted: boolean;
  /** PEM as read, for the SSH client. */
  pem: string;
  /**
   * The private key itself, when it was opened (not encrypted, or its passphrase given) and node
   * can sign with its type. A function: reading a file (for its fingerprint, say) never builds it,
   * and a damaged private half throws only here.
   */
  privateKey?: () => KeyObject;
}

/** The outer, unencrypted part of an OpenSSH private key (sshkey_parse_private2). */
interface OpenSshContainer {
  cipher: string;
  kdfName: string;
  kdfOptions: Buffer;
  publicKey: PublicKey;
  body: Buffer;
}

const OPENSSH_PEM = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/;
const OTHER_PEM = /-----BEGIN (RSA |EC |DSA |ENCRYPTED |)PRIVATE KEY-----/;

/** Reads an OpenSSH private key's container; undefined when the text holds none. Throws plain Errors. */
export function readOpenSshContainer(text: string): OpenSshContainer | undefined {
  const m = OPENSSH_PEM.exec(text);
  if (!m) return undefined;
  const buf = decodeBase64Strict(m[1]!);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('bad magic');
  const r = new Reader(buf.subarray(MAGIC.length), 'the key file');
  const cipher = r.cstring();
  const kdfName = r.cstring();
  const kdfOptions = r.string();
  if (r.uint32() !== 1) throw new Error('more than one key');
  const publicKey = describeBlob(r.string());
  const body = r.string();
  r.end();
  return { cipher, kdfName, kdfOptions, publicKey, body };
}

/** The public key of a node KeyObject (Ed25519, ECDSA, RSA, DSA), checked as OpenSSH checks a blob. */
export function publicOf(key: KeyObject): PublicKey {
  let blob: Buffer;
  if (key.asymmetricKeyType === 'dsa') {
    // SubjectPublicKeyInfo { { OID, { p, q, g } }, BIT STRING { y } }: JWK has no DSA.
    const [spki] = der(key.export({ type: 'spki', format: 'der' }));
    const [alg, bits] = der(spki!.body);
    const [p, q, g] = der(der(alg!.body)[1]!.body).map((x) => x.body);
    const [y] = der(bits!.body.subarray(1));
    blob = new Writer().string('ssh-dss').mpint(p!).mpint(q!).mpint(g!).mpint(y!.body).bytes();
  } else blob = fromJwk(key.export({ format: 'jwk' })).pub.bytes();
  return describeBlob(blob);
}

/** The elements of a DER constructed value (enough for an SPKI). */
function der(buf: Buffer): Array<{ tag: number; body: Buffer }> {
  const out = [];
  for (let i = 0; i < buf.length; ) {
    const tag = buf[i++]!;
    let len = buf[i++]!;
    if (len & 0x80) for (let n = len & 0x7f, k = (len = 0); k < n; k++) len = len * 256 + buf[i++]!;
    out.push({ tag, body: buf.subarray(i, i + len) });
    i += len;
  }
  return out;
}

/**
 * Reads a private key file: OpenSSH format (its public half is readable without the passphrase),
 * or PEM / PKCS#8, encrypted ones (legacy `Proc-Type: 4,ENCRYPTED` and `ENCRYPTED PRIVATE KEY`) with
 * their passphrase. An unencrypted key whose check bytes differ is damaged (ERR_SSH_KEY_DAMAGED,
 * exit 2); an encrypted one that does not open is a wrong passphrase (AuthError, exit 4).
 * @example const { publicKey } = await readPrivateKey(pem, '~/.ssh/id_ed25519')
 */
export async function readPrivateKey(text: string, where: string, passphrase?: string, kdf: Kdf = bcryptKdf): Promise<PrivateKeyFile> {
  const bad = (why: string) => new UsageError(`${where}: not a usable private key (${why})`, undefined, 'ERR_SSH_BAD_KEY');
  const wrong = () => new AuthError(`wrong passphrase for ${where}`, undefined, 'ERR_SSH_PASSPHRASE');
  let container: OpenSshContainer | undefined;
  try {
    container = readOpenSshContainer(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (!container) {
    if (!OTHER_PEM.test(text)) throw bad('no private key found');
    const encrypted = /^Proc-Type:\s*4,ENCRYPTED/m.test(text) || text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    if (encrypted && passphrase === undefined) return { publicKey: undefined, encrypted, pem: text };
    let key: KeyObject;
    try {
      key = createPrivateKey(encrypted ? { key: text, format: 'pem', passphrase: passphrase! } : text);
    } catch (err) {
      // OpenSSL cannot tell a wrong passphrase from a damaged encrypted body: both fail to decrypt.
      throw encrypted ? wrong() : bad((err as Error).message);
    }
    try {
      return { publicKey: publicOf(createPublicKey(key)), encrypted, pem: text, privateKey: () => key };
    } catch (err) {
      throw bad((err as Error).message);
    }
  }
  const { cipher, kdfName, kdfOptions, publicKey, body } = container;
  const encrypted = cipher !== 'none';
  if (encrypted && passphrase === undefined) return { publicKey, encrypted, pem: text };
  try {
    let plain = body;
    if (encrypted) {
      if (kdfName !== 'bcrypt' || cipher !== CIPHER) throw new Error(`cipher ${cipher}/${kdfName} is not supported`);
      const o = new Reader(kdfOptions, 'kdf options');
      const salt = o.string();
      const keyIv = await kdf(passphrase!, salt, o.uint32());
      const d = createDecipheriv('aes-256-ctr', keyIv.subarray(0, 32), keyIv.subarray(32, 48));
      plain = Buffer.concat([d.update(body), d.final()]);
    }
    const p = new Reader(plain, where);
    if (p.uint32() !== p.uint32()) {
      if (encrypted) throw wrong();
      throw new UsageError(`${where}: the key is damaged (its check bytes differ; it is not encrypted, so no passphrase is involved)`, undefined, 'ERR_SSH_KEY_DAMAGED');
    }
    const algorithm = p.cstring();
    if (algorithm !== publicKey.algorithm) throw new Error('the private part does not match the public one');
    const { comment, key } = privateFields(p, algorithm);
    return { publicKey: { ...publicKey, comment }, encrypted, pem: text, ...(key ? { privateKey: key } : {}) };
  } catch (err) {
    if (err instanceof AuthError || err instanceof UsageError) throw err;
    throw bad((err as Error).message);
  }
}

const u = (b: Buffer) => b.toString('base64url');
const unsigned = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b);
const toBig = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
const fromBig = (n: bigint) => Buffer.from(n.toString(16).padStart(2 * Math.ceil(n.toString(16).length / 2), '0'), 'hex');

/** Fields of the private section after the key type, per type: then comes the comment. */
const PRIVATE_FIELDS: Record<string, number> = { 'ssh-ed25519': 2, 'ssh-rsa': 6, 'ssh-dss': 5 };

/**
 * Reads the private fields after the key type (sshkey_private_deserialize), leaving the reader at
 * the comment, and the node KeyObject they make (ed25519, ecdsa, rsa), built when first asked for.
 */
export function privateFields(p: Reader, algorithm: string): { comment: string; key?: () => KeyObject } {
  const count = PRIVATE_FIELDS[algorithm] ?? (algorithm.startsWith('ecdsa-') ? 3 : -1);
  if (count < 0) return { comment: '' };
  const f: Buffer[] = [];
  for (let i = 0; i < count; i++) f.push(p.string());
  const comment = p.text();
  const jwk = (): JsonWebKey => {
    if (algorithm === 'ssh-ed25519') {
      // The secret is seed || public key, and the public key the one stated before it.
      if (f[0]!.length !== 32 || f[1]!.length !== 64 || !f[1]!.subarray(32).equals(f[0]!)) throw new Error('bad ed25519 private key');
      return { kty: 'OKP', crv: 'Ed25519', x: u(f[0]!), d: u(f[1]!.subarray(0, 32)) };
    }
    if (algorithm === 'ssh-rsa') {
      const [n, e, d, qi, pp, q] = f.map(unsigned) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
      const D = toBig(d);
      return { kty: 'RSA', n: u(n), e: u(e), d: u(d), p: u(pp), q: u(q), dp: u(fromBig(D % (toBig(pp) - 1n))), dq: u(fromBig(D % (toBig(q) - 1n))), qi: u(qi) };
    }
    const c = Object.values(CURVES).find((x) => x.name === f[0]!.toString('latin1'));
    const q = f[1]!;
    if (!c || q.length !== 1 + 2 * c.bytes) throw new Error('bad ecdsa private key');
    return { kty: 'EC', crv: c.jwk, x: u(q.subarray(1, 1 + c.bytes)), y: u(q.subarray(1 + c.bytes)), d: u(pad(unsigned(f[2]!), c.bytes)) };
  };
  if (algorithm === 'ssh-dss') return { comment };
  return {
    comment,
    key: () => {
      const key = createPrivateKey({ key: jwk(), format: 'jwk' });
      // node builds the key from its private part: a stated public part that differs is a damaged key.
      if (algorithm === 'ssh-ed25519' && createPublicKey(key).export({ format: 'jwk' }).x !== u(f[0]!)) throw new Error('the ed25519 public key does not match its private key');
      return key;
    },
  };
}

export const fingerprintSha256 = (blob: Buffer) => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
export const fingerprintMd5 = (blob: Buffer) => `MD5:${createHash('md5').update(blob).digest('hex').match(/../g)!.join(':')}`;

/** OpenSSH's "drunken bishop" picture of a SHA-256 fingerprint, as ssh-keygen -lv draws it. */
export function randomArt(key: PublicKey): string {
  const W = 17;
  const H = 9;
  const chars = ' .o+=*BOX@%&#/^SE';
  const len = chars.length - 1;
  const field = Array.from({ length: W }, () => new Array<number>(H).fill(0));
  let x = Math.floor(W / 2);
  let y = Math.floor(H / 2);
  for (const byte of createHash('sha256').update(key.blob).digest()) {
    let input = byte;
    for (let b = 0; b < 4; b++) {
      x = Math.min(Math.max(x + (input & 1 ? 1 : -1), 0), W - 1);
      y = Math.min(Math.max(y + (input & 2 ? 1 : -1), 0), H - 1);
      if (field[x]![y]! < len - 2) field[x]![y]!++;
      input >>= 2;
    }
  }
  field[Math.floor(W / 2)]![Math.floor(H / 2)] = len - 1;
  field[x]![y] = len;
  let title = `[${keyTypeName(key.algorithm)} ${key.bits}]`;
  if (title.length > W) title = `[${keyTypeName(key.algorithm)}]`;
  const border = (label: string) => {
    const left = Math.floor((W - label.length) / 2);
    return `+${'-'.repeat(left)}${label}${'-'.repeat(W - left - label.length)}+`;
  };
  const rows = [];
  for (let j = 0; j < H; j++) rows.push(`|${field.map((col) => chars[Math.min(col[j]!, len)]).join('')}|`);
  return [border(title), ...rows, border('[SHA256]')].join('\n');
}
