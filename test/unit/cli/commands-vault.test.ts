import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, clockAt, HOUR_MS, isoAt, runMain, tempHome } from '../../helpers/cli.js';

/**
 * `keysmith vault …` in-process (issue 12). The unlock session's expiry is the injected now plus
 * --ttl, and whether a session still opens the vault is judged at the injected now.
 */
describe('vault (in-process, injected clock)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const ks = join(home, 'ks');
  const sessions = join(ks, 'sessions');
  const T = '2031-03-04T05:06:07.000Z';
  const at = (offsetMs = 0) => ({ now: clockAt(T, offsetMs) });
  let env: NodeJS.ProcessEnv;
  /** The same vault opened with a session token alone: no identity in the environment. */
  const withSession = (token: string) => ({ ...env, KEYSMITH_AGE_IDENTITY: undefined, KEYSMITH_SESSION: token });
  const sessionFiles = () => (existsSync(sessions) ? readdirSync(sessions).filter((n) => n.endsWith('.json')).sort() : []);
  const sessionExpiry = (token: string) => {
    const id = token.split('.')[1]!;
    return (JSON.parse(readFileSync(join(sessions, `${id}.json`), 'utf8')) as { expires: string }).expires;
  };
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  describe('status', () => {
    it('before the first write: the file vault, no items, exit 0', async () => {
      const got = await runMain(['--json', 'vault', 'status'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({
        backend: 'file', location: join(ks, 'vault.age'), reason: 'chosen with KEYSMITH_VAULT', writable: true, items: 0, identity: 'KEYSMITH_AGE_IDENTITY',
      });
    });

    it('--json counts the records written', async () => {
      for (const name of ['a/one', 'a/two']) expect((await runMain(['secret', 'set', name, '-'], env, { input: `value of ${name}`, ...at() })).code).toBe(0);
      const got = await runMain(['--json', 'vault', 'status'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ backend: 'file', items: 2, writable: true });
    });

    it('for people: one aligned "key: value" line each', async () => {
      const got = await runMain(['vault', 'status'], env, at());
      expect(got.code).toBe(0);
      expect(got.stdout).toBe(
        `backend:  file\nlocation: ${join(ks, 'vault.age')}\nchosen:   chosen with KEYSMITH_VAULT\nwritable: yes\nidentity: KEYSMITH_AGE_IDENTITY\nitems:    2\n`,
      );
    });
  });

  describe('unlock --ttl at a fixed clock: expiry = injected now + ttl', () => {
    let token = '';

    it('--json: {session, expires}; expires is now + --ttl, and so is the session file’s', async () => {
      const got = await runMain(['--json', 'vault', 'unlock', '--ttl', '2h'], env, at());
      expect(got.code, got.stderr).toBe(0);
      const out = JSON.parse(got.stdout) as { session: string; expires: string };
      expect(Object.keys(out)).toEqual(['session', 'expires']);
      expect(out.session).toMatch(/^ks1\.[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$/);
      expect(out.expires).toBe(isoAt(T, 2 * HOUR_MS));
      expect(sessionExpiry(out.session)).toBe(isoAt(T, 2 * HOUR_MS));
      token = out.session;
    });

    it('without --json: the token alone on stdout (no newline off a terminal), the expiry on stderr', async () => {
      const got = await runMain(['vault', 'unlock', '--ttl', '30m'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toMatch(/^ks1\.[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$/);
      expect(got.stderr).toBe(`session valid until ${isoAt(T, 30 * 60_000)}; end it with: keysmith vault lock\n`);
      expect(sessionExpiry(got.stdout)).toBe(isoAt(T, 30 * 60_000));
    });

    it('the default ttl is 12h', async () => {
      const got = await runMain(['--json', 'vault', 'unlock'], env, at(HOUR_MS));
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout).expires).toBe(isoAt(T, 13 * HOUR_MS));
    });

    it('a bad --ttl is a usage error (exit 2) and makes no session', async () => {
      const before = sessionFiles();
      const got = await runMain(['vault', 'unlock', '--ttl', 'soon'], env, at());
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/--ttl/);
      expect(sessionFiles()).toEqual(before);
    });

    it('the session opens the vault while the injected clock is before its expiry', async () => {
      const got = await runMain(['secret', 'get', 'a/one'], withSession(token), at(2 * HOUR_MS - 1000));
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('value of a/one');
      const status = await runMain(['--json', 'vault', 'status'], withSession(token), at(HOUR_MS));
      expect(JSON.parse(status.stdout)).toMatchObject({ identity: 'KEYSMITH_SESSION', items: 2 });
    });

    it('the same token, the clock moved to its expiry: the session has ended (exit 4) and its file is removed', async () => {
      const got = await runMain(['secret', 'get', 'a/one'], withSession(token), at(2 * HOUR_MS));
      expect(got.code).toBe(4);
      expect(got.stdout).toBe('');
      expect(got.stderr).toMatch(/session has ended/);
      expect(sessionFiles()).not.toContain(`${token.split('.')[1]}.json`);
    });

    it('lock ends every session (--json {ended}); a token from before no longer opens the vault', async () => {
      const fresh = JSON.parse((await runMain(['--json', 'vault', 'unlock'], env, at())).stdout).session as string;
      const count = sessionFiles().length;
      expect(count).toBeGreaterThan(0);
      const got = await runMain(['--json', 'vault', 'lock'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ ended: count, agentForgot: false });
      expect(sessionFiles()).toEqual([]);
      expect((await runMain(['secret', 'get', 'a/one'], withSession(fresh), at())).code).toBe(4);
      expect(JSON.parse((await runMain(['--json', 'vault', 'lock'], env, at())).stdout)).toEqual({ ended: 0, agentForgot: false });
    });
  });

  describe('unlock with a clock behind the system’s', () => {
    // 2020: every session made here has expired by the system clock, never by the injected one.
    const PAST = '2020-01-01T00:00:00.000Z';
    const past = (offsetMs = 0) => ({ now: clockAt(PAST, offsetMs) });

    it('a session made at an injected past time opens the vault at that time', async () => {
      const token = JSON.parse((await runMain(['--json', 'vault', 'unlock', '--ttl', '12h'], env, past())).stdout).session as string;
      expect(sessionExpiry(token)).toBe(isoAt(PAST, 12 * HOUR_MS));
      const got = await runMain(['secret', 'get', 'a/two'], withSession(token), past(HOUR_MS));
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('value of a/two');
    });

    // Was a bug: createSession swept ended sessions by the system clock, not the one it was given,
    // so a second unlock at an injected time deleted the first session, still valid by that clock.
    it('a second unlock at the same injected time leaves the first session, still valid at that time, alone', async () => {
      const first = JSON.parse((await runMain(['--json', 'vault', 'unlock', '--ttl', '12h'], env, past())).stdout).session as string;
      expect((await runMain(['secret', 'get', 'a/two'], withSession(first), past(HOUR_MS))).code).toBe(0);
      const second = await runMain(['--json', 'vault', 'unlock', '--ttl', '12h'], env, past(HOUR_MS));
      expect(second.code, second.stderr).toBe(0);
      const got = await runMain(['secret', 'get', 'a/two'], withSession(first), past(2 * HOUR_MS));
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('value of a/two');
    });
  });
});
