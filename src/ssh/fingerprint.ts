import { readFile } from 'node:fs/promises';
import { KeysmithError, UsageError } from '../errors.js';
import { readUserFile } from '../fs.js';
import { fingerprintMd5, fingerprintSha256, readKeyAt, readOpenSshContainer, readPrivateKey } from './keys.js';
import { keyTypeName, type PublicKey } from './public-key.js';
import { mapLimit } from '../concurrency.js';

/** A key as `ssh-keygen -l` reports it; no comment (undefined) prints as "no comment". */
export interface KeyFingerprint extends Omit<PublicKey, 'comment'> {
  comment: string | undefined;
}

/** `256 SHA256:… comment (ED25519)`, exactly as ssh-keygen -l prints it (without the newline). */
export function renderFingerprint(key: KeyFingerprint, md5 = false): string {
  return `${key.bits} ${md5 ? fingerprintMd5(key.blob) : fingerprintSha256(key.blob)} ${key.comment === undefined ? 'no comment' : escapeComment(key.comment)} (${keyTypeName(key.algorithm)})`;
}

/** What glibc's iswprint refuses: controls, unassigned code points, surrogates, line and paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u;

/**
 * A comment as ssh-keygen -l prints it in a UTF-8 locale (OpenSSH's utf8.c): printable characters
 * and tab and CR as they are, every other character as the octal escapes of its UTF-8 bytes
 * (`\033`), so a key file cannot send escape sequences to the terminal.
 */
export function escapeComment(comment: string): string {
  let out = '';
  for (const ch of comment) {
    if (ch === '\t' || ch === '\r' || !UNPRINTABLE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return out;
}

/**
 * Skips the first word of a line (authorized_keys options or known_hosts host names, quotes
 * respected) as do_fingerprint does, or undefined when the line is just that word. A leading
 * non-zero number followed by a blank is never skipped (an SSH1 key's bit count).
 */
function skipWord(line: string): { word: string; rest: string } | undefined {
  const n = /^[+-]?(\d+)[ \t]/.exec(line);
  if (n && Number(n[1]) !== 0) return { word: '', rest: line };
  let quoted = false;
  let i = 0;
  for (; i < line.length && (quoted || (line[i] !== ' ' && line[i] !== '\t')); i++) {
    if (line[i] === '\\' && line[i + 1] === '"') i++;
    else if (line[i] === '"') quoted = !quoted;
  }
  if (i === line.length) return undefined;
  return { word: line.slice(0, i), rest: line.slice(i + 1) };
}

/**
 * The keys of a public key file (.pub, authorized_keys, known_hosts), read line by line as
 * ssh-keygen -l does (do_fingerprint in ssh-keygen.c): blank and # lines skipped, one leading word
 * of options or host names skipped when the line does not start with a key, lines that are no key
 * ignored. Only \n ends a line (a \r stays in the comment), and a NUL ends it as in C.
 */
export function fingerprintLines(text: string): KeyFingerprint[] {
  const keys: KeyFingerprint[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.split('\0')[0]!.replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) continue;
    let comment: string | undefined;
    let got = readKeyAt(line);
    if ('error' in got) {
      const skipped = skipWord(line);
      if (!skipped) continue;
      if (skipped.word) comment = skipped.word;
      got = readKeyAt(skipped.rest);
      if ('error' in got) continue;
    }
    if (got.rest !== '' && !got.rest.startsWith('#')) comment = got.rest;
    keys.push({ ...got.key, comment });
  }
  return keys;
}

const readIfThere = (path: string) => readFile(path, 'utf8').catch(() => undefined);

/**
 * A private key's public half and comment, as ssh-keygen -l finds them (fingerprint_private): the
 * first key in PATH.pub (its comment, else that file's name), else the public half an OpenSSH key
 * carries in the clear; the comment then from the unencrypted key itself (none for PEM).
 */
async function privateKeyFingerprint(path: string, text: string, readSibling: (path: string) => Promise<string | undefined>): Promise<KeyFingerprint> {
  let key: PublicKey | undefined;
  let comment: string | undefined;
  const pub = path === '-' ? undefined : await readSibling(`${path}.pub`);
  for (const raw of pub?.split('\n') ?? []) {
    const line = raw.split('\0')[0]!;
    if (/^(#|$)/.test(line)) continue;
    if (line.startsWith('-----BEGIN')) break;
    const got = readKeyAt(line.replace(/^[ \t]+/, ''));
    if ('error' in got) continue;
    key = got.key;
    comment = got.rest.replace(/[\r\n][\s\S]*$/, '') || `${path}.pub`;
    break;
  }
  if (!key) {
    try {
      key = readOpenSshContainer(text)?.publicKey;
    } catch {
      // read below, for its error
    }
  }
  let failure: unknown;
  if (!key || !comment) {
    comment = undefined;
    try {
      const priv = await readPrivateKey(text, path);
      if (!priv.encrypted && priv.publicKey) {
        key ??= priv.publicKey;
        if (readOpenSshContainer(text)) comment = priv.publicKey.comment;
      } else if (!priv.publicKey) {
        failure = new UsageError(`${path}: not a usable private key (encrypted PEM: its public key is encrypted too)`, { hint: 'keep its .pub beside it', detail: { kind: 'encrypted-pem', path } }, 'ERR_SSH_BAD_KEY');
      }
    } catch (err) {
      failure = err;
    }
  }
  if (!key) throw failure ?? new UsageError(`${path}: not a usable private key`, undefined, 'ERR_SSH_BAD_KEY');
  return { ...key, comment };
}

/**
 * The keys in one key file's text, as `ssh-keygen -l -f PATH` reports them: a private key (first
 * line says PRIVATE KEY) gives one, a public key file one per key line. Throws a typed error when
 * there is none. `readSibling` reads PATH.pub (undefined when absent).
 * @example (await fingerprintKeyFile('id_ed25519.pub', text)).map((k) => renderFingerprint(k))
 */
export async function fingerprintKeyFile(path: string, text: string, readSibling = readIfThere): Promise<KeyFingerprint[]> {
  if (text.split('\n', 1)[0]!.includes('PRIVATE KEY')) return [await privateKeyFingerprint(path, text, readSibling)];
  const keys = fingerprintLines(text);
  if (keys.length > 0) return keys;
  if (text.trim() === '') throw new UsageError(`${path}: empty key file`, undefined, 'ERR_SSH_BAD_KEY');
  const first = text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  const why = readKeyAt(first.split('\0')[0]!.trim());
  throw new UsageError(`${path}: not an OpenSSH public key (${'error' in why ? why.error : 'no key found'})`, undefined, 'ERR_SSH_BAD_KEY');
}

export type FileFingerprints = { file: string; keys: KeyFingerprint[] } | { file: string; error: KeysmithError | Error };

/** fingerprintKeyFile for many files, `concurrency` read at a time, results in the order given. */
export function fingerprintKeyFiles(paths: string[], concurrency = 64): Promise<FileFingerprints[]> {
  return mapLimit(paths, concurrency, async (file): Promise<FileFingerprints> => {
    try {
      return { file, keys: await fingerprintKeyFile(file, (await readUserFile(file)).toString('utf8')) };
    } catch (error) {
      return { file, error: error as Error };
    }
  });
}
