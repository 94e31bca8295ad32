import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeTokens } from '../../../src/oauth/tokens.js';
import { resolvePaths } from '../../../src/paths.js';
import { generateIdentity } from '../../../src/vault/age.js';
import { openVault } from '../../../src/vault/open.js';
import { baseEnv, clockAt, HOUR_MS, isoAt, runMain, tempHome } from '../../helpers/cli.js';

/**
 * `keysmith oauth list | status | token` in-process (issue 12), with no server at all: a GitHub
 * preset needs no discovery, and the token record is planted through the library (writeTokens).
 * Whether the access token is "valid until …" or "expired", and whether `token` hands out the cached
 * one, is judged at the injected now. Any fetch is a test failure: nothing here may reach a network.
 */
describe('oauth (in-process, injected clock, no network)', () => {
  const { home, cleanup } = tempHome();
  const ks = join(home, 'ks');
  const T = '2031-03-04T05:06:07.000Z';
  const at = (offsetMs = 0) => ({ now: clockAt(T, offsetMs) });
  const ACCESS = 'gho_access-token-0123456789';
  const EXPIRES = isoAt(T, HOUR_MS);
  const fetches: string[] = [];
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    vi.stubGlobal('fetch', async (input: unknown) => {
      fetches.push(String(input));
      throw new Error('no network in this test');
    });
  });
  afterAll(() => {
    vi.unstubAllGlobals();
    cleanup();
  });

  describe('an empty config', () => {
    it('list: --json [] ; for people, nothing on stdout and a hint on stderr', async () => {
      const json = await runMain(['--json', 'oauth', 'list'], env, at());
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual([]);
      const text = await runMain(['oauth', 'list'], env, at());
      expect(text.code).toBe(0);
      expect(text.stdout).toBe('');
      expect(text.stderr).toBe('no providers: keysmith oauth add NAME --issuer URL --client-id ID\n');
    });

    it('status: --json [] ; a named provider that is not there is exit 3', async () => {
      const json = await runMain(['--json', 'oauth', 'status'], env, at());
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual([]);
      const named = await runMain(['oauth', 'status', 'gh'], env, at());
      expect(named.code).toBe(3);
      expect(named.stderr).toMatch(/no OAuth provider named gh/);
    });
  });

  describe('a provider with a planted token', () => {
    it('add --preset github needs no discovery; --json shape', async () => {
      const got = await runMain(['--json', 'oauth', 'add', 'gh', '--preset', 'github', '--client-id', 'Iv1.abc'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({
        name: 'gh', issuer: 'https://github.com', clientId: 'Iv1.abc', grant: 'auth-code', scope: 'repo read:org', authMethod: null, redirectUri: 'http://127.0.0.1:PORT/callback',
      });
      const list = await runMain(['--json', 'oauth', 'list'], env, at());
      expect(JSON.parse(list.stdout)).toEqual([{ name: 'gh', issuer: 'https://github.com', clientId: 'Iv1.abc', grant: 'auth-code', scope: 'repo read:org' }]);
    });

    it('status before any login: not logged in', async () => {
      const got = await runMain(['--json', 'oauth', 'status'], env, at());
      expect(JSON.parse(got.stdout)).toEqual([{
        name: 'gh', issuer: 'https://github.com', grant: 'auth-code', loggedIn: false, subject: null, scope: null, accessTokenExpiresAt: null, refreshToken: false, storedIn: 'file vault, oauth/gh',
      }]);
      const text = await runMain(['oauth', 'status'], env, at());
      expect(text.stdout.split('\n')[1]!.split(/\s{2,}/)).toEqual(['gh', 'no', '-', '-', 'no', '-']);
    });

    it('plants a token expiring at T + 1 h through the library (writeTokens)', async () => {
      const { vault } = await openVault({ paths: resolvePaths(env), env, now: clockAt(T), notice: () => undefined, passphrase: async () => '' });
      await writeTokens(vault, 'gh', { accessToken: ACCESS, expiresAt: EXPIRES, scope: 'repo', subject: 'alice', obtainedAt: T }, new Date(T));
      const got = await runMain(['--json', 'oauth', 'status', 'gh'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual([{
        name: 'gh', issuer: 'https://github.com', grant: 'auth-code', loggedIn: true, subject: 'alice', scope: 'repo', accessTokenExpiresAt: EXPIRES, refreshToken: false, storedIn: 'file vault, oauth/gh',
      }]);
      expect(got.stdout).not.toContain(ACCESS);
    });

    it.each([
      ['T', 0, `valid until ${EXPIRES}`],
      ['T + 1 h − 1 s', HOUR_MS - 1000, `valid until ${EXPIRES}`],
      ['T + 1 h (the expiry itself)', HOUR_MS, 'expired'],
      ['T + 2 h', 2 * HOUR_MS, 'expired'],
    ])('status at %s: the ACCESS TOKEN column says %j', async (_when, offset, shown) => {
      const got = await runMain(['oauth', 'status'], env, at(offset));
      expect(got.code, got.stderr).toBe(0);
      const [header, row] = got.stdout.split('\n');
      expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'LOGGED IN', 'SUBJECT', 'ACCESS TOKEN', 'REFRESH', 'SCOPE']);
      expect(row!.split(/\s{2,}/)).toEqual(['gh', 'yes', 'alice', shown, 'no', 'repo']);
      expect(got.stdout + got.stderr).not.toContain(ACCESS);
    });

    it('token at T: the cached token, byte for byte; --json says refreshed: false', async () => {
      const got = await runMain(['oauth', 'token', 'gh'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(ACCESS);
      const json = await runMain(['--json', 'oauth', 'token', 'gh'], env, at(HOUR_MS - 61_000));
      expect(JSON.parse(json.stdout)).toEqual({ accessToken: ACCESS, expiresAt: EXPIRES, scope: 'repo', refreshed: false });
      const header = await runMain(['oauth', 'token', 'gh', '--header'], env, at());
      expect(header.stdout).toBe(`Authorization: Bearer ${ACCESS}`);
    });

    it('token within --min-valid (60 s) of the expiry, with no refresh token: exit 4, log in again; a shorter --min-valid still gets it', async () => {
      const got = await runMain(['oauth', 'token', 'gh'], env, at(HOUR_MS - 30_000));
      expect(got.code).toBe(4);
      expect(got.stdout).toBe('');
      expect(got.stderr).toBe('keysmith: the gh access token has expired and there is no refresh token\nhint: run keysmith oauth login gh\n');
      const shorter = await runMain(['oauth', 'token', 'gh', '--min-valid', '10s'], env, at(HOUR_MS - 30_000));
      expect(shorter.code, shorter.stderr).toBe(0);
      expect(shorter.stdout).toBe(ACCESS);
    });

    it('token after the expiry: exit 4, never the stale token', async () => {
      const got = await runMain(['oauth', 'token', 'gh'], env, at(2 * HOUR_MS));
      expect(got.code).toBe(4);
      expect(got.stdout + got.stderr).not.toContain(ACCESS);
    });

    it('exec --env TOKEN=ks://oauth/gh: the cached token while valid (masked in the output); exit 4 and no command once expired', async () => {
      const valid = await runMain(['exec', '--env', 'TOKEN=ks://oauth/gh', '--', '/bin/sh', '-c', 'printf "%s|" "$TOKEN"; printf %s "${#TOKEN}"'], env, at());
      expect(valid.code, valid.stderr).toBe(0);
      expect(valid.stdout).toBe(`***|${ACCESS.length}`);
      const marker = join(home, 'ran');
      const expired = await runMain(['exec', '--env', 'TOKEN=ks://oauth/gh', '--', '/bin/sh', '-c', `touch '${marker}'`], env, at(2 * HOUR_MS));
      expect(expired.code).toBe(4);
      expect(expired.stderr).toMatch(/hint: run keysmith oauth login gh/);
      expect(existsSync(marker)).toBe(false);
    });

    it('nothing above reached a network', () => {
      expect(fetches).toEqual([]);
    });
  });
});
