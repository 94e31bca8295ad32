import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, runBin, runProgram, tempHome } from '../helpers/cli.js';
import { actAsUser, clientEnv, loginWith, startProvider, type TestProvider } from '../helpers/oidc.js';
import { describeWith } from '../helpers/system.js';
import { serverCredentials, testCa } from '../helpers/tls-servers.js';

/**
 * kubectl (the real client-go exec plugin machinery) against an HTTPS "API server" on 127.0.0.1
 * that lets a request through only when its bearer token is active at the real oidc-provider
 * (RFC 7662 introspection), as an API server with a webhook token authenticator would.
 */
const TTL_S = 75; // with the default --min-valid 60s, keysmith keeps a token for 15 s (room for a loaded machine), then refreshes it

describeWith(['kubectl', 'script'], 'kubectl exec plugin: keysmith oauth token --exec-credential', () => {
  const { home, cleanup } = tempHome();
  let provider: TestProvider;
  let env: NodeJS.ProcessEnv;
  let api: Server;
  let server: string;
  /** The bearer token of each request the API server saw, and whether the provider called it active. */
  const seen: Array<{ token: string; active: boolean }> = [];

  beforeAll(async () => {
    provider = await startProvider(home, { accessTokenTtl: TTL_S });
    env = await clientEnv(provider, home);
    // kubectl finds `keysmith` on PATH, as after npm install -g.
    mkdirSync(join(home, 'bin'));
    writeFileSync(join(home, 'bin', 'keysmith'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    env.PATH = `${join(home, 'bin')}${delimiter}${env.PATH}`;
    const ca = await testCa('kube');
    writeFileSync(join(home, 'kube-ca.pem'), ca.certificatePem);
    api = createServer(await serverCredentials(ca, ['127.0.0.1']), (req: IncomingMessage, res: ServerResponse) => {
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      void (token ? provider.introspect(token) : Promise.resolve({ active: false })).then(({ active }) => {
        if (token) seen.push({ token, active });
        res.writeHead(active ? 200 : 401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(active && req.url === '/version'
          ? { major: '1', minor: '99', gitVersion: 'v1.99.0-keysmith-test' }
          : { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    server = `https://127.0.0.1:${(api.address() as { port: number }).port}`;
    const add = await runBin(['oauth', 'add', 'corp', '--issuer', provider.issuer, '--client-id', 'cli', '--scope', 'openid offline_access'], { env });
    expect(add.code, add.stderr).toBe(0);
  });
  afterAll(async () => {
    await new Promise((r) => api?.close(r));
    await provider?.close();
    cleanup();
  });

  const kubeconfig = (apiVersion: string, interactiveMode?: string) => {
    const file = join(home, `kubeconfig-${apiVersion.split('/')[1]}-${interactiveMode ?? 'unset'}`);
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: test',
      'clusters:', '- name: test', '  cluster:', `    server: ${server}`, `    certificate-authority: ${join(home, 'kube-ca.pem')}`,
      'contexts:', '- name: test', '  context: {cluster: test, user: corp}',
      'users:', '- name: corp', '  user:', '    exec:', `      apiVersion: ${apiVersion}`, '      command: keysmith',
      '      args: [oauth, token, corp, --exec-credential]',
      ...(interactiveMode ? [`      interactiveMode: ${interactiveMode}`] : []), '',
    ].join('\n'));
    return file;
  };
  const kubectl = (file: string) => runProgram('kubectl', ['--kubeconfig', file, 'get', '--raw', '/version'], { env });
  const refreshes = () => provider.grants.refresh_token ?? 0;

  it('v1 and v1beta1: kubectl gets the access token; keysmith keeps it while it is valid and refreshes it after; the provider is asked once per refresh', async () => {
    const login = await loginWith(env, ['corp', '--no-browser'], (text) => actAsUser(/https:\/\/\S+/.exec(text)![0], provider.ca));
    expect(login.code, login.stderr).toBe(0);
    const v1 = kubeconfig('client.authentication.k8s.io/v1', 'Never');
    const first = await kubectl(v1);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ gitVersion: 'v1.99.0-keysmith-test' });
    expect(seen.at(-1)!.active).toBe(true);
    const token = seen.at(-1)!.token;
    const before = refreshes();
    const again = await kubectl(kubeconfig('client.authentication.k8s.io/v1beta1'));
    expect(again.code, again.stderr).toBe(0);
    expect(seen.at(-1)).toEqual({ token, active: true });
    expect(refreshes()).toBe(before);
    // What kubectl read: the ExecCredential of the version it asked for, with the token's end.
    const printed = await runBin(['oauth', 'token', 'corp', '--exec-credential'], { env: { ...env, KUBERNETES_EXEC_INFO: JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', spec: { interactive: false } }) } });
    const credential = JSON.parse(printed.stdout);
    expect(credential).toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } });
    const ends = Date.parse(credential.status.expirationTimestamp);
    expect(ends).toBeGreaterThan(Date.now() + (TTL_S - 15) * 1000);
    expect(ends).toBeLessThanOrEqual(Date.now() + TTL_S * 1000);

    await new Promise((r) => setTimeout(r, (TTL_S - 60) * 1000 + 500));
    const later = await kubectl(v1);
    expect(later.code, later.stderr).toBe(0);
    expect(seen.at(-1)!.active).toBe(true);
    expect(seen.at(-1)!.token).not.toBe(token);
    expect(refreshes()).toBe(before + 1);
    expect(first.stderr + again.stderr + later.stderr).not.toContain(token);
  }, 60_000);

  it('not logged in and no terminal: kubectl fails with keysmith\'s one line and its hint, and nothing waits for a person', async () => {
    const out = await runBin(['oauth', 'logout', 'corp'], { env });
    expect(out.code, out.stderr).toBe(0);
    const count = seen.length;
    const run = await kubectl(kubeconfig('client.authentication.k8s.io/v1', 'IfAvailable'));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('not logged in to corp');
    expect(run.stderr).toContain('keysmith oauth login corp');
    expect(run.stderr).not.toMatch(/enter the code|https:\/\/127/);
    expect(seen.length).toBe(count);
  });

  it('a person at kubectl\'s terminal (interactiveMode IfAvailable, a pty through script): keysmith logs in with the device flow there, then kubectl goes on', async () => {
    const file = kubeconfig('client.authentication.k8s.io/v1', 'IfAvailable');
    const child = spawn('script', ['-qfec', `kubectl --kubeconfig ${file} get --raw /version`, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    let acted: Promise<unknown> | undefined;
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString();
      const uri = /\(or open (\S+)\)/.exec(text)?.[1] ?? /open (\S+) and enter the code/.exec(text)?.[1];
      if (uri && !acted) acted = actAsUser(uri, provider.ca, 'carol');
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(acted, text).toBeDefined();
    await acted;
    expect(code, text).toBe(0);
    expect(text).toContain('v1.99.0-keysmith-test');
    expect(seen.at(-1)!.active).toBe(true);
    const status = JSON.parse((await runBin(['oauth', 'status', '--json'], { env })).stdout);
    expect(status[0]).toMatchObject({ name: 'corp', loggedIn: true, subject: 'carol' });
  }, 60_000);

  it('a KUBERNETES_EXEC_INFO keysmith cannot answer is one line and exit 2, before the vault is opened', async () => {
    for (const info of ['{', '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}', '[]']) {
      const r = await runBin(['oauth', 'token', 'corp', '--exec-credential'], { env: { ...env, KUBERNETES_EXEC_INFO: info } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')[0]).toMatch(/KUBERNETES_EXEC_INFO|ExecCredential/);
    }
    const both = await runBin(['oauth', 'token', 'corp', '--exec-credential', '--header'], { env });
    expect(both.code).toBe(2);
  });
});
