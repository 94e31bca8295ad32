import { execFileSync } from 'node:child_process';
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
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (process.env.KEYSMITH_REQUIRE_SYSTEM_TESTS === '1') {
    describe(name, () => {
      it('has the system programs it needs', () => {
        throw new Error(`missing ${missing.join(', ')} (KEYSMITH_REQUIRE_SYSTEM_TESTS=1)`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: missing ${missing.join(', ')})`, body);
}
