import { expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { canOpenBrowser } from '../../../src/oauth/login.js';
import { preset, validateProviderName } from '../../../src/oauth/providers.js';

it('knows the presets, with static endpoints for GitHub (no discovery there)', () => {
  expect(preset('github').server).toMatchObject({ device_authorization_endpoint: 'https://github.com/login/device/code' });
  expect(preset('gitlab').issuer).toBe('https://gitlab.com');
  expect(preset('microsoft:contoso').issuer).toBe('https://login.microsoftonline.com/contoso/v2.0');
  expect(preset('microsoft').issuer).toBe('https://login.microsoftonline.com/common/v2.0');
  expect(() => preset('myspace')).toThrow(UsageError);
  expect(() => validateProviderName('bad name')).toThrow(UsageError);
});

it('opens a browser only with a terminal and, on Linux, a display', () => {
  expect(canOpenBrowser({}, false)).toBe(false);
  if (process.platform === 'linux') {
    expect(canOpenBrowser({}, true)).toBe(false);
    expect(canOpenBrowser({ DISPLAY: ':0' }, true)).toBe(true);
    expect(canOpenBrowser({ BROWSER: 'firefox' }, true)).toBe(true);
  }
});

it('draws a QR code of the verification URL for a terminal', async () => {
  const { qrCode } = await import('../../../src/oauth/login.js');
  const art = await qrCode('https://login.example.com/device?user_code=ABCD-EFGH');
  const lines = art.trim().split('\n');
  expect(lines.length).toBeGreaterThan(10);
  expect(art).toMatch(/[█▀▄]/);
  expect(await qrCode('https://other.example')).not.toBe(art);
});

it('the library names no CLI command in its OAuth errors; the detail says what to do (issue 12)', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { getProvider } = await import('../../../src/oauth/providers.js');
  const { accessToken } = await import('../../../src/oauth/tokens.js');
  const { EnvVault } = await import('../../../src/vault/env.js');
  const { resolvePaths } = await import('../../../src/paths.js');
  const { cliMessage } = await import('../../../src/cli/messages.js');
  const home = mkdtempSync(join(tmpdir(), 'ks-oauth-'));
  try {
    const paths = resolvePaths({ KEYSMITH_HOME: home });
    type KeysmithError = import('../../../src/errors.js').KeysmithError;
    const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('no error'); }, (e: unknown) => e as KeysmithError);
    const missing = await failure(getProvider(paths, 'corp'));
    expect(missing.detail).toEqual({ kind: 'no-provider', provider: 'corp' });
    expect(`${missing.message} ${missing.hint}`).not.toMatch(/keysmith |--/);
    expect(cliMessage(missing).hint).toBe('add it: keysmith oauth add corp --issuer URL --client-id ID');

    const provider = { issuer: 'https://login.example.com', clientId: 'cli', scope: 'openid', grant: 'auth-code' as const, server: { issuer: 'https://login.example.com', token_endpoint: 'https://login.example.com/token' } };
    const needed = await failure(accessToken(new EnvVault({}), 'corp', provider, { minValidMs: 0, now: () => new Date(), paths }));
    expect(needed.detail).toEqual({ kind: 'login-needed', provider: 'corp' });
    expect(`${needed.message} ${needed.hint}`).not.toMatch(/keysmith |--/);
    expect(cliMessage(needed).hint).toBe('run keysmith oauth login corp');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
