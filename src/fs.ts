import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, readlink, realpath, rename, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AuthError, FailedError, systemError, UnavailableError, UsageError } from './errors.js';

/** Creates a folder (and its parents) readable by the owner only. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by umask and ignored for folders that already exist.
  if (((await stat(dir)).mode & 0o077) !== 0 && process.platform !== 'win32') await chmod(dir, 0o700);
}

/** The file's bytes, or undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface WriteOptions {
  /** File mode; 0o600 unless said otherwise. */
  mode?: number;
  /** Replace an existing file. Without it an existing file is an error. */
  overwrite?: boolean;
  /**
   * A symlink at the path is written through to its target (the vault, kept in a synced folder).
   * Off by default: an output path that is a symlink is replaced, never followed.
   */
  throughSymlink?: boolean;
  /**
   * false: no fsync (still atomic). For a git working tree, whose record is the commit made next
   * and the remote: a team re-encrypting 1,000 files spent ~3 s in fsync.
   */
  durable?: boolean;
}

/**
 * Writes a file so that readers see either the old or the new content, never a part: a temp file in
 * the same folder, fsync, rename, fsync of the folder. A failure (a full disk, a missing folder)
 * removes the temp file and is reported for `path` — the raw error names the temp file. A crash
 * leaves at most a stray temp file.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  if (!options.overwrite && (await exists(path))) {
    throw fileExists(path);
  }
  // With throughSymlink, a link is written through: the new file replaces its target, in the
  // target's folder, and the link stays a link.
  const target = options.throughSymlink ? await linkTarget(path) : path;
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  let created = false;
  try {
    handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    created = true;
    await handle.writeFile(data);
    await handle.chmod(mode);
    if (options.durable !== false) await handle.sync();
    // Some file systems (NFS, quotas) report a full disk only here.
    await handle.close();
    handle = undefined;
    await rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    if (created) await rm(tmp, { force: true });
    throw systemError(err, path, 'write') ?? err;
  }
  if (options.durable !== false) await syncDir(dir);
}

/** Where a symlink at `path` points (even a dangling one); `path` itself when it is not a link. */
async function linkTarget(path: string): Promise<string> {
  const info = await lstat(path).catch(() => null);
  if (!info?.isSymbolicLink()) return path;
  return realpath(path).catch(async () => resolve(dirname(path), await readlink(path)));
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
}

/**
 * Runs `fn` holding an exclusive inter-process lock on `path`: a `.lock` file beside it, created
 * with O_EXCL and holding the owner's pid and a random token.
 *
 * A lock whose owner died (SIGKILL) is broken — but never on a judgement that may be out of date:
 * a breaker first takes a second, short-lived guard file (O_EXCL too), then reads the lock again
 * and removes it only if it is still the same dead owner's. Two waiters can both see a stale lock;
 * only one breaks it, and neither can remove the fresh lock the other took meanwhile. The owner
 * removes its lock only while it still holds its own token. (Unlinking what looks stale, without
 * the guard, lost 27 of 864 acknowledged writes in 72 rounds in review; in
 * test/integration/lock.test.ts only 874 of 2,400 writers completed.)
 */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lockPath = `${path}.lock`;
  const mine = `${process.pid} ${randomBytes(12).toString('hex')}\n`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let delay = 5;
  while (!(await createExclusive(lockPath, mine))) {
    await breakIfStale(lockPath);
    if (Date.now() > deadline) {
      throw new UnavailableError(`${path} is locked by another keysmith process`, {
        hint: `if no keysmith process is running, remove ${lockPath}`,
      }, 'ERR_LOCKED');
    }
    await new Promise((resolve) => setTimeout(resolve, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    if ((await readFile(lockPath, 'utf8').catch(() => '')) === mine) await unlink(lockPath).catch(() => undefined);
  }
}

/** Creates `path` holding `content` if it does not exist; false if it does. */
async function createExclusive(path: string, content: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(content);
  } catch (err) {
    // A lock file without its owner (a full disk) would hold every later writer for seconds.
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw systemError(err, path, 'write') ?? err;
  }
  await handle.close();
  return true;
}

/** Removes the lock at `lockPath` if its owner is dead, holding the break guard while it looks and acts. */
async function breakIfStale(lockPath: string): Promise<void> {
  const first = await readFile(lockPath, 'utf8').catch(() => null);
  if (first === null || !(await ownerDead(lockPath, first))) return;
  const guard = `${lockPath}.break`;
  if (!(await createExclusive(guard, `${process.pid}\n`))) {
    // Another waiter is breaking it. A guard left by a breaker killed in its few milliseconds of
    // work is cleared once it is clearly old.
    const age = Date.now() - (await stat(guard).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > 10_000) await unlink(guard).catch(() => undefined);
    return;
  }
  try {
    // Under the guard nobody else removes the lock, and its dead owner cannot: if it still holds
    // the same content, it is still the same stale lock.
    const now = await readFile(lockPath, 'utf8').catch(() => null);
    if (now === first) await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** Whether the lock's owner is gone: its pid is dead, or (no pid written yet) the file is seconds old. */
async function ownerDead(lockPath: string, text: string): Promise<boolean> {
  const pid = Number.parseInt(text, 10);
  if (!Number.isInteger(pid) || pid <= 0) {
    // Created by a process that died between create and write.
    const age = Date.now() - (await stat(lockPath).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    return age > 5_000;
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Reads a file a user named, with errors a user understands. */
export async function readUserFile(path: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
  try {
    if (options.maxBytes === undefined) return await readFile(path);
    return await readCapped(path, options.maxBytes);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${path}: no such file`, undefined, 'ERR_FILE_NOT_FOUND');
    if (code === 'EISDIR') throw new UsageError(`${path} is a folder, not a file`);
    throw systemError(err, path, 'read') ?? new FailedError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Refuses, as OpenSSH refuses a 0644 private key, a file or folder others could change (`private`:
 * writable by group or others) or read (`secret`: any access by group or others). Exit 4, with the fix.
 * Missing paths pass: there is nothing to trust yet.
 */
export async function assertPrivate(path: string, kind: 'folder' | 'file' | 'secret'): Promise<void> {
  if (process.platform === 'win32') return;
  const info = await stat(path).catch(() => null);
  if (!info) return;
  const mode = info.mode & 0o777;
  const loose = kind === 'secret' ? mode & 0o077 : mode & 0o022;
  if (!loose) return;
  const what = kind === 'secret' ? 'can be read by other users' : 'can be changed by other users';
  throw new AuthError(`${path} ${what} (mode ${mode.toString(8).padStart(4, '0')}): keysmith will not trust it`, { hint: `chmod ${kind === 'folder' ? 700 : 600} ${path}` }, 'ERR_LOOSE_PERMISSIONS');
}

/** Reads at most `maxBytes` (a device such as /dev/zero never ends; a pipe from <(…) is fine). */
async function readCapped(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, null);
      if (bytesRead === 0) return Buffer.concat(chunks);
      size += bytesRead;
      if (size > maxBytes) throw new UsageError(`${path}: larger than ${Math.round(maxBytes / 1024 / 1024)} MiB`);
      chunks.push(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

/** Refuses before any work when an output exists (unless `force`), so nothing is half-written. */
export async function refuseExisting(paths: string[], force: boolean): Promise<void> {
  if (force) return;
  for (const p of paths) if (await exists(p)) throw fileExists(p);
}

/** An output that exists and was not to be replaced (`overwrite` / `force` unset). */
const fileExists = (path: string) => new UsageError(`${path} already exists`, { detail: { kind: 'exists', what: 'file', names: [path] } }, 'ERR_FILE_EXISTS');

/**
 * Checks output files before any work (a prompt, a key made, a vault written): none exists unless
 * `force`, and each one's folder does. A file path never creates folders: a typo in it must not
 * scatter a private key into a new one.
 */
export async function checkOutputs(paths: string[], force: boolean): Promise<void> {
  await refuseExisting(paths, force);
  for (const p of paths) {
    const folder = await stat(dirname(p)).catch((err: unknown) => {
      throw systemError(err, p, 'write') ?? err;
    });
    if (!folder.isDirectory()) throw new UsageError(`cannot write ${p}: a part of the path is not a folder`, { hint: 'check the path' }, 'ERR_SYSTEM_ENOTDIR');
  }
}

/**
 * The files and folders one command creates. If a later step fails (the vault, a full disk) they
 * are removed again, so a failed command leaves nothing behind and its retry finds no "already
 * exists". A file that existed before (replaced with --force) is not removed: it cannot be restored.
 */
export class NewFiles {
  private readonly files: string[] = [];
  private readonly folders: string[] = [];

  /** `mkdir -p`, remembering the folders it made. */
  async mkdir(dir: string, mode?: number): Promise<void> {
    const first = await mkdir(dir, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    if (first === undefined) return;
    for (let d = resolve(dir); ; d = dirname(d)) {
      this.folders.push(d);
      if (d === resolve(first) || d === dirname(d)) break;
    }
  }

  async write(path: string, data: Uint8Array | string, options: WriteOptions = {}): Promise<void> {
    const existed = await exists(path);
    await writeFileAtomic(path, data, options);
    if (!existed) this.files.push(path);
  }

  /** Removes what was made, deepest first; a folder someone else has put a file in meanwhile stays. */
  async undo(): Promise<void> {
    for (const file of this.files) await rm(file, { force: true });
    for (const folder of this.folders) await rmdir(folder).catch(() => undefined);
  }
}

/** Runs `fn` with a NewFiles, and removes what it created if `fn` fails. */
export async function creatingFiles<T>(fn: (files: NewFiles) => Promise<T>): Promise<T> {
  const files = new NewFiles();
  try {
    return await fn(files);
  } catch (err) {
    await files.undo();
    throw err;
  }
}
