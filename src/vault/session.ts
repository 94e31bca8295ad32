import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthError, UsageError } from '../errors.js';
import { ensurePrivateDir, readIfExists, writeFileAtomic } from '../fs.js';

/**
 * Unlock sessions, so a script pays for the passphrase (scrypt, about a second) once:
 * `export KEYSMITH_SESSION=$(keysmith vault unlock)`. The token holds a random key; the data dir
 * holds the vault identity encrypted under it with an expiry. Neither half alone opens the vault,
 * and `keysmith vault lock` (or the expiry) ends every session.
 */
const PREFIX = 'ks1';

interface SessionFile {
  expires: string;
  iv: string;
  data: string;
  tag: string;
}

const sessionDir = (dataDir: string) => join(dataDir, 'sessions');

/** The data the cipher binds to the identity: the session's id and its expiry, so neither can be edited. */
const boundData = (id: string, expires: string) => Buffer.from(`${PREFIX}|${id}|${expires}`);

export async function createSession(dataDir: string, identity: string, expires: Date, now: Date): Promise<string> {
  await sweep(dataDir, now);
  const id = randomBytes(12).toString('hex');
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(boundData(id, expires.toISOString()));
  const data = Buffer.concat([cipher.update(identity, 'utf8'), cipher.final()]);
  const file: SessionFile = {
    expires: expires.toISOString(),
    iv: iv.toString('base64'),
    data: data.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
  };
  await ensurePrivateDir(sessionDir(dataDir));
  await writeFileAtomic(join(sessionDir(dataDir), `${id}.json`), JSON.stringify(file));
  return `${PREFIX}.${id}.${key.toString('base64url')}`;
}

/** The identity a session token unlocks. */
export async function openSession(dataDir: string, token: string, now: Date): Promise<string> {
  const [prefix, id, key] = token.trim().split('.');
  if (prefix !== PREFIX || !id || !/^[0-9a-f]{24}$/.test(id) || !key) {
    throw new UsageError('KEYSMITH_SESSION is not a keysmith session token', {
      hint: 'set it to a token from unlockVault',
      detail: { kind: 'session', problem: 'malformed' },
    }, 'ERR_SESSION_MALFORMED');
  }
  const text = await readIfExists(join(sessionDir(dataDir), `${id}.json`));
  const ended = new AuthError('the KEYSMITH_SESSION session has ended (expired or locked)', {
    hint: 'unlock the vault again (unlockVault)',
    detail: { kind: 'session', problem: 'ended' },
  }, 'ERR_SESSION_ENDED');
  if (!text) throw ended;
  await sweep(dataDir, now);
  const file = readSessionFile(text);
  // Damaged, expired or swept: the session has ended (and its file is gone).
  if (!file || new Date(file.expires) <= now) {
    await rm(join(sessionDir(dataDir), `${id}.json`), { force: true });
    throw ended;
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key, 'base64url'), Buffer.from(file.iv, 'base64'))
      .setAAD(boundData(id, file.expires))
      .setAuthTag(Buffer.from(file.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(file.data, 'base64')), decipher.final()]).toString('utf8');
  } catch (cause) {
    // A wrong key, or an expiry edited after the fact: the tag covers both.
    throw new AuthError('KEYSMITH_SESSION does not match its session (or the session file was changed)', { cause, hint: 'unlock the vault again (unlockVault)', detail: { kind: 'session', problem: 'mismatch' } }, 'ERR_SESSION_MISMATCH');
  }
}

function readSessionFile(text: Buffer): SessionFile | null {
  try {
    const file = JSON.parse(text.toString('utf8')) as Partial<SessionFile>;
    const ok = ['expires', 'iv', 'data', 'tag'].every((k) => typeof file[k as keyof SessionFile] === 'string') && !Number.isNaN(Date.parse(file.expires!));
    return ok ? (file as SessionFile) : null;
  } catch {
    return null;
  }
}

/** Removes the files of sessions that have ended (expired, or damaged beyond reading). */
async function sweep(dataDir: string, now: Date): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(sessionDir(dataDir))).filter((n) => n.endsWith('.json'));
  } catch {
    return;
  }
  await Promise.all(
    names.map(async (n) => {
      const path = join(sessionDir(dataDir), n);
      const text = await readIfExists(path).catch(() => null);
      const file = text ? readSessionFile(text) : null;
      if (text && (!file || new Date(file.expires) <= now)) await rm(path, { force: true });
    }),
  );
}

/** Ends every session. Returns how many there were. */
export async function endSessions(dataDir: string): Promise<number> {
  let names: string[];
  try {
    names = (await readdir(sessionDir(dataDir))).filter((n) => n.endsWith('.json'));
  } catch {
    return 0;
  }
  await Promise.all(names.map((n) => rm(join(sessionDir(dataDir), n), { force: true })));
  return names.length;
}
