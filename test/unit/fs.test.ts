import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FailedError, UsageError } from '../../src/errors.js';
import { assertPrivate, ensurePrivateDir, readUserFile, withFileLock, writeFileAtomic } from '../../src/fs.js';
import { tempHome } from '../helpers/cli.js';
import { describeWithTmpfs, mountTmpfs, unmount } from '../helpers/system.js';

describe('files', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);

  it('writes atomically with mode 0600 and refuses to overwrite unless asked', async () => {
    const dir = join(home, 'private', 'nested');
    await ensurePrivateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const file = join(dir, 'f');
    await writeFileAtomic(file, 'one');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(writeFileAtomic(file, 'two')).rejects.toBeInstanceOf(UsageError);
    expect(readFileSync(file, 'utf8')).toBe('one');
    await writeFileAtomic(file, 'two', { overwrite: true });
    expect(readFileSync(file, 'utf8')).toBe('two');
  });

  it('an output path that is a symlink is replaced, never followed — unless writing through is asked (the vault)', async () => {
    const target = join(home, 'target.txt');
    const link = join(home, 'link.txt');
    writeFileSync(target, 'precious');
    symlinkSync(target, link);
    await writeFileAtomic(link, 'replaced', { overwrite: true });
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    const vaultLink = join(home, 'vault-link.age');
    symlinkSync(target, vaultLink);
    await writeFileAtomic(vaultLink, 'through', { overwrite: true, throughSymlink: true });
    expect(lstatSync(vaultLink).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('through');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('refuses folders and files others can change, and secrets others can read (exit 4, with the fix)', async () => {
    const dir = join(home, 'loose');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'f');
    writeFileSync(file, 'x', { mode: 0o600 });
    await assertPrivate(dir, 'folder');
    await assertPrivate(file, 'secret');
    chmodSync(dir, 0o775);
    await expect(assertPrivate(dir, 'folder')).rejects.toMatchObject({ kind: 'auth', code: 'ERR_LOOSE_PERMISSIONS', hint: `chmod 700 ${dir}` });
    chmodSync(file, 0o640);
    await assertPrivate(file, 'file'); // readable by the group: fine for an encrypted vault…
    await expect(assertPrivate(file, 'secret')).rejects.toMatchObject({ kind: 'auth' }); // …not for an identity
    await assertPrivate(join(dir, 'missing'), 'secret');
  });

  it('serialises lock holders and takes over a lock whose owner is dead', async () => {
    const target = join(home, 'locked');
    const order: string[] = [];
    await Promise.all([1, 2, 3].map((i) => withFileLock(target, async () => {
      order.push(`in${i}`);
      await new Promise((r) => setTimeout(r, 20));
      order.push(`out${i}`);
    })));
    for (let i = 0; i < order.length; i += 2) expect(order[i + 1]).toBe(order[i]!.replace('in', 'out'));
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(`${target}.lock`, `${dead}\n`);
    expect(await withFileLock(target, async () => 'taken over', { timeoutMs: 2000 })).toBe('taken over');
  });

  it('gives up on a live lock with a clear error', async () => {
    const target = join(home, 'busy');
    writeFileSync(`${target}.lock`, `${process.pid}\n`);
    await expect(withFileLock(target, async () => 'never', { timeoutMs: 100 })).rejects.toThrow(/locked by another keysmith process/);
  });
});

describe('files, on a write that fails', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);

  it('a missing folder is a usage error naming the path asked for, and nothing is created', async () => {
    const path = join(home, 'missing', 'dir', 'key');
    const err = await writeFileAtomic(path, 'data').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`cannot write ${path}: no such folder`);
    expect(readdirSync(home)).toEqual([]);
  });
});

describe('reading a file a user named', () => {
  it('a system error is a line for people, not Node\'s raw text', async () => {
    const long = join('/tmp', 'x'.repeat(300));
    const err = await readUserFile(long).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(`cannot read ${long}: the name is too long`);
  });
});

describeWithTmpfs('files, on a full file system (a 64 KiB tmpfs)', () => {
  const { home, cleanup } = tempHome();
  beforeAll(() => mountTmpfs(home, '64k'));
  afterAll(() => {
    unmount(home);
    cleanup();
  });

  it('ENOSPC is "no space left on device" for the path asked for, and no temp file is left behind', async () => {
    const path = join(home, 'big');
    const err = await writeFileAtomic(path, Buffer.alloc(256 * 1024, 1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FailedError);
    expect((err as Error).message).toBe(`cannot write ${path}: no space left on device`);
    expect(readdirSync(home)).toEqual([]);
    // The space is free again: a small write succeeds.
    await writeFileAtomic(path, 'small');
    expect(readdirSync(home)).toEqual(['big']);
  });

  it('a lock file that cannot be written is removed again: no ownerless lock holds later writers', async () => {
    const filler = join(home, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(128 * 1024));
    } catch {
      // ENOSPC: the disk is full, as wanted; an empty file can still be made.
    }
    const err = await withFileLock(join(home, 'vault'), async () => 'never').catch((e: unknown) => e);
    expect((err as Error).message).toBe(`cannot write ${join(home, 'vault.lock')}: no space left on device`);
    expect(readdirSync(home).sort()).toEqual(['big', 'filler']);
  });
});
