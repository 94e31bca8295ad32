import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, runBin, tempHome } from '../helpers/cli.js';
import { clientEnv, startProvider, type TestProvider } from '../helpers/oidc.js';
import { describeWith } from '../helpers/system.js';

const CHROMIUM = '/usr/bin/chromium';

describeWith(['chromium'], 'oauth login in a real headless browser (Debian chromium, playwright-core)', () => {
  const { home, cleanup } = tempHome();
  let provider: TestProvider;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    provider = await startProvider(home);
    env = await clientEnv(provider, home);
    expect((await runBin(['oauth', 'add', 'corp', '--issuer', provider.issuer, '--client-id', 'cli'], { env })).code).toBe(0);
  });
  afterAll(async () => {
    await provider?.close();
    cleanup();
  });

  it('--no-browser prints the URL; a browser logs in and consents; the loopback page says so', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      const child = spawn(process.execPath, [BIN, 'oauth', 'login', 'corp', '--no-browser'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      const url = await new Promise<string>((resolve) => child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        const m = /https:\/\/\S+/.exec(stderr);
        if (m) resolve(m[0]);
      }));
      const closed = new Promise<number | null>((r) => child.on('close', r));
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      await page.fill('input[name=login]', 'carol');
      await page.fill('input[name=password]', 'anything');
      await page.click('button[type=submit]');
      await page.waitForSelector('text=Continue', { timeout: 20_000 });
      await page.click('button[type=submit]');
      await page.waitForSelector('text=Logged in', { timeout: 20_000 });
      expect(page.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      expect(await closed, stderr).toBe(0);
      const status = JSON.parse((await runBin(['oauth', 'status', 'corp', '--json'], { env })).stdout);
      expect(status[0]).toMatchObject({ loggedIn: true, subject: 'carol' });
    } finally {
      await browser.close();
    }
  });
});
