import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { saveProvider } from '../../../src/oauth/providers.js';
import { resolvePaths } from '../../../src/paths.js';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, runMain, tempHome } from '../../helpers/cli.js';

/**
 * Issue 12, in-process: the library says these as typed details, in its own words; the commands
 * print them as before, with their flags (src/cli/messages.ts). The e2e and integration suites
 * check the same lines against the built bin.
 */
describe('the CLI words what the library says as data (in-process)', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });
  afterAll(cleanup);

  it('exec: a value no environment variable can carry names --env-path', async () => {
    const file = join(home, 'nul.bin');
    writeFileSync(file, Buffer.from('a\0b'));
    expect((await runMain(['secret', 'set', 'bin/value', '--from-file', file], env)).code).toBe(0);
    const got = await runMain(['exec', '--env', 'BIG=bin/value', '--', 'true'], env);
    expect(got.code).toBe(2);
    expect(got.stderr).toBe('keysmith: BIG: the value contains a NUL byte and cannot be passed in an environment variable\nhint: pass it as a file instead: --env-path BIG=… gives the command the path of a private (0600) file holding it\n');
  });

  it('exec: an environment larger than the system allows (E2BIG) names --env-path', async () => {
    const file = join(home, 'big.env');
    // Plain values of an env file: each under the limit for one variable, together over ARG_MAX.
    writeFileSync(file, Array.from({ length: 40 }, (_, i) => `V${i}=${'x'.repeat(120 * 1024)}\n`).join(''));
    const got = await runMain(['exec', '--env-file', file, '--', 'true'], env);
    expect(got.code).toBe(126);
    expect(got.stderr).toMatch(/^keysmith: true: cannot start: .*\(E2BIG\)\nhint: pass large values as files: --env-path VAR=name\n$/);
  });

  it('oauth login: a provider that refuses the redirect URI is named at once and in the timeout hint, with --redirect-port and --device', async () => {
    const issuer = 'https://login.test';
    await saveProvider(resolvePaths(env), 'corp', {
      issuer, clientId: 'cli', scope: 'openid', grant: 'auth-code', server: { issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` },
    });
    // The login request answered 403 with no body, as glewlwyd answers for an unregistered port.
    vi.stubGlobal('fetch', async () => new Response('', { status: 403 }));
    try {
      const got = await runMain(['oauth', 'login', 'corp', '--no-browser', '--timeout', '1s'], env);
      expect(got.code).toBe(1);
      const advice = 'it may accept only registered ports (RFC 8252 §7.3 unmet): register http://127.0.0.1:PORT/callback for client cli and add corp again with --redirect-port PORT';
      expect(got.stderr).toContain(`keysmith: the provider answered HTTP 403 to the login request, not a login page: ${advice}\n`);
      expect(got.stderr).toContain(`keysmith: no login within 1 s\nhint: try again, or --device. If the provider showed an error page instead of a login, ${advice}\n`);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
