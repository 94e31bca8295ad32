import { AuthError, FailedError, UsageError } from '../errors.js';
import { NoMatchingIdentity, decryptX25519, encryptX25519, generateX25519Identity, x25519Recipient } from './x25519-age.js';

/** age-encryption (pure JS) is loaded only for passphrase files and recipient types other than X25519. */
const loadAge = () => import('age-encryption');

export type AgeKey = { identities: string[] } | { passphrase: string };

const ARMOR = '-----BEGIN AGE ENCRYPTED FILE-----';

/**
 * Decrypts an age file (binary or armored). A key that does not fit is an AuthError; a damaged or
 * foreign file is a FailedError that names `what` and says it was left unchanged.
 */
export async function ageDecrypt(file: Uint8Array, key: AgeKey, what: string): Promise<Uint8Array> {
  let input = file;
  try {
    if (Buffer.from(file.subarray(0, ARMOR.length)).toString('latin1') === ARMOR) {
      input = (await loadAge()).armor.decode(Buffer.from(file).toString('latin1'));
    }
    if ('identities' in key) return decryptX25519(input, key.identities);
    const age = await loadAge();
    const d = new age.Decrypter();
    d.addPassphrase(key.passphrase);
    return await d.decrypt(input);
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof NoMatchingIdentity || /no identity matched/.test(message)) {
      throw 'passphrase' in key
        ? new AuthError(`wrong passphrase for ${what}`, undefined, 'ERR_WRONG_PASSPHRASE')
        : new AuthError(`${what} is not encrypted to this identity`, { hint: 'check KEYSMITH_AGE_IDENTITY or KEYSMITH_SESSION' }, 'ERR_VAULT_WRONG_IDENTITY');
    }
    if (/invalid identity/.test(message)) {
      throw new UsageError('the age identity is malformed (expected AGE-SECRET-KEY-1…)', undefined, 'ERR_BAD_IDENTITY');
    }
    throw new FailedError(`${what} is damaged or is not an age file (${message}); it was left unchanged`, { cause: err }, 'ERR_VAULT_DAMAGED');
  }
}

export async function ageEncrypt(plain: Uint8Array, to: { recipients: string[] } | { passphrase: string }): Promise<Uint8Array> {
  if ('recipients' in to && to.recipients.every((r) => /^age1[02-9ac-hj-np-z]{58}$/.test(r.trim()))) {
    try {
      return encryptX25519(plain, to.recipients);
    } catch (cause) {
      throw new UsageError('invalid age recipient (expected age1…)', { cause }, 'ERR_BAD_RECIPIENT');
    }
  }
  const age = await loadAge();
  const e = new age.Encrypter();
  if ('passphrase' in to) e.setPassphrase(to.passphrase);
  else {
    try {
      for (const r of to.recipients) e.addRecipient(r);
    } catch (cause) {
      throw new UsageError('invalid age recipient (expected age1…)', { cause }, 'ERR_BAD_RECIPIENT');
    }
  }
  return e.encrypt(plain);
}

export async function generateIdentity(): Promise<string> {
  return generateX25519Identity();
}

export async function recipientOf(identity: string): Promise<string> {
  try {
    return x25519Recipient(identity);
  } catch (cause) {
    throw new UsageError('the age identity is malformed (expected AGE-SECRET-KEY-1…)', { cause }, 'ERR_BAD_IDENTITY');
  }
}

/** Identities from KEYSMITH_AGE_IDENTITY's value or an identity file's text (comments and blanks skipped). */
export function parseIdentities(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith('AGE-SECRET-KEY-'));
}
