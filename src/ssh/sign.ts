import { sign, type KeyObject } from 'node:crypto';
import { UsageError } from '../errors.js';
import { readPrivateKey } from './keys.js';
import type { PublicKey } from './public-key.js';
import { Writer } from './wire.js';

/** A private key ready to sign, with its public half. */
export interface SigningKey {
  publicKey: PublicKey;
  privateKey: KeyObject;
}

/** SSH_AGENT_RSA_SHA2_256 and SSH_AGENT_RSA_SHA2_512 (draft-miller-ssh-agent §4.5.1). */
export const RSA_SHA2_256 = 2;
export const RSA_SHA2_512 = 4;

const EC_HASH: Record<string, string> = { 'ecdsa-sha2-nistp256': 'sha256', 'ecdsa-sha2-nistp384': 'sha384', 'ecdsa-sha2-nistp521': 'sha512' };

/**
 * Opens a private key (OpenSSH, PEM or PKCS#8) for signing. An encrypted one needs its passphrase;
 * DSA and security keys (sk-*) cannot sign here (ERR_SSH_KEY_TYPE).
 * @example const key = await signingKey(pem, 'ssh/work')
 */
export async function signingKey(pem: string, where: string, passphrase?: string): Promise<SigningKey> {
  const file = await readPrivateKey(pem, where, passphrase);
  if (file.encrypted && passphrase === undefined) throw new UsageError(`${where} is encrypted: its passphrase is needed to sign`, undefined, 'ERR_SSH_PASSPHRASE_NEEDED');
  if (!file.publicKey || !file.privateKey) throw new UsageError(`${where}: keysmith cannot sign with a ${file.publicKey?.algorithm ?? 'key of this type'} key`, undefined, 'ERR_SSH_KEY_TYPE');
  try {
    return { publicKey: file.publicKey, privateKey: file.privateKey() };
  } catch (err) {
    throw new UsageError(`${where}: the private key is damaged (${(err as Error).message})`, undefined, 'ERR_SSH_KEY_DAMAGED');
  }
}

/** An SSH ECDSA signature blob (mpint r, mpint s) from IEEE P1363 r||s. */
function ecdsaBlob(rs: Buffer): Buffer {
  const half = rs.length / 2;
  return new Writer().mpint(rs.subarray(0, half)).mpint(rs.subarray(half)).bytes();
}

export type RsaSignature = 'ssh-rsa' | 'rsa-sha2-256' | 'rsa-sha2-512';

/** The RSA signature an ssh-agent sign request's flags ask for: none means ssh-rsa (SHA-1); both, rsa-sha2-256 (as ssh-agent picks). */
export const rsaSignatureOf = (flags: number): RsaSignature => (flags & RSA_SHA2_256 ? 'rsa-sha2-256' : flags & RSA_SHA2_512 ? 'rsa-sha2-512' : 'ssh-rsa');

const RSA_HASH: Record<RsaSignature, string> = { 'ssh-rsa': 'sha1', 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' };

/**
 * Signs `data` as OpenSSH's sshkey_sign does: `string type, string signature`. RSA keys sign with
 * `rsa` (rsa-sha2-512 unless told).
 * @example const sig = sshSign(key, data)
 */
export function sshSign(key: SigningKey, data: Buffer, rsa: RsaSignature = 'rsa-sha2-512'): Buffer {
  const alg = key.publicKey.algorithm;
  if (alg === 'ssh-ed25519') return new Writer().string(alg).string(sign(null, data, key.privateKey)).bytes();
  const ec = EC_HASH[alg];
  if (ec) return new Writer().string(alg).string(ecdsaBlob(sign(ec, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }))).bytes();
  if (alg === 'ssh-rsa') return new Writer().string(rsa).string(sign(RSA_HASH[rsa], data, key.privateKey)).bytes();
  throw new UsageError(`keysmith cannot sign with a ${alg} key`, undefined, 'ERR_SSH_KEY_TYPE');
}

