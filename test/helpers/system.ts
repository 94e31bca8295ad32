import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'vitest';

const found = new Map<string, boolean>();

export function hasTool(tool: string): boolean {
  if (!found.has(tool)) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      found.set(tool, true);
    } catch {
      found.set(tool, false);
    }
  }
  return found.get(tool)!;
}

/**
 * A describe block that needs real system programs. Without them it is skipped with the reason —
 * unless KEYSMITH_REQUIRE_SYSTEM_TESTS=1 (CI), where a missing peer is a failure, never a skip.
 */
export function describeWith(tools: string[], name: string, body: () => void): void {
  const missing = tools.filter((t) => !hasTool(t));
  describeIf(missing.length === 0, `missing ${missing.join(', ')}`, name, body);
}

/** A describe block that runs when `ready`; otherwise skipped with `why`, or failed under KEYSMITH_REQUIRE_SYSTEM_TESTS=1. */
function describeIf(ready: boolean, why: string, name: string, body: () => void): void {
  if (ready) {
    describe(name, body);
    return;
  }
  if (process.env.KEYSMITH_REQUIRE_SYSTEM_TESTS === '1') {
    describe(name, () => {
      it('has the system it needs', () => {
        throw new Error(`${why} (KEYSMITH_REQUIRE_SYSTEM_TESTS=1)`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${why})`, body);
}

/** Mounts a tmpfs of `size` (e.g. '64k') on `dir`: a real full disk (ENOSPC) for a test. Needs root. */
export function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
}

export function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'ignore' });
}

let mountable: boolean | undefined;

/** Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN): tried once, on a scratch folder. */
function canMountTmpfs(): boolean {
  if (mountable === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-mount-probe-'));
    try {
      mountTmpfs(dir, '4k');
      unmount(dir);
      mountable = true;
    } catch {
      mountable = false;
    } finally {
      rmdirSync(dir);
    }
  }
  return mountable;
}

/**
 * A describe block that mounts tiny file systems to fill them (tests run as root in CI). Skipped
 * when this process cannot mount — unless KEYSMITH_REQUIRE_SYSTEM_TESTS=1, where that is a failure.
 */
export function describeWithTmpfs(name: string, body: () => void): void {
  describeIf(canMountTmpfs(), 'cannot mount a tmpfs (needs root)', name, body);
}

/** The first `aws` on PATH that has `configure export-credentials` (AWS CLI v2; a v1 from pip may come first). */
export function awsWithExport(): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'aws');
    try {
      accessSync(candidate, constants.X_OK);
      execFileSync(candidate, ['configure', 'export-credentials', 'help'], { stdio: 'ignore', env: { ...process.env, PAGER: 'cat', MANPAGER: 'cat' } });
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error('no aws on PATH has `configure export-credentials`: install the AWS CLI v2 (Debian: awscli)');
}
