import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openBrowser } from '../../../src/oauth/login.js';
import { tempHome } from '../../helpers/cli.js';

it("$BROWSER gets the login URL and none of keysmith's credentials", async () => {
  const { home, cleanup } = tempHome();
  try {
    const out = join(home, 'browser-env.json');
    const browser = join(home, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\n"${process.execPath}" -e 'const fs = require("fs"); fs.writeFileSync(process.argv[1] + ".tmp", JSON.stringify({ url: process.argv[2], env: Object.keys(process.env) })); fs.renameSync(process.argv[1] + ".tmp", process.argv[1])' "${out}" "$1"\n`);
    chmodSync(browser, 0o755);
    openBrowser('http://127.0.0.1:1/authorize?x=1', { PATH: process.env.PATH, BROWSER: browser, KEYSMITH_PASSPHRASE: 'p', KEYSMITH_SESSION: 's', KEYSMITH_AGE_IDENTITY: 'i', KEYSMITH_SECRET_X: 'x' });
    // The script writes aside and renames, so the file is whole once it exists.
    for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 50));
    const seen = JSON.parse(readFileSync(out, 'utf8')) as { url: string; env: string[] };
    expect(seen.url).toBe('http://127.0.0.1:1/authorize?x=1');
    expect(seen.env.filter((k) => k.startsWith('KEYSMITH_'))).toEqual([]);
    expect(seen.env).toContain('BROWSER');
  } finally {
    cleanup();
  }
});
