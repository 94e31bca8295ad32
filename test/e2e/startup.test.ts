import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';

describe('start-up (issue 12)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);

  it("keeps V8's compiled code in a private folder of the user's cache where Node has a compile cache (22.1+), never in the shared /tmp", async () => {
    const cache = join(home, 'cache');
    const got = await runBin(['--help'], { env: baseEnv({ KEYSMITH_HOME: join(home, 'ks'), XDG_CACHE_HOME: cache }) });
    expect(got.code).toBe(0);
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const folder = join(cache, 'keysmith', `v8-${process.version}`);
    if (major > 22 || (major === 22 && minor >= 1)) {
      expect(statSync(folder).mode & 0o777).toBe(0o700);
      expect(statSync(join(cache, 'keysmith')).mode & 0o777).toBe(0o700);
      expect(readdirSync(folder).length).toBeGreaterThan(0);
    } else {
      expect(existsSync(folder)).toBe(false);
    }
  });
});
