import { AuthError, FailedError, UsageError } from '../errors.js';
import { isSshIdentity, sshPublicLine, sshRecipient, sshUnwrap, type SshKind } from './age-ssh.js';
import { NoMatchingIdentity, decryptAge, encryptAge, generateX25519Identity, x25519Recipient, x25519Unwrap, x25519Wrap, type Unwrap, type Wrap } from './x25519-age.js';

/**
 * age-encryption (pure JS) is loaded only for passphrase files, and for the recipient types it has
 * that keysmith does not (age1pq1…, age1tag1…, age1tagpq1…).
 */
const loadAge = () => import('age-encryption');
const LIBRARY_ONLY = /^age1(pq|tag|tagpq)1/;

export type AgeKey = { identities: string[] } | { passphrase: string };

const ARMOR = '-----BEGIN AGE ENCRYPTED FILE-----';

const badIdentity = (message: string, cause?: unknown) => new UsageError(message, { cause }, 'ERR_BAD_IDENTITY');

/**
 * Identities made ready, by their text: reading an OpenSSH key costs ~1 ms, and a team opens many
 * files with one. A few only: a process holds the identities it uses anyway.
 */
const ready = new Map<string, Promise<Unwrap>>();

/** An AGE-SECRET-KEY-1… or an unencrypted OpenSSH ed25519 or RSA private key, ready to open stanzas. */
function unwrapFor(identity: string): Promise<Unwrap> {
  let unwrap = ready.get(identity);
  if (!unwrap) {
    unwrap = prepare(identity);
    if (ready.size >= 8) ready.clear();
    ready.set(identity, unwrap);
    unwrap.catch(() => ready.delete(identity));
  }
  return unwrap;
}

async function prepare(identity: string): Promise<Unwrap> {
  if (isSshIdentity(identity)) {
    try {
      return await sshUnwrap(identity);
    } catch (cause) {
      throw badIdentity((cause as Error).message, cause);
    }
  }
  try {
    return x25519Unwrap(identity);
  } catch (cause) {
    throw badIdentity('the age identity is malformed (expected AGE-SECRET-KEY-1… or an OpenSSH private key)', cause);
  }
}

/**
 * Decrypts an age file (binary or armored). A key that does not fit is an AuthError; a damaged or
 * foreign file is a FailedError that names `what` and says it was left unchanged.
 */
export async function ageDecrypt(file: Uint8Array, key: AgeKey, what: string): Promise<Uint8Array> {
  const unwraps = 'identities' in key ? await Promise.all(key.identities.map(unwrapFor)) : undefined;
  let input = file;
  try {
    if (Buffer.from(file.subarray(0, ARMOR.length)).toString('latin1') === ARMOR) {
      input = (await loadAge()).armor.decode(Buffer.from(file).toString('latin1'));
    }
    if ('identities' in key) return decryptAge(input, unwraps!);
    const age = await loadAge();
    const d = new age.Decrypter();
    d.addPassphrase(key.passphrase);
    return await d.decrypt(input);
  } catch (err) {
    if (err instanceof NoMatchingIdentity || /no identity matched/.test((err as Error).message)) {
      throw 'passphrase' in key
        ? new AuthError(`wrong passphrase for ${what}`, undefined, 'ERR_WRONG_PASSPHRASE')
        : new AuthError(`${what} is not encrypted to this identity`, { hint: 'check KEYSMITH_AGE_IDENTITY or KEYSMITH_SESSION' }, 'ERR_VAULT_WRONG_IDENTITY');
    }
    throw new FailedError(`${what} is damaged or is not an age file (${(err as Error).message}); it was left unchanged`, { cause: err }, 'ERR_VAULT_DAMAGED');
  }
}

export type RecipientKind = 'x25519' | SshKind;

/** Parsed recipients, by line: an SSH key's conversion costs ~1 ms, and a team re-encrypts many files to the same few. */
const parsed = new Map<string, { kind: RecipientKind; wrap: Wrap }>();

function parseRecipient(line: string): { kind: RecipientKind; wrap: Wrap } {
  const recipient = line.trim();
  let known = parsed.get(recipient);
  if (!known) {
    known = parseNew(recipient);
    if (parsed.size >= 1024) parsed.clear();
    parsed.set(recipient, known);
  }
  return known;
}

function parseNew(recipient: string): { kind: RecipientKind; wrap: Wrap } {
  // One line: a second one hidden in it would be a second recipient to whatever reads the line.
  if (/[\x00-\x1f\x7f]/.test(recipient)) throw new UsageError('a recipient is one line, without control characters', undefined, 'ERR_BAD_RECIPIENT');
  try {
    return recipient.startsWith('age1') ? { kind: 'x25519', wrap: x25519Wrap(recipient) } : sshRecipient(recipient);
  } catch (cause) {
    const message = recipient.startsWith('age1') ? 'invalid age recipient (expected age1…)' : (cause as Error).message;
    throw new UsageError(message, { cause }, 'ERR_BAD_RECIPIENT');
  }
}

/**
 * The type of an age recipient line: `age1…`, or an OpenSSH public key `ssh-ed25519 AAAA… [comment]`
 * or `ssh-rsa AAAA… [comment]` (2048 bits and up). Anything else, or a malformed key, is a UsageError
 * (ERR_BAD_RECIPIENT).
 */
export const recipientKind = (line: string): RecipientKind => parseRecipient(line).kind;

/** Encrypts to recipients (age1…, ssh-ed25519 and ssh-rsa lines, mixed freely) or with a passphrase. */
export async function ageEncrypt(plain: Uint8Array, to: { recipients: string[] } | { passphrase: string }): Promise<Uint8Array> {
  if ('recipients' in to && to.recipients.length === 0) throw new UsageError('no age recipients to encrypt to', undefined, 'ERR_BAD_RECIPIENT');
  if ('recipients' in to && !to.recipients.some((r) => LIBRARY_ONLY.test(r.trim()))) {
    return encryptAge(plain, to.recipients.map((r) => parseRecipient(r).wrap));
  }
  const age = await loadAge();
  const e = new age.Encrypter();
  if ('passphrase' in to) e.setPassphrase(to.passphrase);
  else {
    try {
      for (const r of to.recipients) e.addRecipient(r.trim());
    } catch (cause) {
      throw new UsageError(`invalid age recipient (${(cause as Error).message})`, { cause }, 'ERR_BAD_RECIPIENT');
    }
  }
  return e.encrypt(plain);
}

export async function generateIdentity(): Promise<string> {
  return generateX25519Identity();
}

/** The recipient of an identity: `age1…` for an AGE-SECRET-KEY-1…, the public key line for an OpenSSH private key. */
export async function recipientOf(identity: string): Promise<string> {
  if (isSshIdentity(identity)) return sshRecipientOf(identity);
  try {
    return x25519Recipient(identity);
  } catch (cause) {
    throw badIdentity('the age identity is malformed (expected AGE-SECRET-KEY-1…)', cause);
  }
}

/**
 * The recipient line (`ssh-ed25519 AAAA… comment`, `ssh-rsa AAAA… comment`) of an OpenSSH ed25519
 * or RSA private key, as `ssh-keygen -y` prints it: what a team adds for its owner. A
 * passphrase-protected key's line has no comment (that is encrypted too).
 */
export async function sshRecipientOf(identity: string): Promise<string> {
  try {
    return await sshPublicLine(identity);
  } catch (cause) {
    throw badIdentity((cause as Error).message, cause);
  }
}

const OPENSSH_END = '-----END OPENSSH PRIVATE KEY-----';

/**
 * Identities from KEYSMITH_AGE_IDENTITY's value or an identity file's text: each AGE-SECRET-KEY-1…
 * line, and each OpenSSH private key block as one identity (comments and blanks skipped).
 */
export function parseIdentities(text: string): string[] {
  const identities: string[] = [];
  let block: string[] | undefined;
  for (const line of text.split(/\r?\n/).map((l) => l.trim())) {
    if (block) {
      block.push(line);
      if (line === OPENSSH_END) {
        identities.push(`${block.join('\n')}\n`);
        block = undefined;
      }
    } else if (isSshIdentity(line)) block = [line];
    else if (line.startsWith('AGE-SECRET-KEY-')) identities.push(line);
  }
  if (block) identities.push(block.join('\n')); // unterminated: refused, with why, when used
  return identities;
}
