import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { BIN, baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { actAsUser, startProvider, type TestProvider } from '../helpers/oidc.js';

/** Starts `keysmith oauth login`, waits for the URL it prints, and hands it to `act`. */
async function loginWith(env: NodeJS.ProcessEnv, args: string[], act: (stderrSoFar: string) => Promise<unknown>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [BIN, 'oauth', 'login', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const acted = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/https:\/\/\S+/.test(stderr) && !acted.started) {
        acted.started = true;
        act(stderr).then(() => resolve(), reject);
      }
    });
  }) as Promise<void> & { started?: boolean };
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (acted.started) await acted;
  return { code, stderr, stdout };
}

describe('oauth against a real oidc-provider (HTTPS, test CA)', () => {
  const { home, cleanup } = tempHome();
  let provider: TestProvider;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    provider = await startProvider(home);
    env = baseEnv({ KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), NODE_EXTRA_CA_CERTS: provider.caFile });
  });
  afterAll(async () => {
    await provider?.close();
    cleanup();
  });

  it('add discovers the provider; login (auth code + PKCE) over the loopback; token; status never shows a token', async () => {
    const add = await runBin(['oauth', 'add', 'corp', '--issuer', provider.issuer, '--client-id', 'cli', '--scope', 'openid profile offline_access'], { env });
    expect(add.code, add.stderr).toBe(0);
    const login = await loginWith(env, ['corp', '--no-browser'], async (text) => {
      const url = /https:\/\/\S+/.exec(text)![0];
      expect(url).toContain('code_challenge_method=S256');
      expect(url).toMatch(/state=/);
      const done = await actAsUser(url, provider.ca);
      expect(done.body).toMatch(/Logged in/);
    });
    expect(login.code, login.stderr).toBe(0);
    const token = await runBin(['oauth', 'token', 'corp'], { env });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout.length).toBeGreaterThan(20);
    expect((await provider.introspect(token.stdout)).active).toBe(true);
    const status = await runBin(['oauth', 'status', '--json'], { env });
    expect(JSON.parse(status.stdout)[0]).toMatchObject({ name: 'corp', loggedIn: true, subject: 'alice', refreshToken: true });
    expect(status.stdout).not.toContain(token.stdout);
    expect(login.stderr + token.stderr + status.stderr).not.toContain(token.stdout);
  });
});
