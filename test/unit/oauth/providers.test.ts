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
