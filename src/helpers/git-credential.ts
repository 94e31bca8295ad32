import { UsageError } from '../errors.js';
import { nameOf } from '../vault/names.js';
import { findSecret } from '../vault/secrets.js';
import type { SecretRecord, Vault } from '../vault/types.js';

/**
 * git's credential helper protocol (gitcredentials(7), git-credential(1)): `key=value` lines on
 * stdin up to a blank line or the end; for `get`, the same on stdout. keysmith keeps each
 * credential as a record `git/<protocol>/<host>[/<path>]` of kind `git-credential`: its value the password,
 * its fields the rest. A credential is only ever given back for the protocol it was stored for.
 */

/** The attributes of one request, as git sends them. */
export type CredentialAttributes = Record<string, string>;

/** Attributes kept and given back besides the password (git passes them through its helpers). */
const KEPT = ['username', 'password_expiry_utc', 'oauth_refresh_token'] as const;

/** Reads git's `key=value` lines. Multi-valued `key[]=` attributes (wwwauth[], capability[]) are not needed here and dropped. */
export function parseCredential(text: string): CredentialAttributes {
  // git sends a few short lines; a host is at most 253 characters (and a port).
  if (text.length > MAX_INPUT) throw new UsageError(`git credential: ${text.length} bytes of input is more than a credential request (${MAX_INPUT} at most)`, undefined, 'ERR_GIT_CREDENTIAL_INPUT');
  let out: CredentialAttributes = Object.create(null) as CredentialAttributes;
  for (const line of text.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l === '') break;
    const eq = l.indexOf('=');
    if (eq <= 0) throw new UsageError(`git credential: not a key=value line: ${JSON.stringify(l.slice(0, 40))}`, undefined, 'ERR_GIT_CREDENTIAL_INPUT');
    const key = l.slice(0, eq);
    if (key.endsWith('[]')) continue;
    if (l.includes('\0')) throw new UsageError(`git credential: ${key} holds a NUL byte`, undefined, 'ERR_GIT_CREDENTIAL_INPUT');
    // `url=` stands for all its parts, read then (git-credential(1)); git starts the credential afresh.
    if (key === 'url') out = fromUrl(l.slice(eq + 1));
    else out[key] = l.slice(eq + 1);
  }
  if (out.host && out.host.length > MAX_HOST) throw new UsageError(`git credential: a host of ${out.host.length} characters is not a host name`, undefined, 'ERR_GIT_CREDENTIAL_INPUT');
  return out;
}

const MAX_INPUT = 64 * 1024;
const MAX_HOST = 260;

function fromUrl(text: string): CredentialAttributes {
  const bad = () => new UsageError(`git credential: url= is not a URL: ${JSON.stringify(text.slice(0, 80))}`, undefined, 'ERR_GIT_CREDENTIAL_INPUT');
  try {
    const u = new URL(text);
    const out: CredentialAttributes = Object.create(null) as CredentialAttributes;
    out.protocol = u.protocol.replace(/:$/, '');
    out.host = u.port ? `${u.hostname}:${u.port}` : u.hostname;
    if (u.pathname.length > 1) out.path = decodeURIComponent(u.pathname.slice(1));
    if (u.username) out.username = decodeURIComponent(u.username);
    return out;
  } catch {
    throw bad();
  }
}

/** The lines git reads back; a value git could not read back (a newline in it) is refused. */
export function formatCredential(attributes: CredentialAttributes): string {
  let out = '';
  for (const [key, value] of Object.entries(attributes)) {
    if (/[\n\0]/.test(value)) throw new UsageError(`git credential: the stored ${key} holds a newline or NUL, which git's protocol cannot carry`, undefined, 'ERR_GIT_CREDENTIAL_VALUE');
    out += `${key}=${value}\n`;
  }
  return out;
}

/**
 * The record of a credential: `git/<protocol>/<host>[/<path>…]` (the path when git sends one, with
 * credential.useHttpPath), each part written injectively (namePart: `127.0.0.1:8443` is
 * `127.0.0.1_3a8443`), so no two credentials share a record — http and https least of all. A
 * name too long for the vault ends in a hash of the host and path instead.
 */
export function credentialRecordName(a: CredentialAttributes): string {
  if (!a.protocol || !a.host) throw new UsageError('git credential: protocol and host are needed', undefined, 'ERR_GIT_CREDENTIAL_INPUT');
  return nameOf('git', [a.protocol.toLowerCase(), a.host.toLowerCase(), ...(a.path ? a.path.split('/') : [])]);
}

/** Whether a record answers for these attributes: same protocol, host and path; the username if git names one. */
function answers(record: SecretRecord, a: CredentialAttributes): boolean {
  const f = record.fields;
  return record.kind === 'git-credential' && f.protocol === a.protocol && f.host === (a.host ?? '').toLowerCase() && (f.path ?? '') === (a.path ?? '') && (!a.username || f.username === a.username);
}

/**
 * `get`: the stored username and password (with password_expiry_utc and oauth_refresh_token when
 * kept), or nothing when there is none for this protocol, host and path — git then asks on.
 * A password whose expiry has passed is not given (git would drop it too).
 * @example process.stdout.write(formatCredential(await getCredential(vault, parseCredential(input), new Date()) ?? {}))
 */
export async function getCredential(vault: Vault, a: CredentialAttributes, now: Date): Promise<CredentialAttributes | undefined> {
  const record = await findSecret(vault, credentialRecordName(a));
  if (!record || !answers(record, a)) return undefined;
  const expiry = record.fields.password_expiry_utc;
  if (expiry && /^\d+$/.test(expiry) && Number(expiry) * 1000 <= now.getTime()) return undefined;
  const out: CredentialAttributes = {};
  for (const key of KEPT) if (record.fields[key] !== undefined) out[key] = record.fields[key]!;
  out.password = record.value;
  return out;
}

/**
 * `store`: git says the credential worked. Kept with its protocol, host and path; without a
 * username and password there is nothing to keep.
 */
export async function storeCredential(vault: Vault, a: CredentialAttributes, now: Date): Promise<boolean> {
  if (!a.username || a.password === undefined) return false;
  const name = credentialRecordName(a);
  const previous = await findSecret(vault, name);
  if (previous && previous.kind !== 'git-credential') throw new UsageError(`${name} holds a ${previous.kind}, not a git credential: keysmith will not replace it`, undefined, 'ERR_GIT_CREDENTIAL_EXISTS');
  const fields: Record<string, string> = { protocol: a.protocol!, host: a.host!.toLowerCase(), username: a.username };
  if (a.path) fields.path = a.path;
  for (const key of ['password_expiry_utc', 'oauth_refresh_token'] as const) if (a[key]) fields[key] = a[key];
  const at = now.toISOString();
  await vault.set(name, { kind: 'git-credential', value: a.password, fields, created: previous?.created ?? at, updated: at });
  return true;
}

/**
 * `erase`: git says the credential was refused. The record goes only if it is the one git tried
 * (same protocol, host, path, username, and the password git sends): a newer one stored meanwhile stays.
 */
export async function eraseCredential(vault: Vault, a: CredentialAttributes): Promise<boolean> {
  const name = credentialRecordName(a);
  const record = await findSecret(vault, name);
  if (!record || !answers(record, a)) return false;
  if (a.password !== undefined && a.password !== record.value) return false;
  return vault.delete(name);
}
