import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { listening, ociLayout } from '../helpers/registry.js';
import { freePort } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

const BIN_DIR = fileURLToPath(new URL('../../bin/', import.meta.url));
const REGISTRY = '/usr/bin/docker-registry';

/**
 * docker-credential-keysmith with the real tools: Debian's distribution registry (docker-registry)
 * with htpasswd over TLS from keysmith's CA, and skopeo with credHelpers set to keysmith.
 */
describeWith(['skopeo', 'htpasswd', REGISTRY], 'docker-credential-keysmith with skopeo and the distribution registry', () => {
  const { home, cleanup } = tempHome();
  let registry: ChildProcess;
  let env: NodeJS.ProcessEnv;
  let host: string;
  const authFile = join(home, 'auth.json');
  const certDir = join(home, 'certs');
  const password = 'registry password 1';

  /** skopeo, async: nothing in this process must block while it runs. */
  const skopeo = (args: string[], input?: string) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('skopeo', args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
  const helper = (args: string[], input = '') => runBin(['helper', 'docker', ...args], { env, input });

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), XDG_RUNTIME_DIR: join(home, 'run') });
    mkdirSync(join(home, 'run'), { mode: 0o700 });
    // The tools find docker-credential-keysmith on PATH, as after npm install -g (npm links it without the .js).
    mkdirSync(join(home, 'bin'));
    writeFileSync(join(home, 'bin', 'docker-credential-keysmith'), `#!/bin/sh\nexec "${process.execPath}" "${join(BIN_DIR, 'docker-credential-keysmith.js')}" "$@"\n`, { mode: 0o755 });
    env.PATH = `${join(home, 'bin')}${delimiter}${process.env.PATH}`;
    expect((await runBin(['tls', 'ca', 'create', 'dev'], { env })).code).toBe(0);
    mkdirSync(certDir);
    expect((await runBin(['tls', 'ca', 'export', '--out', join(certDir, 'ca.crt')], { env })).code).toBe(0);
    mkdirSync(join(home, 'tls'));
    expect((await runBin(['tls', 'issue', '127.0.0.1', '--out-dir', join(home, 'tls')], { env })).code).toBe(0);
    const files = readdirSync(join(home, 'tls'));
    const cert = join(home, 'tls', files.find((f) => f.endsWith('.pem') && !f.endsWith('-key.pem'))!);
    const key = join(home, 'tls', files.find((f) => f.endsWith('-key.pem'))!);
    execFileSync('htpasswd', ['-Bbc', join(home, 'htpasswd'), 'alice', password], { stdio: 'ignore' });
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    writeFileSync(join(home, 'registry.yml'), [
      'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(home, 'storage')}`,
      'http:', `  addr: ${host}`, '  tls:', `    certificate: ${cert}`, `    key: ${key}`,
      'auth:', '  htpasswd:', '    realm: keysmith-test', `    path: ${join(home, 'htpasswd')}`, '',
    ].join('\n'));
    registry = spawn(REGISTRY, ['serve', join(home, 'registry.yml')], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(authFile, JSON.stringify({ credHelpers: { [host]: 'keysmith' } }));
    ociLayout(join(home, 'image'));
  }, 60_000);
  afterAll(() => {
    registry?.kill();
    cleanup();
  });

  it('skopeo login stores through keysmith; copy and inspect authenticate through it; the password is nowhere in plaintext', async () => {
    const login = await skopeo(['login', '--authfile', authFile, '--cert-dir', certDir, '-u', 'alice', '--password-stdin', host], password);
    expect(login.status, login.stderr).toBe(0);
    const kept = await runBin(['secret', 'get', `registry/127.0.0.1_3a${host.split(':')[1]}`, '--json'], { env });
    expect(JSON.parse(kept.stdout)).toMatchObject({ kind: 'registry-credential', value: password, fields: { serverURL: host, username: 'alice' } });
    expect(readFileSync(authFile, 'utf8')).not.toContain(password);
    expect(readFileSync(authFile, 'utf8')).not.toContain(Buffer.from(`alice:${password}`).toString('base64'));

    const copy = await skopeo(['copy', '-q', '--authfile', authFile, '--dest-cert-dir', certDir, `oci:${join(home, 'image')}:1`, `docker://${host}/team/app:1`]);
    expect(copy.status, copy.stderr).toBe(0);
    const inspect = await skopeo(['inspect', '--authfile', authFile, '--cert-dir', certDir, `docker://${host}/team/app:1`]);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ Name: `${host}/team/app`, Os: 'linux' });
    // Without keysmith's answer the registry refuses: the credential really came from the helper.
    writeFileSync(join(home, 'empty-auth.json'), '{}');
    expect((await skopeo(['inspect', '--authfile', join(home, 'empty-auth.json'), '--cert-dir', certDir, `docker://${host}/team/app:1`])).status).not.toBe(0);
  });

  it('list shows server URL and user, never the secret; logout erases; then get is "credentials not found" and exit 1', async () => {
    const list = await helper(['list']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ [host]: 'alice' });
    expect(list.stdout).not.toContain(password);
    expect(JSON.parse((await helper(['get'], `${host}\n`)).stdout)).toEqual({ ServerURL: host, Username: 'alice', Secret: password });
    const logout = await skopeo(['logout', '--authfile', authFile, host]);
    expect(logout.status, logout.stderr).toBe(0);
    const get = await helper(['get'], host);
    expect({ code: get.code, stdout: get.stdout }).toEqual({ code: 1, stdout: 'credentials not found in native keychain\n' });
    expect((await helper(['erase'], host)).code).toBe(1);
    expect((await skopeo(['inspect', '--authfile', authFile, '--cert-dir', certDir, `docker://${host}/team/app:1`])).status).not.toBe(0);
  });

  it('the protocol: bad store input is exit 2 with the message on stdout; a locked vault is an error, never a credential; version and unknown actions', async () => {
    const bad = await helper(['store'], '{"ServerURL": "x"}');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/ServerURL, Username and Secret are needed/);
    expect((await helper(['store'], 'not json')).code).toBe(2);
    expect((await helper(['store'], JSON.stringify({ ServerURL: 'https://index.docker.io/v1/', Username: 'bob', Secret: 's3' }))).code).toBe(0);
    expect(JSON.parse((await helper(['get'], 'https://index.docker.io/v1/')).stdout).Secret).toBe('s3');
    const locked = await runBin(['helper', 'docker', 'get'], { env: { ...env, KEYSMITH_AGE_IDENTITY: await generateIdentity() }, input: 'https://index.docker.io/v1/' });
    expect(locked.code).toBe(4);
    expect(locked.stdout).not.toContain('s3');
    expect(locked.stdout).not.toContain('Secret');
    expect((await helper(['version'])).stdout).toMatch(/keysmith/);
    expect((await helper(['rotate'])).code).toBe(1);
  });
});
