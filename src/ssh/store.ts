import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { NotFoundError, UsageError } from '../errors.js';
import { findSecret } from '../vault/secrets.js';
import type { SecretRecord, Vault } from '../vault/types.js';
import type { PublicKey } from './keys.js';
import { fingerprintSha256, publicKeyLine } from './keys.js';

/** A host a managed key is deployed to. */
export interface HostEntry {
  /** user@host[:port] */
  target: string;
  /** Remote authorized_keys path, relative to the login's home unless absolute. */
  authorizedKeys?: string;
  deployedAt?: string;
}

/** What the vault keeps about a managed key (`ssh/<name>`); the value is its passphrase, if stored. */
export interface ManagedKey {
  name: string;
  path: string;
  publicKey: string;
  algorithm: string;
  bits: number;
  fingerprint: string;
  comment: string;
  created: string;
  hosts: HostEntry[];
  /** A policy's rotation period (ms), counted from `created`: `keysmith expiry` says when it is due. */
  rotateEvery?: number;
  passphrase?: string;
  /**
   * A vault-only key's private key (OpenSSH PEM, unencrypted: the vault encrypts it). It is never
   * written to disk; `path` then names only the reference copy of the public key, PATH.pub.
   */
  privateKey?: string;
  /** During a vault-only key's rotation: the old private key, until every host is done. */
  retiringKey?: string;
}

export const sshRecordName = (name: string) => `ssh/${name}`;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateKeyName(name: string): string {
  if (!KEY_NAME.test(name)) throw new UsageError(`invalid key name ${JSON.stringify(name)}: letters, digits, . _ -`, undefined, 'ERR_SSH_BAD_NAME');
  return name;
}

/** `~` and relative paths, as a shell would expand them. */
export function expandPath(path: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : resolve(path);
}

export const defaultKeyPath = (name: string, env: NodeJS.ProcessEnv) => expandPath(`~/.ssh/${name}`, env);
export const knownHostsPath = (env: NodeJS.ProcessEnv) => env.KEYSMITH_KNOWN_HOSTS || expandPath('~/.ssh/known_hosts', env);

export async function loadKey(vault: Vault, name: string): Promise<ManagedKey> {
  validateKeyName(name);
  const record = await findSecret(vault, sshRecordName(name));
  if (!record) throw new NotFoundError(`no SSH key named ${name}`, { detail: { kind: 'no-ssh-key', name } }, 'ERR_SSH_NO_KEY');
  if (record.kind !== 'ssh-key' || !record.meta) throw new UsageError(`${sshRecordName(name)} is not an SSH key record`, undefined, 'ERR_SSH_BAD_RECORD');
  const meta = record.meta as Omit<ManagedKey, 'name' | 'passphrase' | 'privateKey' | 'retiringKey'>;
  const { privateKey, retiringKey } = record.fields;
  return { ...meta, hosts: meta.hosts ?? [], name, ...(record.value ? { passphrase: record.value } : {}), ...(privateKey ? { privateKey } : {}), ...(retiringKey ? { retiringKey } : {}) };
}

/** The key's private key as PEM: from the vault for a vault-only key, else its file. */
export async function privateKeyPem(key: ManagedKey): Promise<string> {
  return key.privateKey ?? (await readFile(key.path, 'utf8'));
}

export async function saveKey(vault: Vault, key: ManagedKey, now: Date): Promise<void> {
  const { name, passphrase, privateKey, retiringKey, ...meta } = key;
  const previous = await findSecret(vault, sshRecordName(name));
  const at = now.toISOString();
  const fields = { ...(privateKey ? { privateKey } : {}), ...(retiringKey ? { retiringKey } : {}) };
  const record: SecretRecord = { kind: 'ssh-key', value: passphrase ?? '', fields, created: previous?.created ?? at, updated: at, meta: { ...meta } };
  await vault.set(sshRecordName(name), record);
}

export function managedFrom(name: string, path: string, key: PublicKey, created: Date, hosts: HostEntry[] = []): ManagedKey {
  return {
    name,
    path,
    publicKey: publicKeyLine(key),
    algorithm: key.algorithm,
    bits: key.bits,
    fingerprint: fingerprintSha256(key.blob),
    comment: key.comment,
    created: created.toISOString(),
    hosts,
  };
}

export async function listKeys(vault: Vault): Promise<ManagedKey[]> {
  const infos = (await vault.list('ssh/')).filter((i) => i.kind === 'ssh-key');
  return Promise.all(infos.map((i) => loadKey(vault, i.name.slice(4))));
}
