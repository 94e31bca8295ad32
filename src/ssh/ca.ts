import { randomBytes } from 'node:crypto';
import { lstat, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NotFoundError, systemError, UsageError } from '../errors.js';
import { readUserFile, writeFileAtomic } from '../fs.js';
import { readOnlyVault } from '../vault/env.js';
import { findSecret } from '../vault/secrets.js';
import type { SecretRecord, Vault } from '../vault/types.js';
import { renderCertificate, signCertificate, type SignCertificateOptions } from './certificates.js';
import { fingerprintSha256, generateKey, publicKeyLine, readKeyAt, readPrivateKey, type KeyType, type PublicKey } from './keys.js';
import { signingKey, type SigningKey } from './sign.js';

/**
 * SSH certificate authorities kept in the vault: record `ssh-ca/<name>`, kind `ssh-ca`, its value
 * the CA's private key as an unencrypted OpenSSH key file (the vault encrypts it), its meta the
 * public facts. In CI the env backend serves one from KEYSMITH_SECRET_SSH_CA_<NAME>, a private
 * key (OpenSSH, PEM or PKCS#8, unencrypted).
 */

/** What is public about a CA. */
export interface SshCa {
  name: string;
  /** `ssh-ed25519 AAAA… comment` */
  publicKey: string;
  fingerprint: string;
  /** ssh-ed25519, ecdsa-sha2-nistp384, ssh-rsa */
  algorithm: string;
  bits: number;
  comment: string;
  /** ISO-8601. */
  created: string;
}

/** The smallest RSA CA keysmith signs with (it makes them of 3072 bits and more). */
const MIN_CA_RSA_BITS = 2048;

export const sshCaRecordName = (name: string) => `ssh-ca/${name}`;
const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateSshCaName(name: string): string {
  if (!CA_NAME.test(name)) throw new UsageError(`invalid CA name ${JSON.stringify(name)}: letters, digits, . _ - (at most 64, starting with a letter or digit)`, undefined, 'ERR_SSH_BAD_NAME');
  return name;
}

export interface CreateSshCaOptions {
  /** ed25519 (default), ecdsa (bits 256, 384 or 521) or rsa (bits ≥ 3072). */
  type?: KeyType;
  bits?: number;
  /** The public key's comment; `keysmith-ca:<name>` unless given. */
  comment?: string;
  /** Replace an existing CA of that name: certificates it signed are then trusted nowhere it is replaced. */
  force?: boolean;
  now: Date;
}

/**
 * Makes a CA key and keeps it in the vault. Refuses a CA name in use (ERR_SSH_CA_EXISTS) unless
 * `force`, and a read-only vault before any key is made.
 * @example const ca = await createSshCa(vault, 'users', { now: new Date() }); ca.publicKey // 'ssh-ed25519 AAAA… keysmith-ca:users'
 */
export async function createSshCa(vault: Vault, name: string, options: CreateSshCaOptions): Promise<SshCa> {
  validateSshCaName(name);
  if (!vault.describe().writable) throw readOnlyVault(vault.describe().backend);
  if (!options.force && (await findSecret(vault, sshCaRecordName(name)))) {
    throw new UsageError(`an SSH CA named ${name} already exists`, {
      hint: 'replacing it (the force option) means hosts and users that trust it no longer accept the certificates it signed',
      detail: { kind: 'exists', what: 'ca', names: [name] },
    }, 'ERR_SSH_CA_EXISTS');
  }
  const comment = options.comment ?? `keysmith-ca:${name}`;
  const key = await generateKey({ type: options.type ?? 'ed25519', ...(options.bits ? { bits: options.bits } : {}), comment });
  const at = options.now.toISOString();
  const ca: SshCa = {
    name,
    publicKey: publicKeyLine(key.publicKey),
    fingerprint: fingerprintSha256(key.publicKey.blob),
    algorithm: key.publicKey.algorithm,
    bits: key.publicKey.bits,
    comment,
    created: at,
  };
  const { name: _name, ...meta } = ca;
  const record: SecretRecord = { kind: 'ssh-ca', value: key.privateKey, fields: {}, created: at, updated: at, meta };
  await vault.set(sshCaRecordName(name), record);
  return ca;
}

async function caRecord(vault: Vault, name: string): Promise<SecretRecord> {
  validateSshCaName(name);
  const record = await findSecret(vault, sshCaRecordName(name));
  if (!record) throw new NotFoundError(`no SSH CA named ${name}`, { hint: 'create it first (createSshCa)' }, 'ERR_SSH_NO_CA');
  // The env backend has no kinds: there the variable holds the private key itself.
  if (record.kind !== 'ssh-ca' && vault.describe().backend !== 'env') throw new UsageError(`${sshCaRecordName(name)} is not an SSH CA record (its kind is ${record.kind})`, undefined, 'ERR_SSH_BAD_CA_RECORD');
  return record;
}

/** The CA's public facts, from its private key (the record's meta may be missing, as in the env backend). */
async function describeCa(name: string, record: SecretRecord): Promise<SshCa> {
  const where = sshCaRecordName(name);
  const file = await readPrivateKey(record.value, where);
  if (file.encrypted || !file.publicKey) throw new UsageError(`${where}: the CA key is encrypted; keysmith keeps CA keys unencrypted in the (encrypted) vault`, undefined, 'ERR_SSH_BAD_CA_RECORD');
  const meta = (record.meta ?? {}) as Partial<SshCa>;
  const comment = meta.comment ?? file.publicKey.comment;
  return {
    name,
    publicKey: publicKeyLine({ ...file.publicKey, comment }),
    fingerprint: fingerprintSha256(file.publicKey.blob),
    algorithm: file.publicKey.algorithm,
    bits: file.publicKey.bits,
    comment,
    created: meta.created ?? record.created,
  };
}

/**
 * A CA's public facts. NotFoundError (ERR_SSH_NO_CA) when there is none.
 * @example (await loadSshCa(vault, 'users')).publicKey
 */
export async function loadSshCa(vault: Vault, name: string): Promise<SshCa> {
  return describeCa(name, await caRecord(vault, name));
}

/**
 * A CA with its private key, ready to sign (signCertificate).
 * @example const { key } = await loadSshCaKey(vault, 'users')
 */
export async function loadSshCaKey(vault: Vault, name: string): Promise<{ ca: SshCa; key: SigningKey }> {
  const record = await caRecord(vault, name);
  const ca = await describeCa(name, record);
  const key = await signingKey(record.value, sshCaRecordName(name));
  if (ca.algorithm === 'ssh-rsa' && ca.bits < MIN_CA_RSA_BITS) throw new UsageError(`${sshCaRecordName(name)} is an RSA key of ${ca.bits} bits: keysmith signs with RSA CAs of at least ${MIN_CA_RSA_BITS} bits`, undefined, 'ERR_SSH_WEAK_CA');
  return { ca, key };
}

/**
 * The SSH CAs in the vault, by name.
 * @example (await listSshCas(vault)).map((ca) => ca.name)
 */
export async function listSshCas(vault: Vault, onDamaged?: (name: string, error: Error) => void): Promise<SshCa[]> {
  const infos = (await vault.list('ssh-ca/')).filter((i) => i.kind === 'ssh-ca');
  // One damaged record does not hide the others: it is reported and left out.
  const cas = await Promise.all(infos.map((i) => loadSshCa(vault, i.name.slice('ssh-ca/'.length)).catch((err: Error) => {
    if (!onDamaged) throw err;
    onDamaged(i.name.slice('ssh-ca/'.length), err);
    return undefined;
  })));
  return cas.filter((c): c is SshCa => c !== undefined);
}

/**
 * How a CA is trusted:
 * - `authorized-keys`: the plain key line, for sshd's TrustedUserCAKeys file (user certificates);
 * - `cert-authority`: `cert-authority KEY` for one account's ~/.ssh/authorized_keys;
 * - `known-hosts`: `@cert-authority HOSTS KEY` for known_hosts (host certificates).
 */
export type TrustFormat = 'authorized-keys' | 'cert-authority' | 'known-hosts';

/**
 * The line that makes sshd or ssh trust a CA.
 * @example caTrustLine(ca, 'known-hosts', '*.example.com') // '@cert-authority *.example.com ssh-ed25519 AAAA… keysmith-ca:hosts'
 */
export function caTrustLine(ca: Pick<SshCa, 'publicKey'>, format: TrustFormat, hosts = '*'): string {
  if (format === 'authorized-keys') return ca.publicKey;
  if (format === 'cert-authority') return `cert-authority ${ca.publicKey}`;
  if (hosts === '' || /\s/.test(hosts)) throw new UsageError(`hosts: ${JSON.stringify(hosts)} is not a known_hosts host pattern list (comma-separated, no blanks)`, undefined, 'ERR_SSH_BAD_HOSTS');
  return `@cert-authority ${hosts} ${ca.publicKey}`;
}

// --- signing a key file, as ssh-keygen -s CA PATH ---

/**
 * The key in a public key file as ssh-keygen -s loads it (sshkey_load_public): the first line
 * that reads as a key (# lines, blank lines and lines that are no key are passed over), its
 * comment up to a CR or LF, else the path as given. A private key's path reads PATH.pub beside it.
 * Throws ERR_SSH_BAD_KEY when there is no key, or it is a certificate.
 * @example const key = await readKeyToCertify('/home/alice/.ssh/work.pub')
 */
export async function readKeyToCertify(path: string): Promise<{ key: PublicKey; path: string }> {
  const text = (await readUserFile(path, { maxBytes: 1024 * 1024 })).toString('latin1');
  let why = 'no key found';
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    if (raw.startsWith('-----BEGIN') || raw === 'SSH PRIVATE KEY FILE') {
      // A private key: its public half is PATH.pub, as ssh-keygen reads it.
      if (path.endsWith('.pub')) break;
      const pub = await readKeyToCertify(`${path}.pub`).catch((err: unknown) => {
        throw new UsageError(`${path} is a private key and ${path}.pub cannot be used (${(err as Error).message}): give the public key to sign`, { cause: err }, 'ERR_SSH_BAD_KEY');
      });
      return pub;
    }
    const got = readKeyAt(raw.split('\0')[0]!.replace(/^[ \t]+/, ''));
    if ('error' in got) {
      why = got.error;
      continue;
    }
    if (got.key.certificate) throw new UsageError(`${path} holds a certificate (${got.key.algorithm}): sign the plain public key it certifies`, undefined, 'ERR_SSH_BAD_KEY');
    const comment = Buffer.from(got.rest.split(/[\r\n]/)[0]!, 'latin1').toString('utf8');
    return { key: { ...got.key, comment: comment || path }, path };
  }
  throw new UsageError(`${path}: not an OpenSSH public key (${why})`, undefined, 'ERR_SSH_BAD_KEY');
}

/**
 * Where ssh-keygen -s writes the certificate of PATH: PATH less .pub, then -cert.pub.
 * @example certificatePath('/home/alice/.ssh/work.pub') // '/home/alice/.ssh/work-cert.pub'
 */
export const certificatePath = (publicKeyPath: string) => `${publicKeyPath.replace(/\.pub$/, '')}-cert.pub`;

/** Defaults: a user certificate lasts 16 hours, a host certificate 30 days (as step-ca). */
export const DEFAULT_VALIDITY_SECONDS = { user: 16 * 3600, host: 30 * 86400 } as const;

/** A random serial from 1 to 2^63-1: unique enough to revoke one certificate (KRL), and a signed 64-bit integer wherever it is stored. */
export function randomSerial(): bigint {
  for (;;) {
    const n = randomBytes(8).readBigUInt64BE() >> 1n;
    if (n !== 0n) return n;
  }
}

export interface SignWithCaOptions extends Omit<SignCertificateOptions, 'keyId' | 'serial' | 'validAfter' | 'validBefore'> {
  /** The CA's name in the vault. */
  ca: string;
  /** The public key file to certify; a private key's path reads PATH.pub beside it. */
  publicKeyPath: string;
  /** Where the certificate goes: certificatePath(publicKeyPath) unless given; null: not written. */
  out?: string | null;
  /**
   * Replace an existing file. Without it, only a certificate of the same key by the same CA
   * (a renewal) is replaced; anything else there is refused (ERR_FILE_EXISTS).
   */
  force?: boolean;
  /** The first principal, else the key's comment, unless given. */
  keyId?: string;
  /** randomSerial() unless given. */
  serial?: bigint;
  /** From a minute ago (as ssh-keygen's +TIME) to DEFAULT_VALIDITY_SECONDS from now, unless given. */
  validAfter?: bigint;
  validBefore?: bigint;
  now: Date;
}

export interface SignWithCaResult {
  /** The certified key, its `certificate` set, its comment the key file's. */
  key: PublicKey;
  /** The certificate's line, as written: `ssh-ed25519-cert-v01@openssh.com AAAA… comment`. */
  line: string;
  /** Where it was written (undefined with out: null). */
  path?: string;
  /** A previous certificate of the same key by the same CA was replaced. */
  renewed: boolean;
  ca: SshCa;
}

/** Whether `text` is a certificate of `key` by the CA `caBlob` (replacing it is a renewal). */
function sameCertificate(text: string, key: PublicKey, caBlob: Buffer): boolean {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) return false;
  const got = readKeyAt(lines[0]!.trim());
  return !('error' in got) && !!got.key.certificate && got.key.blob.equals(key.blob) && got.key.certificate.signatureKey.blob.equals(caBlob);
}

/**
 * Certifies a public key file with a CA from the vault, as `ssh-keygen -s CA -I ID … PATH` does,
 * and writes PATH-cert.pub (mode 0644) atomically. The key file and the output's folder are
 * checked before the vault is opened (`vault` may be a function that opens it); the certificate is
 * read back and its signature verified before it is written.
 * @example
 * const { path } = await signWithCa(vault, { ca: 'users', publicKeyPath: 'work.pub', type: 'user',
 *   principals: ['alice'], extensions: DEFAULT_USER_EXTENSIONS.map((name) => ({ name })), now: new Date() });
 */
export async function signWithCa(vault: Vault | (() => Promise<Vault>), options: SignWithCaOptions): Promise<SignWithCaResult> {
  validateSshCaName(options.ca);
  const { key: subject } = await readKeyToCertify(options.publicKeyPath);
  const out = options.out === null ? undefined : (options.out ?? certificatePath(options.publicKeyPath));
  if (out) {
    const folder = await stat(dirname(out)).catch((err: unknown) => {
      throw systemError(err, out, 'write') ?? err;
    });
    if (!folder.isDirectory()) throw new UsageError(`cannot write ${out}: a part of the path is not a folder`, { hint: 'check the path' }, 'ERR_SYSTEM_ENOTDIR');
  }
  const now = BigInt(Math.floor(options.now.getTime() / 1000));
  const validAfter = options.validAfter ?? ((now - 59n) / 60n) * 60n;
  const validBefore = options.validBefore ?? now + BigInt(DEFAULT_VALIDITY_SECONDS[options.type]);
  const { ca, key: caKey } = await loadSshCaKey(typeof vault === 'function' ? await vault() : vault, options.ca);
  // Anything there that cannot be read (a folder, no permission) counts as something else.
  // Only a regular file (or a link, replaced and not followed) is ever replaced: never a FIFO (reading it would hang) or a device.
  const kind = out ? await lstat(out).catch(() => undefined) : undefined;
  if (kind && !kind.isFile() && !kind.isSymbolicLink()) throw new UsageError(`cannot write ${out}: not a regular file`, { hint: 'name a file' }, 'ERR_FILE_KIND');
  const existing = out ? await readFile(out, 'latin1').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : '')) : undefined;
  const renewed = existing !== undefined && sameCertificate(existing, subject, caKey.publicKey.blob);
  if (existing !== undefined && !renewed && !options.force) {
    throw new UsageError(`${out} already exists and is not a certificate of this key by CA ${options.ca}`, { detail: { kind: 'exists', what: 'file', names: [out!] } }, 'ERR_FILE_EXISTS');
  }
  const { now: _now, ca: _ca, publicKeyPath: _p, out: _o, force: _f, ...certificate } = options;
  const key = signCertificate(subject, caKey, {
    ...certificate,
    keyId: options.keyId ?? options.principals[0] ?? subject.comment,
    serial: options.serial ?? randomSerial(),
    validAfter,
    validBefore,
  });
  try {
    renderCertificate(key); // options whose data ssh-keygen -L and sshd would call corrupt
  } catch (err) {
    throw new UsageError(`the certificate would be unreadable: ${(err as Error).message}`, undefined, 'ERR_SSH_BAD_CERT_OPTION');
  }
  const line = publicKeyLine(key);
  if (out) await writeFileAtomic(out, Buffer.from(`${line}\n`, 'utf8'), { mode: 0o644, overwrite: true });
  return { key, line, ...(out ? { path: out } : {}), renewed, ca };
}

