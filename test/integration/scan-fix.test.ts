import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { BIN, baseEnv, runBin, runProgram, tempHome, type Run } from '../helpers/cli.js';
import { startGitHttp, type GitHttpServer } from '../helpers/git-http.js';
import { listening, ociLayout } from '../helpers/registry.js';
import { freePort } from '../helpers/sshd.js';
import { awsWithExport, describeWith } from '../helpers/system.js';
import { serverCredentials, testCa } from '../helpers/tls-servers.js';

/**
 * `keysmith scan --fix --yes` with the real tools afterwards. A HOME holds plaintext credentials
 * for live servers on 127.0.0.1 (git http-backend behind Basic auth, Debian's distribution
 * registry with htpasswd, an HTTPS API endpoint for kubectl) and an AWS profile: git, skopeo,
 * the AWS CLI v2 and kubectl work with them before; after the fix they work through keysmith
 * (credential.helper, credHelpers, credential_process, an exec plugin), and no secret is left in
 * HOME. A fix whose check fails is undone; --fix without --yes and no terminal changes nothing.
 * The scan itself over a fixture HOME is in scan.test.ts.
 */
const BIN_DIR = fileURLToPath(new URL('../../bin/', import.meta.url));
const REGISTRY = '/usr/bin/docker-registry';


/** A program, async: the servers run in this process, so nothing here may block while it runs. */
const run = (command: string, args: string[], env: NodeJS.ProcessEnv, options: { cwd?: string; input?: string } = {}) => runProgram(command, args, { env, ...options });

/**
 * Every regular file under `dir` (links not followed), by its path relative to `dir`: its bytes
 * and mode. Not keysmith's compile cache (~/.cache/keysmith, Node 22 on): it holds code, not data.
 */
function snapshot(dir: string): Map<string, { bytes: Buffer; mode: number }> {
  const files = new Map<string, { bytes: Buffer; mode: number }>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && p === join(dir, '.cache', 'keysmith')) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.set(relative(dir, p), { bytes: readFileSync(p), mode: lstatSync(p).mode & 0o777 });
    }
  };
  walk(dir);
  return files;
}

const hex = (n: number) => randomBytes(n).toString('hex');
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

describeWith(['git', 'skopeo', 'htpasswd', REGISTRY, 'aws', 'kubectl'], 'scan --fix --yes: git, skopeo, the AWS CLI and kubectl work through keysmith afterwards', () => {
  const { home: root, cleanup } = tempHome();
  /** The servers' side (TLS, htpasswd, storage, repositories): outside every HOME, so no scan meets it. */
  const srv = join(root, 'srv');
  const certDir = join(srv, 'certs');
  const caFile = join(certDir, 'ca.crt');
  /** Clones go here, outside HOME. */
  const work = join(root, 'work');

  // The secrets, each different on every run: none may be left in HOME or printed by scan.
  const GIT_PASSWORD = `git p@ss:${hex(8)}`;
  const REGISTRY_PASSWORD = `registry-${hex(12)}`;
  const AWS_KEY_ID = `AKIA${hex(8).toUpperCase()}`;
  const AWS_SECRET = randomBytes(30).toString('base64');
  const KUBE_TOKEN = `kube-token-${hex(16)}`;
  // The git password also as URLs carry it, percent-encoded in upper and (git's credential-store) lower case hex.
  const SECRETS = [GIT_PASSWORD, encodeURIComponent(GIT_PASSWORD), encodeURIComponent(GIT_PASSWORD).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), REGISTRY_PASSWORD, Buffer.from(`alice:${REGISTRY_PASSWORD}`).toString('base64'), AWS_SECRET, KUBE_TOKEN];
  const leaks = (text: string | Buffer) => SECRETS.filter((s) => (typeof text === 'string' ? text.includes(s) : text.includes(Buffer.from(s))));

  let git: GitHttpServer;
  let registry: ChildProcess;
  let api: Server;
  let aws: string;
  let gitHost: string;
  let registryHost: string;
  let apiUrl: string;
  /** The Authorization header of each request the API endpoint saw. */
  const apiSeen: string[] = [];

  /**
   * A user's HOME with its own keysmith (vault outside HOME, so its backups are too), and the
   * bins in HOME/bin as after npm install -g: keysmith, git-credential-keysmith,
   * docker-credential-keysmith (unless left out), and the AWS CLI v2 ahead of any v1.
   */
  const makeUser = async (name: string, options: { dockerHelper: boolean }) => {
    const home = join(root, name);
    const bin = join(home, 'bin');
    mkdirSync(bin, { recursive: true, mode: 0o700 });
    const shim = (file: string, script: string) => writeFileSync(join(bin, file), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`, { mode: 0o755 });
    shim('keysmith', BIN);
    shim('git-credential-keysmith', join(BIN_DIR, 'git-credential-keysmith.js'));
    if (options.dockerHelper) shim('docker-credential-keysmith', join(BIN_DIR, 'docker-credential-keysmith.js'));
    symlinkSync(aws, join(bin, 'aws'));
    mkdirSync(join(root, `${name}-run`), { mode: 0o700 });
    const env = baseEnv({
      HOME: home, KEYSMITH_HOME: join(root, `${name}-keysmith`), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(),
      PATH: `${bin}${delimiter}${process.env.PATH}`, XDG_RUNTIME_DIR: join(root, `${name}-run`),
      // Only HOME's ~/.gitconfig counts, and git trusts the test CA.
      GIT_CONFIG_NOSYSTEM: '1', GIT_SSL_CAINFO: caFile,
      AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '',
    });
    // Nothing from the outer environment points the tools elsewhere or answers for them.
    for (const k of Object.keys(env)) {
      if (/^(AWS_|KUBE|DOCKER_|REGISTRY_AUTH_FILE$|XDG_CONFIG_HOME$|SSH_ASKPASS$|GIT_)/.test(k) && !['AWS_EC2_METADATA_DISABLED', 'AWS_PAGER', 'GIT_CONFIG_NOSYSTEM', 'GIT_SSL_CAINFO'].includes(k)) delete env[k];
    }
    return { home, env };
  };

  /**
   * `[credential] helper = store` and its file, the password in plaintext. Written here as
   * `https://alice:…@127.0.0.1:<port>`; git's credential-store rewrites the line on each success,
   * as `…@127.0.0.1%3a<port>` (git 2.39 percent-encodes the host's port separator too).
   */
  const writeGitPlaintext = (home: string) => {
    writeFileSync(join(home, '.git-credentials'), `https://alice:${encodeURIComponent(GIT_PASSWORD)}@${gitHost}\n`, { mode: 0o600 });
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Alice\n\temail = alice@example.com\n[credential]\n\thelper = store\n[init]\n\tdefaultBranch = main\n', { mode: 0o644 });
  };
  /** What `docker login` leaves without a helper: base64 user:password under auths. */
  const dockerPlaintext = () => `${JSON.stringify({ auths: { [registryHost]: { auth: Buffer.from(`alice:${REGISTRY_PASSWORD}`).toString('base64') } } }, null, 2)}`;

  /** The tools as a person runs them: nothing may prompt, nothing is given on the command line. */
  const gitClone = (env: NodeJS.ProcessEnv, dir: string) => run('git', ['clone', '-q', `${git.url}/app.git`, join(work, dir)], { ...env, GIT_TERMINAL_PROMPT: '0' });
  const skopeoInspect = (env: NodeJS.ProcessEnv, home: string) => run('skopeo', ['inspect', '--authfile', join(home, '.docker', 'config.json'), '--cert-dir', certDir, `docker://${registryHost}/team/app:1`], env);
  const awsExport = (env: NodeJS.ProcessEnv) => run('aws', ['configure', 'export-credentials', '--profile', 'prod', '--format', 'process'], env);
  const kubectl = (env: NodeJS.ProcessEnv, home: string) => run('kubectl', ['--kubeconfig', join(home, '.kube', 'config'), 'get', '--raw', '/version'], env);
  const keysmith = (env: NodeJS.ProcessEnv, args: string[]) => runBin(args, { env, timeoutMs: 60_000 });
  /** Whatever a scan printed must hold no secret. */
  const noLeaks = (r: Run) => expect(leaks(r.stdout + r.stderr), r.stdout + r.stderr).toEqual([]);

  let user: { home: string; env: NodeJS.ProcessEnv };

  beforeAll(async () => {
    aws = awsWithExport();
    mkdirSync(certDir, { recursive: true });
    mkdirSync(work);
    const ca = await testCa('scan-fix');
    writeFileSync(caFile, ca.certificatePem);
    const tls = await serverCredentials(ca, ['127.0.0.1']);
    writeFileSync(join(srv, 'tls.crt'), tls.cert);
    writeFileSync(join(srv, 'tls.key'), tls.key, { mode: 0o600 });

    // git: a repository with one commit, served by git http-backend behind Basic auth.
    const gitEnv = { ...process.env, HOME: srv, GIT_CONFIG_NOSYSTEM: '1' };
    execFileSync('git', ['init', '-q', '-b', 'main', join(srv, 'seed')], { env: gitEnv });
    writeFileSync(join(srv, 'seed', 'README'), 'hello from the server\n');
    execFileSync('git', ['-C', join(srv, 'seed'), 'add', 'README'], { env: gitEnv });
    execFileSync('git', ['-C', join(srv, 'seed'), '-c', 'user.name=Server', '-c', 'user.email=server@example.com', 'commit', '-q', '-m', 'first'], { env: gitEnv });
    mkdirSync(join(srv, 'repos'));
    execFileSync('git', ['clone', '-q', '--bare', join(srv, 'seed'), join(srv, 'repos', 'app.git')], { env: gitEnv });
    git = await startGitHttp(join(srv, 'repos'), tls, { username: 'alice', password: GIT_PASSWORD });
    gitHost = new URL(git.url).host;

    // The distribution registry with htpasswd over TLS, and an image pushed with the password on the command line.
    execFileSync('htpasswd', ['-Bbc', join(srv, 'htpasswd'), 'alice', REGISTRY_PASSWORD], { stdio: 'ignore' });
    const port = await freePort();
    registryHost = `127.0.0.1:${port}`;
    writeFileSync(join(srv, 'registry.yml'), [
      'version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${join(srv, 'storage')}`,
      'http:', `  addr: ${registryHost}`, '  tls:', `    certificate: ${join(srv, 'tls.crt')}`, `    key: ${join(srv, 'tls.key')}`,
      'auth:', '  htpasswd:', '    realm: keysmith-test', `    path: ${join(srv, 'htpasswd')}`, '',
    ].join('\n'));
    registry = spawn(REGISTRY, ['serve', join(srv, 'registry.yml')], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 50));
    ociLayout(join(srv, 'image'));
    const pushEnv = { ...process.env, HOME: srv, XDG_RUNTIME_DIR: srv, REGISTRY_AUTH_FILE: join(srv, 'no-auth.json') };
    const push = await run('skopeo', ['copy', '-q', '--dest-creds', `alice:${REGISTRY_PASSWORD}`, '--dest-cert-dir', certDir, `oci:${join(srv, 'image')}:1`, `docker://${registryHost}/team/app:1`], pushEnv);
    expect(push.code, push.stderr).toBe(0);

    // The Kubernetes API endpoint: /version for the one static token, 401 for anything else.
    api = createServer(tls, (req: IncomingMessage, res: ServerResponse) => {
      const authorization = req.headers.authorization ?? '';
      apiSeen.push(authorization);
      const ok = authorization === `Bearer ${KUBE_TOKEN}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok && req.url === '/version'
        ? { major: '1', minor: '99', gitVersion: 'v1.99.0-keysmith-scan-fix' }
        : { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 }));
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `https://127.0.0.1:${(api.address() as { port: number }).port}`;

    // The user's HOME, as the tools themselves leave it.
    user = await makeUser('home', { dockerHelper: true });
    const { home } = user;
    writeGitPlaintext(home);
    mkdirSync(join(home, '.docker'), { mode: 0o700 });
    writeFileSync(join(home, '.docker', 'config.json'), dockerPlaintext(), { mode: 0o600 });
    mkdirSync(join(home, '.aws'), { mode: 0o700 });
    writeFileSync(join(home, '.aws', 'config'), '[profile prod]\nregion = eu-west-1\noutput = json\n', { mode: 0o600 });
    writeFileSync(join(home, '.aws', 'credentials'), `[prod]\naws_access_key_id = ${AWS_KEY_ID}\naws_secret_access_key = ${AWS_SECRET}\n`, { mode: 0o600 });
    mkdirSync(join(home, '.kube'), { mode: 0o700 });
    writeFileSync(join(home, '.kube', 'config'), [
      'apiVersion: v1', 'kind: Config', 'current-context: dev', 'preferences: {}',
      'clusters:', '- name: dev', '  cluster:', `    server: ${apiUrl}`, `    certificate-authority: ${caFile}`,
      'contexts:', '- name: dev', '  context:', '    cluster: dev', '    user: alice',
      'users:', '- name: alice', '  user:', `    token: ${KUBE_TOKEN}`, '',
    ].join('\n'), { mode: 0o600 });
  }, 60_000);
  afterAll(async () => {
    registry?.kill();
    await git?.stop();
    await new Promise((r) => (api ? api.close(r) : r(undefined)));
    cleanup();
  });

  it('before the fix, each tool works with its plaintext file: git clone, skopeo inspect, aws export-credentials, kubectl get --raw /version', async () => {
    const { home, env } = user;
    const clone = await gitClone(env, 'before');
    expect(clone.code, clone.stderr).toBe(0);
    expect(readFileSync(join(work, 'before', 'README'), 'utf8')).toBe('hello from the server\n');
    const inspect = await skopeoInspect(env, home);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ Name: `${registryHost}/team/app`, Os: 'linux' });
    const exported = await awsExport(env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ Version: 1, AccessKeyId: AWS_KEY_ID, SecretAccessKey: AWS_SECRET });
    const version = await kubectl(env, home);
    expect(version.code, version.stderr).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({ gitVersion: 'v1.99.0-keysmith-scan-fix' });
    expect(apiSeen.at(-1)).toBe(`Bearer ${KUBE_TOKEN}`);
    // The servers really ask: without the credential, each refuses.
    writeFileSync(join(srv, 'empty-auth.json'), '{}');
    expect((await run('skopeo', ['inspect', '--authfile', join(srv, 'empty-auth.json'), '--cert-dir', certDir, `docker://${registryHost}/team/app:1`], { ...env, HOME: srv })).code).not.toBe(0);
    expect((await run('git', ['ls-remote', `${git.url}/app.git`], { ...env, HOME: srv, GIT_TERMINAL_PROMPT: '0' })).code).not.toBe(0);
  });

  it('scan finds the four credentials as the tools left them (git\'s own credential-store rewrote ~/.git-credentials on the clone); exit 1', async () => {
    // git's credential-store writes the host percent-encoded, its port too: https://alice:…@127.0.0.1%3a<port>.
    const r = await keysmith(user.env, ['scan', '--json']);
    noLeaks(r);
    expect(r.code, r.stderr).toBe(1);
    const found = (JSON.parse(r.stdout) as Array<{ kind: string; target: string; fixable: boolean }>).map(({ kind, target, fixable }) => ({ kind, target, fixable }));
    expect(found).toEqual([
      { kind: 'aws-credentials', target: `profile prod (${AWS_KEY_ID})`, fixable: true },
      { kind: 'docker-auth', target: `${registryHost} (alice)`, fixable: true },
      { kind: 'git-credentials', target: `https://alice@${gitHost}`, fixable: true },
      { kind: 'kubeconfig-token', target: 'user alice', fixable: true },
    ]);
  });

  it('scan --fix without --yes and no terminal: exit 2, and nothing changes (no file, no record)', async () => {
    const { home, env } = user;
    const before = snapshot(home);
    const r = await keysmith(env, ['scan', '--fix']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--yes');
    noLeaks(r);
    expect(snapshot(home)).toEqual(before);
    const list = await keysmith(env, ['secret', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([]);
    expect(existsSync(join(env.KEYSMITH_HOME!, 'scan-backups'))).toBe(false);
  });

  let fixed: { results: Array<Record<string, unknown>>; backups: string };
  let originals: Map<string, { bytes: Buffer; mode: number }>;

  it('scan --fix --yes --json: exit 0, every credential fixed, {results: [{kind, file, line, target, outcome, detail}], backups}; nothing secret printed', async () => {
    const { home, env } = user;
    originals = snapshot(home);
    const r = await keysmith(env, ['scan', '--fix', '--yes', '--json']);
    noLeaks(r);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    fixed = JSON.parse(r.stdout);
    const text = (file: string) => originals.get(file)!.bytes.toString('utf8');
    const port = (host: string) => host.split(':')[1];
    expect(Object.keys(fixed).sort()).toEqual(['backups', 'results']);
    expect([...fixed.results].sort((a, b) => String(a.kind).localeCompare(String(b.kind)))).toEqual([
      { kind: 'aws-credentials', file: join(home, '.aws', 'credentials'), line: lineOf(text('.aws/credentials'), 'aws_secret_access_key'), target: `profile prod (${AWS_KEY_ID})`, outcome: 'fixed', detail: 'aws/prod' },
      { kind: 'docker-auth', file: join(home, '.docker', 'config.json'), line: lineOf(text('.docker/config.json'), registryHost), target: `${registryHost} (alice)`, outcome: 'fixed', detail: `registry/127.0.0.1_3a${port(registryHost)}` },
      { kind: 'git-credentials', file: join(home, '.git-credentials'), line: 1, target: `https://alice@${gitHost}`, outcome: 'fixed', detail: `git/https/127.0.0.1_3a${port(gitHost)}` },
      { kind: 'kubeconfig-token', file: join(home, '.kube', 'config'), line: lineOf(text('.kube/config'), 'token:'), target: 'user alice', outcome: 'fixed', detail: 'kube/alice' },
    ]);
    // Backups go to keysmith's own folder, never into HOME.
    expect(fixed.backups).toEqual(expect.any(String));
    expect(fixed.backups.startsWith(`${env.KEYSMITH_HOME}/`)).toBe(true);
    expect(r.stderr).toContain(fixed.backups);
    // The records hold what the files held.
    const record = async (name: string) => JSON.parse((await keysmith(env, ['secret', 'get', name, '--json'])).stdout);
    expect(await record(`git/https/127.0.0.1_3a${port(gitHost)}`)).toMatchObject({ kind: 'git-credential', value: GIT_PASSWORD, fields: { protocol: 'https', host: gitHost, username: 'alice' } });
    expect(await record(`registry/127.0.0.1_3a${port(registryHost)}`)).toMatchObject({ kind: 'registry-credential', value: REGISTRY_PASSWORD, fields: { serverURL: registryHost, username: 'alice' } });
    expect(await record('aws/prod')).toMatchObject({ kind: 'aws-credential', value: AWS_SECRET, fields: { aws_access_key_id: AWS_KEY_ID } });
    expect(await record('kube/alice')).toMatchObject({ value: KUBE_TOKEN });
  });

  it('afterwards: git clone, skopeo inspect, aws export-credentials and kubectl work through keysmith, and only through it', async () => {
    const { home, env } = user;
    // git: credential.helper keysmith, store gone; the clone asks no one (no askpass, no terminal).
    const helpers = await run('git', ['config', '--global', '--get-all', 'credential.helper'], env);
    expect(helpers.stdout.split('\n').filter(Boolean)).toEqual(['keysmith']);
    expect(readFileSync(join(home, '.gitconfig'), 'utf8')).not.toMatch(/helper\s*=\s*store/);
    const clone = await gitClone(env, 'after');
    expect(clone.code, clone.stderr).toBe(0);
    expect(readFileSync(join(work, 'after', 'README'), 'utf8')).toBe('hello from the server\n');

    // skopeo: credHelpers names keysmith for the registry; no auth left.
    const config = JSON.parse(readFileSync(join(home, '.docker', 'config.json'), 'utf8'));
    expect(config.credHelpers).toEqual({ [registryHost]: 'keysmith' });
    expect(config.auths?.[registryHost]).toBeUndefined();
    const inspect = await skopeoInspect(env, home);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ Name: `${registryHost}/team/app`, Os: 'linux' });

    // AWS: the same keys, now from credential_process; the region the user had is kept.
    expect(readFileSync(join(home, '.aws', 'config'), 'utf8')).toMatch(/region = eu-west-1/);
    const exported = await awsExport(env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ Version: 1, AccessKeyId: AWS_KEY_ID, SecretAccessKey: AWS_SECRET });

    // kubectl: the exec plugin gives the token the API endpoint takes.
    expect(readFileSync(join(home, '.kube', 'config'), 'utf8')).toMatch(/command: keysmith/);
    const count = apiSeen.length;
    const version = await kubectl(env, home);
    expect(version.code, version.stderr).toBe(0);
    expect(JSON.parse(version.stdout)).toMatchObject({ gitVersion: 'v1.99.0-keysmith-scan-fix' });
    expect(apiSeen.slice(count)).toContain(`Bearer ${KUBE_TOKEN}`);

    // With keysmith's vault locked to them (another identity), every tool is refused: nothing else answers for them now.
    const locked = { ...env, KEYSMITH_AGE_IDENTITY: await generateIdentity() };
    expect((await gitClone(locked, 'locked')).code).not.toBe(0);
    expect((await skopeoInspect(locked, home)).code).not.toBe(0);
    expect((await awsExport(locked)).code).not.toBe(0);
    expect((await kubectl(locked, home)).code).not.toBe(0);
  });

  it('afterwards: no secret is left in any file under HOME', () => {
    for (const [file, { bytes }] of snapshot(user.home)) expect(leaks(bytes), `~/${file} holds a secret`).toEqual([]);
  });

  it('afterwards: the backups folder is 0700, its files 0600, and it holds every changed file as it was, byte for byte, each in a file of its own', () => {
    expect(statSync(fixed.backups).mode & 0o777).toBe(0o700);
    const backups = readdirSync(fixed.backups).map((f) => join(fixed.backups, f));
    for (const b of backups) expect(lstatSync(b).mode & 0o777, b).toBe(0o600);
    // Two of them are named `config` (~/.aws/config, ~/.kube/config): both must survive.
    const changed = ['.aws/config', '.aws/credentials', '.docker/config.json', '.git-credentials', '.gitconfig', '.kube/config'];
    const kept = backups.map((b) => readFileSync(b));
    for (const file of changed) expect(kept.some((k) => k.equals(originals.get(file)!.bytes)), `no backup of ~/${file} as it was (backups: ${readdirSync(fixed.backups).join(', ')})`).toBe(true);
    expect(backups).toHaveLength(changed.length);
  });

  it('afterwards: a second scan finds nothing and exits 0', async () => {
    const again = await keysmith(user.env, ['scan', '--json']);
    noLeaks(again);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual([]);
  });

  it('a fix whose check fails is undone: without docker-credential-keysmith on PATH the docker file is put back byte for byte and its record removed (exit 1), while the git fix in the same run holds', async () => {
    const other = await makeUser('home-no-docker-helper', { dockerHelper: false });
    const { home, env } = other;
    writeGitPlaintext(home);
    mkdirSync(join(home, '.docker'), { mode: 0o700 });
    const dockerFile = join(home, '.docker', 'config.json');
    writeFileSync(dockerFile, dockerPlaintext(), { mode: 0o600 });
    const before = readFileSync(dockerFile);

    const r = await keysmith(env, ['scan', '--fix', '--yes', '--json']);
    noLeaks(r);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = JSON.parse(r.stdout) as { results: Array<Record<string, unknown>>; backups: string | null };
    const byKind = Object.fromEntries(out.results.map((x) => [x.kind, x]));
    expect(out.results).toHaveLength(2);
    expect(byKind['docker-auth']).toMatchObject({ file: dockerFile, target: `${registryHost} (alice)`, outcome: 'failed' });
    expect(byKind['docker-auth']!.detail).toMatch(/docker-credential-keysmith.*put back as it was/);
    expect(byKind['git-credentials']).toMatchObject({ file: join(home, '.git-credentials'), outcome: 'fixed', detail: `git/https/127.0.0.1_3a${gitHost.split(':')[1]}` });
    expect(out.backups).toEqual(expect.any(String));

    // docker: the file as it was, byte for byte and mode; no registry record; the plaintext still works.
    expect(readFileSync(dockerFile).equals(before)).toBe(true);
    expect(statSync(dockerFile).mode & 0o777).toBe(0o600);
    const registries = await keysmith(env, ['secret', 'list', 'registry/', '--json']);
    expect(registries.code, registries.stderr).toBe(0);
    expect(JSON.parse(registries.stdout)).toEqual([]);
    const inspect = await skopeoInspect(env, home);
    expect(inspect.code, inspect.stderr).toBe(0);

    // git: fixed and working through keysmith.
    const gits = await keysmith(env, ['secret', 'list', 'git/', '--json']);
    expect(JSON.parse(gits.stdout)).toHaveLength(1);
    expect((await run('git', ['config', '--global', '--get-all', 'credential.helper'], env)).stdout).toBe('keysmith\n');
    const clone = await gitClone(env, 'other');
    expect(clone.code, clone.stderr).toBe(0);
    for (const [file, { bytes }] of snapshot(home)) if (file !== '.docker/config.json') expect(leaks(bytes), `${file} holds a secret`).toEqual([]);
  });
});
