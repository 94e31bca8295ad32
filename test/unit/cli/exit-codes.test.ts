import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, runMain, tempHome } from '../../helpers/cli.js';

/**
 * The four commands that finish without an error yet exit non-zero return their code to main
 * (issue 12: no shared mutable exitCode); main alone turns it into the process's exit code.
 */
describe('exit codes returned by commands, through main (in-process)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  describe('tls check: its own monitoring-plugin codes', () => {
    const tls = (c: string) => [`fixtures/tls/${c}/chain.pem`, '--ca-file', `fixtures/tls/${c}/root.pem`];
    it.each([
      ['OK', 0, [...tls('good-2')]],
      ['WARNING', 1, [...tls('good-2'), '--at', '2044-12-20T00:00:00Z']],
      ['CRITICAL (expired)', 2, [...tls('expired-leaf')]],
      ['CRITICAL (untrusted)', 2, ['fixtures/tls/good-2/chain.pem']],
      ['UNKNOWN (unreadable)', 3, ['fixtures/tls/no-such-case/chain.pem']],
      ['CRITICAL wins over OK', 2, [...tls('good-2'), 'fixtures/tls/expired-leaf/chain.pem']],
    ] as const)('%s → %i', async (_name, code, args) => {
      const got = await runMain(['tls', 'check', ...args], env);
      expect(got.code, got.stderr).toBe(code);
    });

    it('--json carries the status the code comes from', async () => {
      const got = await runMain(['--json', 'tls', 'check', ...tls('good-2'), '--at', '2044-12-20T00:00:00Z'], env);
      expect(got.code).toBe(1);
      expect(JSON.parse(got.stdout)).toMatchObject({ status: 'WARNING', summary: { WARNING: 1 } });
    });

    it('its own failures are UNKNOWN (3), never the usage 2: bad flags, bad values, no target', async () => {
      for (const args of [['--no-such-flag'], ['--warn', 'x', 'a.pem'], ['--crit', '40d', '--warn', '30d', 'a.pem'], []]) {
        const got = await runMain(['tls', 'check', ...args], env);
        expect(got.code, args.join(' ')).toBe(3);
      }
    });

    it('another command with "tls check" in its arguments keeps the one table', async () => {
      expect((await runMain(['secret', 'get', 'tls', 'check'], env)).code).toBe(2);
      expect((await runMain(['tls', 'inspect', '--no-such-flag'], env)).code).toBe(2);
    });
  });

  describe('exec: the child’s exit code', () => {
    it.each([
      [['true'], 0],
      [['false'], 1],
      [['sh', '-c', 'exit 7'], 7],
    ] as const)('%j → %i', async (argv, code) => {
      expect((await runMain(['exec', '--', ...argv], env)).code).toBe(code);
    });
  });

  describe('vault status: 0 only when the vault opens', () => {
    it('a file vault that opens → 0', async () => {
      expect((await runMain(['secret', 'set', 'a/b', '-'], env, { input: 'v' })).code).toBe(0);
      const got = await runMain(['--json', 'vault', 'status'], env);
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ backend: 'file', items: 1 });
    });

    it('the same vault with another identity → 4 (auth), with the status still printed', async () => {
      const other = { ...env, KEYSMITH_AGE_IDENTITY: await generateIdentity() };
      const got = await runMain(['--json', 'vault', 'status'], other);
      expect(got.code, got.stdout).toBe(4);
      expect(JSON.parse(got.stdout)).toMatchObject({ backend: 'file', error: { code: expect.any(String) } });
    });

    it('a keychain with no Secret Service to reach → 5 (unavailable)', async () => {
      const got = await runMain(['vault', 'status'], { ...env, KEYSMITH_VAULT: 'keychain' });
      expect(got.code, got.stdout + got.stderr).toBe(5);
    });
  });

  describe('ssh rotate', () => {
    let closed: Server;
    let port = 0;
    beforeAll(async () => {
      // A port that was just free and is closed again: connections to it are refused at once.
      closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      port = (closed.address() as { port: number }).port;
      await new Promise<void>((r) => closed.close(() => r()));
      writeFileSync(join(home, 'known_hosts'), '');
    });

    it('a dry run → 0; a host that cannot be reached leaves the rotation incomplete → 5', async () => {
      expect((await runMain(['ssh', 'keygen', 'work', '--no-passphrase', '--out', join(home, 'work')], env)).code).toBe(0);
      expect((await runMain(['ssh', 'hosts', 'add', 'work', `me@127.0.0.1:${port}`], env)).code).toBe(0);
      const dry = await runMain(['ssh', 'rotate', 'work', '--dry-run'], env);
      expect(dry.code, dry.stderr).toBe(0);
      const got = await runMain(['--json', 'ssh', 'rotate', 'work', '--known-hosts', join(home, 'known_hosts')], env);
      expect(got.code, got.stderr).toBe(5);
      expect(JSON.parse(got.stdout)).toMatchObject({ status: 'incomplete' });
    });
  });
});
