import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { BIN, baseEnv, runBin, runMain, runProgram, tempHome, type Run } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

/**
 * An outside review of `keysmith scan [PATH…] [--json] [--fix [--yes]]`: what it says about other
 * tools' credential files must be what those tools read (git credential-store, curl, the AWS CLI
 * v2, kubectl, docker, ssh-keygen/openssl are run side by side as the reference); no value may be
 * printed; a --fix must leave every tool working (or be put back as it was). Tests named
 * "finding N" state the right behaviour and fail on the code as reviewed; "SAFE" ones pin what holds.
 */

const BIN_DIR = fileURLToPath(new URL('../../bin/', import.meta.url));
const { home: root, cleanup } = tempHome();
let identity: string;
let n = 0;

beforeAll(async () => {
  identity = await generateIdentity();
});
afterAll(() => cleanup());

const hex = (k: number) => randomBytes(k).toString('hex');

/** The first `aws` on PATH that has `configure export-credentials` (AWS CLI v2; a pip v1 may come first). */
function awsV2(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'aws');
    try {
      accessSync(candidate, constants.X_OK);
      execFileSync(candidate, ['configure', 'export-credentials', 'help'], { stdio: 'ignore', env: { ...process.env, HOME: root, PAGER: 'cat', MANPAGER: 'cat' } });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

interface User {
  base: string;
  home: string;
  env: NodeJS.ProcessEnv;
}

/**
 * A person: HOME, keysmith's data outside it, the three bins on PATH as after npm install -g (and
 * the AWS CLI v2 ahead of a v1 when asked), nothing from the outer environment pointing the tools
 * elsewhere.
 */
function newUser(options: { aws?: boolean; extra?: Record<string, string>; dir?: string } = {}): User {
  const base = options.dir ?? join(root, `u${++n}`);
  const home = join(base, 'home');
  const bin = join(base, 'bin');
  mkdirSync(home, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const shim = (file: string, script: string) => writeFileSync(join(bin, file), `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`, { mode: 0o755 });
  shim('keysmith', BIN);
  shim('git-credential-keysmith', join(BIN_DIR, 'git-credential-keysmith.js'));
  shim('docker-credential-keysmith', join(BIN_DIR, 'docker-credential-keysmith.js'));
  if (options.aws) {
    const aws = awsV2();
    if (!aws) throw new Error('no AWS CLI v2 on PATH (configure export-credentials)');
    symlinkSync(aws, join(bin, 'aws'));
  }
  const env = baseEnv({
    HOME: home, KEYSMITH_HOME: join(base, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity,
    PATH: `${bin}${delimiter}${process.env.PATH}`, GIT_CONFIG_NOSYSTEM: '1', AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '',
  });
  for (const k of Object.keys(env)) {
    if (/^(AWS_|KUBE|DOCKER_|REGISTRY_AUTH_FILE$|XDG_CONFIG_HOME$|SSH_ASKPASS$|GIT_)/.test(k) && !['AWS_EC2_METADATA_DISABLED', 'AWS_PAGER', 'GIT_CONFIG_NOSYSTEM'].includes(k)) delete env[k];
  }
  Object.assign(env, options.extra ?? {});
  return { base, home, env };
}

/** Writes `text` at HOME/rel, folders made. */
function put(home: string, rel: string, text: string | Buffer, mode = 0o600): string {
  const file = join(home, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text, { mode });
  return file;
}

/** A program, async: some tests serve HTTP from this process, so nothing may block while it runs. */
const run = (command: string, args: string[], env: NodeJS.ProcessEnv, input = '', cwd?: string) => runProgram(command, args, { env, input, ...(cwd ? { cwd } : {}) });

const scan = (u: User, args: string[] = [], timeoutMs = 60_000) => runBin(['scan', ...args], { env: u.env, timeoutMs });
const findings = (r: Run) => JSON.parse(r.stdout) as Array<{ kind: string; file: string; line: number; target: string; length?: number; sha256?: string; advice: string; fixable: boolean }>;
/** What scan shows of a value: its length, and a hash prefix only for 16 characters or more. */
const fp = (value: string) => ([...value].length >= 16 ? { length: [...value].length, sha256: createHash('sha256').update(value).digest('hex').slice(0, 8) } : { length: [...value].length });

/** What `git credential fill` gives for a URL, as git asks during a fetch (no prompt, no askpass). */
const gitFill = (env: NodeJS.ProcessEnv, url: string) => run('git', ['credential', 'fill'], { ...env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' }, `url=${url}\n\n`);

// ================================================================== secrets reaching the output

describe('attack: scan output', () => {
  it('finding 1 (fixed): a token written as the user name (GitHub\'s https://TOKEN:x-oauth-basic@ form, netrc login TOKEN) is printed in the table and the JSON', async () => {
    const u = newUser();
    const token = `ghp_${hex(18)}`;
    put(u.home, '.git-credentials', `https://${token}:x-oauth-basic@github.com\n`);
    put(u.home, '.netrc', `machine api.github.com login ${token} password x-oauth-basic\n`);
    // git sends the token as the user name: it is the credential.
    expect((await run('git', ['credential-store', '--file', join(u.home, '.git-credentials'), 'get'], u.env, 'protocol=https\nhost=github.com\n\n')).stdout).toContain(`username=${token}`);
    const table = await scan(u);
    const json = await scan(u, ['--json']);
    expect(findings(json).map((f) => f.kind)).toEqual(['git-credentials', 'netrc']);
    for (const r of [table, json]) expect(r.stdout + r.stderr).not.toContain(token);
  });

  describeWith(['kubectl'], 'kubectl relayed', () => {
    it('finding 2 (fixed): a --fix whose kubectl check fails relays kubectl\'s error, which dumps the users list: a basic-auth password is printed', async () => {
      // A short folder, as a real HOME (/home/al) is: kubectl's message is cut at 200 characters.
      const dir = mkdtempSync(existsSync('/tmp') ? '/tmp/k' : join(root, 'k'));
      try {
        const u = newUser({ dir });
        const password = 'pw-LEAK-9';
        const file = put(dir, 'kubeconfig', [
          'apiVersion: v1', 'kind: Config', 'users:',
          '- name: o', '  user:', '    username: u', `    password: ${password}`,
          '- name: d', '  user:', '    token: first-token-aaaaaaaaaaaa',
          '- name: d', '  user:', '    token: second-token-bbbbbbbbbbbb', '',
        ].join('\n'));
        const table = await scan(u, [file, '--fix', '--yes']);
        const json = await scan(u, [file, '--fix', '--yes', '--json']);
        expect(json.stdout).toMatch(/"outcome": "failed"/);
        for (const r of [table, json]) expect(r.stdout + r.stderr).not.toContain(password);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('finding 3 (fixed): length + an unsalted SHA-256 prefix was a verifier for a weak password: a short value now shows its length only', async () => {
    const u = newUser();
    put(u.home, '.pgpass', 'db.example.com:5432:app:app:sunshine\n');
    const [f] = findings(await scan(u, ['--json']));
    // Any short list of common passwords, hashed as scan does.
    const guesses = ['123456', 'password', 'qwerty', 'letmein', 'dragon', 'monkey', 'sunshine', 'iloveyou', 'princess', 'football'];
    const full = (g: string) => createHash('sha256').update(g).digest('hex').slice(0, 8);
    const recovered = guesses.filter((g) => [...g].length === f!.length && full(g) === f!.sha256);
    expect(recovered).toEqual([]);
  });

  describeWith(['ssh-keygen'], 'advice', () => {
    it('finding 4 (fixed): the advice commands put file paths unquoted: pasting the advice for a key under a folder named "k$(touch PWNED)" runs touch', async () => {
      const u = newUser();
      const dir = join(u.home, 'backup', 'k$(touch PWNED)');
      mkdirSync(dir, { recursive: true });
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', join(dir, 'id_ed25519')]);
      const [f] = findings(await scan(u, [join(u.home, 'backup'), '--json'])).filter((x) => x.kind === 'ssh-key-unencrypted');
      expect(f).toBeDefined();
      // The first command of the advice, pasted into a shell where keysmith is a no-op.
      const command = f!.advice.split(' (then ')[0]!;
      const cwd = mkdtempSync(join(root, 'paste-'));
      try {
        execFileSync('sh', ['-c', `keysmith() { :; }; ${command}`], { cwd, stdio: 'ignore' });
      } catch {
        // a syntax error is no better, but only the command run is the finding
      }
      expect(existsSync(join(cwd, 'PWNED'))).toBe(false);
    });
  });

  it('SAFE: control characters and ANSI escapes in file names, hosts, users and profile names never reach the terminal raw', async () => {
    const u = newUser();
    const esc = '\x1b]0;owned\x07\x1b[31m';
    put(u.home, `d${esc}/.git-credentials`, `https://u${encodeURIComponent(esc)}:pw-ctrl-1@h${encodeURIComponent(esc)}.example\n`);
    const c1 = '\x07\x1bP\x9b31m\x7f';
    put(u.home, '.aws/credentials', `[p${c1}]\naws_access_key_id = AKIA${c1}\naws_secret_access_key = pw-ctrl-2\n`);
    put(u.home, '.kube/config', `users:\n- name: "k\\e]0;x\\a"\n  user:\n    token: pw-ctrl-3\n`);
    const table = await scan(u);
    const json = await scan(u, ['--json']);
    expect(table.code).toBe(1);
    expect(findings(json)).toHaveLength(3);
    expect(table.stdout + table.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(json.stdout + json.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
    for (const r of [table, json]) {
      for (const v of ['pw-ctrl-1', 'pw-ctrl-2', 'pw-ctrl-3']) expect(r.stdout + r.stderr).not.toContain(v);
    }
  });
});

// ================================================================== walking

describe('attack: scan walking', () => {
  it('finding 5 (fixed): a credential file kept as a symlink (dotfiles) is never read, even when named on the command line: "no plaintext credentials found", exit 0', async () => {
    const u = newUser();
    put(u.home, 'dotfiles/git-credentials', 'https://alice:s3cret-linked@git.example.com\n');
    symlinkSync('dotfiles/git-credentials', join(u.home, '.git-credentials'));
    // git reads through the link.
    expect((await run('git', ['credential-store', 'get'], u.env, 'protocol=https\nhost=git.example.com\n\n')).stdout).toContain('password=s3cret-linked');
    const named = await scan(u, [join(u.home, '.git-credentials')]);
    expect({ code: named.code, stderr: named.stderr }).not.toEqual({ code: 0, stderr: 'no plaintext credentials found\n' });
    const walked = await scan(u);
    expect({ code: walked.code, stderr: walked.stderr }).not.toEqual({ code: 0, stderr: 'no plaintext credentials found\n' });
  });

  it('finding 6 (fixed): HOME that is itself a symlink (a home moved to a bigger disk: /home/al -> /data/al) is not scanned at all: "no plaintext credentials found", exit 0', async () => {
    const u = newUser();
    put(u.home, '.git-credentials', 'https://alice:s3cret-home@git.example.com\n');
    const link = join(u.base, 'linked-home');
    symlinkSync(u.home, link);
    const r = await runBin(['scan', '--json'], { env: { ...u.env, HOME: link } });
    expect({ code: r.code, kinds: JSON.parse(r.stdout || '[]').map((f: { kind: string }) => f.kind) }).toEqual({ code: 1, kinds: ['git-credentials'] });
  });

  it('finding 7 (fixed): a path argument that does not exist is not said when relative or written with a trailing slash', async () => {
    const u = newUser();
    const relative = `no-such-dir-${hex(4)}`; // relative to keysmith's working folder (this repository)
    for (const path of [relative, `${join(u.home, 'nope')}/`]) {
      const r = await scan(u, [path]);
      expect(r.stderr, path).toMatch(/cannot read .*nope|cannot read .*no-such-dir/);
    }
  });

  it('finding 8 (fixed): scan of nothing but a path that does not exist is exit 0 ("nothing found"), as for a clean tree', async () => {
    const u = newUser();
    const r = await scan(u, [join(u.home, 'nope')]);
    expect(r.stderr).toContain('ENOENT');
    expect(r.code).not.toBe(0);
  });

  it('finding 9 (fixed): a kubeconfig over 256 KiB (many clusters with CA data) is skipped without a word: its token is not reported, exit 0', async () => {
    const u = newUser();
    const lines = ['apiVersion: v1', 'kind: Config', 'clusters:'];
    for (let i = 0; i < 120; i++) lines.push(`- name: c${i}`, '  cluster:', `    server: https://c${i}.example.com`, `    certificate-authority-data: ${'QUJD'.repeat(600)}`);
    lines.push('users:', '- name: dev', '  user:', '    token: kube-token-in-a-big-file-0123', '');
    put(u.home, '.kube/config', lines.join('\n'));
    expect(statSync(join(u.home, '.kube/config')).size).toBeGreaterThan(256 * 1024);
    const r = await scan(u, ['--json']);
    const reported = r.code === 1 && (findings(r).some((f) => f.kind === 'kubeconfig-token') || r.stderr.includes('.kube/config'));
    expect(reported, r.stderr).toBe(true);
  });

  describeWith(['mkfifo'], 'special files', () => {
    it('SAFE: FIFOs (one named .git-credentials), symlink loops and links to /etc/shadow in the tree or on the command line: no hang, nothing read through a link', async () => {
      const u = newUser();
      execFileSync('mkfifo', [join(u.home, 'fifo')]);
      execFileSync('mkfifo', [join(u.home, '.git-credentials')]); // a FIFO where a credential file is expected
      symlinkSync('.', join(u.home, 'loop'));
      mkdirSync(join(u.home, '.ssh'));
      symlinkSync('/etc/shadow', join(u.home, '.ssh', 'id_rsa'));
      symlinkSync('/etc/shadow', join(u.home, '.netrc'));
      const started = Date.now();
      const all = await scan(u, [], 20_000);
      const named = await scan(u, [join(u.home, 'fifo'), join(u.home, '.git-credentials'), join(u.home, 'loop')], 20_000);
      expect(Date.now() - started).toBeLessThan(15_000);
      for (const r of [all, named]) expect({ code: r.code, signal: r.signal, stdout: r.stdout }).toEqual({ code: 0, signal: null, stdout: '' });
    });
  });

  it('SAFE: 20,000 files: the one credential among them is found, in seconds', async () => {
    const u = newUser();
    for (let d = 0; d < 200; d++) {
      const dir = join(u.home, 'src', `d${d}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.txt`), 'hello '.repeat(40));
    }
    put(u.home, 'src/d123/.config/git/credentials', 'https://alice:deep-secret@git.example.com\n');
    const started = Date.now();
    const r = await scan(u, ['--json']);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(findings(r).map((f) => f.kind)).toEqual(['git-credentials']);
  });
});

// ================================================================== parsers against the tools that read the files

describe('attack: scan parsers', () => {
  it('SAFE: one line with a bad percent escape (a raw "%", which git keeps as it is) does not hide the other credentials of the file', async () => {
    const u = newUser();
    put(u.home, '.git-credentials', 'https://bob:good-secret@other.example.com\nhttps://alice:100%@git.example.com\nhttps://carol:%E0%A4%A@x.example\n');
    const r = await scan(u, ['--json']);
    expect(r.code).toBe(1);
    expect(findings(r).map((f) => f.target)).toEqual(['https://bob@other.example.com', 'https://alice@git.example.com', 'https://carol@x.example']);
    expect(findings(r)[1]).toMatchObject(fp('100%'));
  });

  it('SAFE: bombs and garbage (billion-laughs aliases, 50,000-deep JSON, 100,000-deep YAML, binary, invalid UTF-8, 100 KiB lines) are no crash and no hang', async () => {
    const u = newUser();
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    put(u.home, '.kube/config', `${laughs.join('\n')}\nusers:\n- name: *l\n  user:\n    token: tok-laughs-0123\n`);
    put(u.home, '.config/gh/hosts.yml', `${laughs.join('\n')}\ngithub.com: *l\n`);
    put(u.home, '.docker/config.json', `{"auths":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
    put(u.home, 'deep.kubeconfig', `users:\n${'- '.repeat(100_000)}x\n`);
    put(u.home, '.netrc', randomBytes(200_000));
    put(u.home, '.pgpass', Buffer.concat([Buffer.from('h:1:d:u:'), Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.from('\n')]));
    put(u.home, '.npmrc', `_authToken=${'x'.repeat(200 * 1024)}\n`);
    put(u.home, '.aws/credentials', `[default]\naws_access_key_id = ${'A'.repeat(100_000)}\naws_secret_access_key = ${'=:'.repeat(50_000)}\n`);
    const started = Date.now();
    const r = await scan(u, ['--json'], 30_000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
    expect(findings(r).map((f) => f.kind).sort()).toEqual(['aws-credentials', 'kubeconfig-token', 'npm-token', 'pgpass']);
  });

  it('finding 10 (fixed): two deeply nested YAML files (each alone is fine) abort the whole scan: V8 "FATAL ERROR: RegExpCompiler Allocation failed", exit 134, a native stack on stderr, nothing reported', async () => {
    const u = newUser();
    put(u.home, 'src/evil/a.kubeconfig', `users: ${'['.repeat(2000)}${']'.repeat(2000)}\n`);
    put(u.home, 'src/evil/b.kubeconfig', `users:\n${'- '.repeat(60_000)}x\n`);
    put(u.home, '.git-credentials', 'https://alice:s3cret-bomb@git.example.com\n');
    const r = await scan(u, ['--json'], 30_000);
    expect({ code: r.code, signal: r.signal, fatal: /FATAL ERROR/.test(r.stderr) }).toEqual({ code: 1, signal: null, fatal: false });
    expect(findings(r).map((f) => f.kind)).toEqual(['git-credentials']);
  });

  describeWith(['kubectl'], 'kubeconfig against kubectl', () => {
    it('finding 11 (fixed): a token kubectl reads is missed when the kubeconfig has a second YAML document or takes the user from a merge key (<<: *anchor)', async () => {
      const cases = {
        'two documents': 'apiVersion: v1\nkind: Config\nusers:\n- name: dev\n  user:\n    token: kube-token-doc-0123456789\n---\n# generated by a tool\n',
        'merge key': 'apiVersion: v1\nkind: Config\nx-base: &base\n  token: kube-token-merge-0123456789\nusers:\n- name: dev\n  user:\n    <<: *base\n',
      };
      const missed: string[] = [];
      for (const [what, text] of Object.entries(cases)) {
        const u = newUser();
        const file = put(u.home, '.kube/config', text);
        const token = execFileSync('kubectl', ['config', 'view', '--raw', '--kubeconfig', file, '-o', 'jsonpath={.users[0].user.token}'], { env: u.env }).toString();
        expect(token, what).toMatch(/^kube-token-/);
        const r = await scan(u, ['--json']);
        if (!findings(r).some((f) => f.kind === 'kubeconfig-token' && f.sha256 === fp(token).sha256)) missed.push(what);
      }
      expect(missed).toEqual([]);
    });
  });

  describeWith(['curl'], '.netrc against curl', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer((req, res) => res.end(req.headers.authorization ?? 'none'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise((r) => server.close(r)));

    it('finding 12 (fixed): in a CRLF .netrc a macdef swallows the rest of the file: the machine after it, whose password curl sends, is not reported (exit 0)', async () => {
      const u = newUser();
      const file = put(u.home, '.netrc', 'macdef init\r\ncd /pub\r\n\r\nmachine 127.0.0.1 login alice password crlf-secret\r\n');
      const sent = await run('curl', ['-s', '--netrc-file', file, url], u.env);
      expect(Buffer.from(sent.stdout.replace(/^Basic /, ''), 'base64').toString()).toBe('alice:crlf-secret');
      const r = await scan(u, ['--json']);
      expect(findings(r)).toMatchObject([{ kind: 'netrc', target: 'machine 127.0.0.1 login alice', ...fp('crlf-secret') }]);
    });
  });

  describeWith(['aws'], '~/.aws/credentials against the AWS CLI v2', () => {
    it('finding 13 (fixed): a profile header with a comment after it ("[default] ; main account") hides its keys from scan; the AWS CLI uses them', async () => {
      const u = newUser({ aws: true });
      put(u.home, '.aws/credentials', '[default] ; main account\naws_access_key_id = AKIAEXAMPLEDEFAULT01\naws_secret_access_key = commented-header-secret-0123\n');
      const cli = await run('aws', ['configure', 'export-credentials', '--format', 'process'], u.env);
      expect(cli.code, cli.stderr).toBe(0);
      expect(JSON.parse(cli.stdout)).toMatchObject({ SecretAccessKey: 'commented-header-secret-0123' });
      const r = await scan(u, ['--json']);
      expect(findings(r)).toMatchObject([{ kind: 'aws-credentials', ...fp('commented-header-secret-0123') }]);
    });
  });

  it('finding 14 (fixed): a docker auth with both "auth" (user:password) and "identitytoken": both are reported, and --fix refuses it (one secret a registry in the helper protocol) instead of deleting the password', async () => {
    const u = newUser();
    const file = put(u.home, '.docker/config.json', JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('bob:bob-registry-password').toString('base64'), identitytoken: 'idtok-value-0123' } } }));
    const r = await scan(u, ['--json']);
    const reported = findings(r).some((f) => f.sha256 === fp('bob-registry-password').sha256);
    // The helper protocol keeps one secret a registry: keysmith will not choose, and says so (exit 1).
    const fixed = await scan(u, ['--fix', '--yes']);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(1);
    expect(fixed.stdout).toMatch(/not-fixable +docker-auth .*a password and an identity token/);
    const vault = await runBin(['secret', 'get', 'registry/registry.example.com', '--json'], { env: u.env });
    const kept = readFileSync(file, 'utf8').includes(Buffer.from('bob:bob-registry-password').toString('base64')) || vault.stdout.includes('bob-registry-password');
    expect({ reported, kept }).toEqual({ reported: true, kept: true });
  });
});

// ================================================================== private keys against ssh-keygen / openssl

describeWith(['ssh-keygen', 'openssl'], 'attack: scan private keys, against ssh-keygen -y and openssl pkey', () => {
  const opens = (key: string) => [['ssh-keygen', '-y', '-P', '', '-f', key], ['openssl', 'pkey', '-in', key, '-passin', 'pass:', '-noout']].some(([cmd, ...args]) => {
    try {
      execFileSync(cmd!, args, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  const flagged = async (u: User, dir: string) => new Set(findings(await scan(u, [dir, '--json'])).filter((f) => f.kind === 'ssh-key-unencrypted').map((f) => f.file));

  it('finding 15 (fixed): unencrypted keys in ~/.ssh that ssh-keygen -y opens are passed over when the file holds more than 1 KiB besides the key (notes after it, Bag Attributes before it)', async () => {
    const u = newUser();
    const ssh = join(u.home, '.ssh');
    mkdirSync(ssh, { mode: 0o700 });
    const notes = join(ssh, 'id_notes');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', notes]);
    writeFileSync(notes, `${readFileSync(notes, 'utf8')}# note: this key is for the build box. ${'x'.repeat(1100)}\n`);
    const bag = join(ssh, 'id_bag');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-m', 'PEM', '-N', '', '-C', '', '-f', bag]);
    writeFileSync(bag, `Bag Attributes\n    localKeyID: ${'AB '.repeat(400)}\n    friendlyName: build\n${readFileSync(bag, 'utf8')}`, { mode: 0o600 });
    const keys = [notes, bag];
    for (const k of keys) expect(opens(k), k).toBe(true);
    const got = await flagged(u, ssh);
    expect(keys.filter((k) => !got.has(k))).toEqual([]);
  });

  it('finding 16 (fixed): a PKCS#8 key in ~/.ssh "encrypted" with an empty passphrase (openssl pkey opens it with pass:) is taken as protected', async () => {
    const u = newUser();
    const ssh = join(u.home, '.ssh');
    mkdirSync(ssh, { mode: 0o700 });
    const plain = join(u.base, 'plain.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', plain]);
    const key = join(ssh, 'id_rsa_emptypass');
    execFileSync('openssl', ['pkcs8', '-topk8', '-in', plain, '-v2', 'aes-256-cbc', '-passout', 'pass:', '-out', key]);
    execFileSync('chmod', ['600', key]);
    expect(readFileSync(key, 'utf8')).toContain('BEGIN ENCRYPTED PRIVATE KEY');
    // The rule scan.test.ts states: "no passphrase" exactly when ssh-keygen -y or openssl pkey opens it with an empty passphrase.
    expect(opens(key)).toBe(true);
    expect((await flagged(u, ssh)).has(key)).toBe(true);
  });

  it('finding 17 (fixed): a damaged OpenSSH key (body cut after its first line) that nothing can open is reported as an unencrypted key to import', async () => {
    const u = newUser();
    const ssh = join(u.home, '.ssh');
    mkdirSync(ssh, { mode: 0o700 });
    const key = join(ssh, 'id_cut');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', key]);
    const lines = readFileSync(key, 'utf8').trim().split('\n');
    writeFileSync(key, `${[lines[0], lines[1], lines.at(-1)].join('\n')}\n`, { mode: 0o600 });
    expect(opens(key)).toBe(false);
    expect((await flagged(u, ssh)).has(key)).toBe(false);
  });

  it('SAFE: generated keys of every type, format and cipher (and openssl -traditional PEM) get ssh-keygen\'s / openssl\'s verdict', async () => {
    const u = newUser();
    const ssh = join(u.home, '.ssh');
    mkdirSync(ssh, { mode: 0o700 });
    const keys: string[] = [];
    for (const [type, format] of [['ed25519', ''], ['rsa', 'PEM'], ['ecdsa', 'PKCS8'], ['ecdsa', ''], ['rsa', 'PKCS8']] as const) {
      for (const pass of ['', 'pass phrase']) {
        const file = join(ssh, `${type}-${format || 'openssh'}${pass ? '-enc' : ''}`);
        execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), ...(format ? ['-m', format] : []), '-N', pass, '-C', '', '-f', file]);
        keys.push(file);
      }
    }
    const traditional = join(ssh, 'openssl-traditional-enc');
    execFileSync('openssl', ['genrsa', '-traditional', '-aes256', '-passout', 'pass:secret', '-out', traditional, '2048'], { stdio: 'ignore' });
    keys.push(traditional);
    const crlf = join(ssh, 'crlf-enc');
    writeFileSync(crlf, readFileSync(traditional, 'utf8').replace(/\n/g, '\r\n'), { mode: 0o600 });
    keys.push(crlf);
    const got = await flagged(u, ssh);
    expect(keys.filter((k) => got.has(k) !== opens(k))).toEqual([]);
  });
});

// ================================================================== --fix

describeWith(['git'], 'attack: scan --fix, git', () => {
  it('finding 18 (fixed): --fix drops every "store" helper, also `store --file OTHER`: the credentials in OTHER (not moved) no longer reach git', async () => {
    const u = newUser();
    put(u.home, '.gitconfig', '[credential]\n\thelper = store --file ~/.secrets/gitstore\n\thelper = store\n', 0o644);
    put(u.home, '.secrets/gitstore', 'https://carol:other-secret@other.example.com\n');
    put(u.home, '.git-credentials', 'https://alice:s3cret@git.example.com\n');
    expect((await gitFill(u.env, 'https://other.example.com/x.git')).stdout).toContain('password=other-secret');
    const r = await scan(u, ['--fix', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await gitFill(u.env, 'https://git.example.com/x.git')).stdout).toContain('password=s3cret');
    const other = await gitFill(u.env, 'https://other.example.com/x.git');
    expect(other.stdout + other.stderr).toContain('password=other-secret');
  });

  it('finding 19 (fixed): a store helper set for a URL ([credential "https://host"]) is left: the next git fetch writes the plaintext back into ~/.git-credentials', async () => {
    const u = newUser();
    put(u.home, '.gitconfig', '[credential "https://git.example.com"]\n\thelper = store\n', 0o644);
    put(u.home, '.git-credentials', 'https://alice:s3cret-back@git.example.com\n');
    const r = await scan(u, ['--fix', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // What git does around a fetch that worked: fill, then approve to every helper.
    const filled = await gitFill(u.env, 'https://git.example.com/app.git');
    expect(filled.stdout).toContain('password=s3cret-back');
    await run('git', ['credential', 'approve'], u.env, filled.stdout);
    const file = join(u.home, '.git-credentials');
    expect(existsSync(file) ? readFileSync(file, 'utf8') : '').not.toContain('s3cret-back');
  });

  it('finding 20 (fixed): with GIT_CONFIG_GLOBAL set, a fix whose check fails is not "put back as it was": store is gone from the git config, so git loses the credential', async () => {
    const u = newUser();
    const config = put(u.home, 'cfg/gitconfig', '[credential]\n\thelper = store\n', 0o644);
    const before = readFileSync(config, 'utf8');
    put(u.home, '.git-credentials', 'https://alice:s3cret-undo@git.example.com\n');
    // keysmith on PATH, git-credential-keysmith not (a partial install): git's check fails.
    const bin = join(u.base, 'only-keysmith');
    mkdirSync(bin);
    writeFileSync(join(bin, 'keysmith'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    const env = { ...u.env, GIT_CONFIG_GLOBAL: config, PATH: `${bin}${delimiter}${process.env.PATH}` };
    expect((await gitFill(env, 'https://git.example.com/app.git')).stdout).toContain('password=s3cret-undo');
    const r = await runBin(['scan', '--fix', '--yes', '--json'], { env });
    expect(r.stdout).toMatch(/put back as it was/);
    expect(readFileSync(config, 'utf8')).toBe(before);
    expect((await gitFill(env, 'https://git.example.com/app.git')).stdout).toContain('password=s3cret-undo');
  });

  it('finding 21 (fixed): one line with a path (git credential-store serves it to any request for the host) makes the whole file unfixable — the fixture HOME\'s own bob line', async () => {
    const u = newUser();
    const file = put(u.home, '.git-credentials', 'https://alice:s3cret-a@git.example.com\nhttps://bob:p%40ss%3Aword@git.example.com:8443/team/app.git\n');
    // The reference: credential-store answers a request without a path (git sends none unless credential.useHttpPath).
    expect((await run('git', ['credential-store', '--file', file, 'get'], u.env, 'protocol=https\nhost=git.example.com:8443\n\n')).stdout).toContain('password=p@ss:word');
    const r = await scan(u, ['--fix', '--yes', '--json']);
    const outcomes = (JSON.parse(r.stdout) as { results: Array<{ target: string; outcome: string }> }).results.map((x) => `${x.target}: ${x.outcome}`);
    expect(outcomes).toEqual(['https://alice@git.example.com: fixed', 'https://bob@git.example.com:8443/team/app.git: fixed']);
    expect((await gitFill(u.env, 'https://git.example.com:8443/team/app.git')).stdout).toContain('password=p@ss:word');
  });

  it('finding 22 (fixed): ~/.git-credentials rewritten by git while --fix asks (credential-store puts a new entry first): lines are taken out by their text, and a credential not moved makes the fix fail and put back — none is lost', async () => {
    const u = newUser();
    const file = put(u.home, '.git-credentials', 'https://alice:s3cret-race@git.example.com\n');
    const prompter = {
      password: async () => '',
      confirm: async () => {
        // Meanwhile an IDE's background fetch stores a new credential: git's credential-store writes it first.
        await run('git', ['credential-store', 'store'], u.env, 'protocol=https\nhost=new.example.com\nusername=zed\npassword=zed-secret\n\n');
        return true;
      },
    };
    const r = await runMain(['scan', file, '--fix'], u.env, { tty: true, prompter });
    // Fixed (alice's plaintext gone, zed's still reachable by git) or refused and put back (both
    // lines still in the file, as git left them): never a credential lost, never "fixed" with the plaintext left.
    const left = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const fixed = /fixed +git-credentials/.test(r.stdout);
    if (fixed) {
      expect(left).not.toContain('s3cret-race');
      expect((await gitFill(u.env, 'https://new.example.com/x.git')).stdout).toContain('password=zed-secret');
    } else {
      expect(r.stdout).toMatch(/failed +git-credentials .*not moved \(declined, or new since the scan\)/);
      expect(left).toContain('s3cret-race');
      expect(left).toContain('zed-secret');
      expect(JSON.parse((await runBin(['secret', 'list', 'git/', '--json'], { env: u.env })).stdout)).toEqual([]);
    }
  });

  it('SAFE: --fix keeps the mode of a rewritten file (0644 stays 0644, 0600 stays 0600), backups are 0600 in a 0700 folder, and a second --fix is a no-op (exit 0)', async () => {
    const u = newUser();
    put(u.home, '.gitconfig', '[user]\n\tname = A\n', 0o644);
    const creds = put(u.home, '.git-credentials', 'https://alice:s3cret-m@git.example.com\nnot a url\n', 0o640);
    const docker = put(u.home, '.docker/config.json', JSON.stringify({ auths: { 'r.example.com': { auth: Buffer.from('a:docker-m').toString('base64') } }, HttpHeaders: { 'User-Agent': 'x' } }), 0o644);
    const r = await scan(u, ['--fix', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(statSync(creds).mode & 0o777).toBe(0o640);
    expect(statSync(docker).mode & 0o777).toBe(0o644);
    expect(statSync(join(u.home, '.gitconfig')).mode & 0o777).toBe(0o644);
    const backups = (JSON.parse(r.stdout) as { backups: string }).backups;
    expect(statSync(backups).mode & 0o777).toBe(0o700);
    for (const b of readdirSync(backups)) expect(lstatSync(join(backups, b)).mode & 0o777, b).toBe(0o600);
    const again = await scan(u, ['--fix', '--yes', '--json']);
    expect({ code: again.code, stdout: JSON.parse(again.stdout) }).toEqual({ code: 0, stdout: { results: [], backups: null } });
  });

  it('SAFE: a vault that already holds a different credential under the record name: the fix fails, the file and the record are left as they were', async () => {
    const u = newUser();
    const set = await runBin(['secret', 'set', 'registry/r.example.com', '-', '--kind', 'registry-credential', '--field', 'serverURL=r.example.com', '--field', 'username=a'], { env: u.env, input: 'the-users-own' });
    expect(set.code, set.stderr).toBe(0);
    const file = put(u.home, '.docker/config.json', JSON.stringify({ auths: { 'r.example.com': { auth: Buffer.from('a:in-the-file').toString('base64') } } }));
    const before = readFileSync(file);
    const r = await scan(u, ['--fix', '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/"outcome": "failed"/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(JSON.parse((await runBin(['secret', 'get', 'registry/r.example.com', '--json'], { env: u.env })).stdout)).toMatchObject({ value: 'the-users-own' });
  });
});

describeWith(['aws'], 'attack: scan --fix, the AWS CLI v2', () => {
  const exportCredentials = (env: NodeJS.ProcessEnv, profile: string) => run('aws', ['configure', 'export-credentials', '--profile', profile, '--format', 'process'], env);

  it('finding 23 (fixed): a config header with a comment ("[profile prod] # production") gets a second [profile prod]: the AWS CLI cannot parse the config (every profile broken), and --fix says fixed', async () => {
    const u = newUser({ aws: true });
    put(u.home, '.aws/config', '[profile prod] # production\nregion = eu-west-1\n');
    put(u.home, '.aws/credentials', '[prod]\naws_access_key_id = AKIAEXAMPLEPROD00001\naws_secret_access_key = prodSecretAccessKeyExample0000000000000\n');
    expect((await exportCredentials(u.env, 'prod')).code).toBe(0);
    const r = await scan(u, ['--fix', '--yes', '--json']);
    const after = await exportCredentials(u.env, 'prod');
    // Fixed and working, or failed and put back (working as before): never a broken AWS CLI.
    const outcome = (JSON.parse(r.stdout) as { results: Array<{ outcome: string }> }).results[0]!.outcome;
    expect({ outcome, aws: after.code === 0 ? 'works' : after.stderr.trim() }).toEqual({ outcome, aws: 'works' });
  });

  it('finding 24 (fixed): with AWS_CONFIG_FILE set, credential_process goes to ~/.aws/config, which the AWS CLI does not read: after "fixed" the profile has no credentials', async () => {
    const u = newUser({ aws: true });
    const config = put(u.home, 'etc/aws-config', '[default]\nregion = eu-west-1\n');
    u.env.AWS_CONFIG_FILE = config;
    put(u.home, '.aws/credentials', '[default]\naws_access_key_id = AKIAEXAMPLEDEFAULT01\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYDEFAULTKEY\n');
    expect((await exportCredentials(u.env, 'default')).code).toBe(0);
    const r = await scan(u, ['--fix', '--yes']);
    expect(r.stdout).toMatch(/fixed +aws-credentials/);
    const after = await exportCredentials(u.env, 'default');
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ AccessKeyId: 'AKIAEXAMPLEDEFAULT01', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYDEFAULTKEY' });
  });
});

describeWith(['docker'], 'attack: scan --fix, the docker CLI (against a stand-in daemon that records X-Registry-Auth)', () => {
  let server: Server;
  let socket: string;
  const seen: Array<Record<string, string>> = [];
  beforeAll(async () => {
    const dir = mkdtempSync(join(root, 'dockerd-'));
    socket = join(dir, 'd.sock');
    server = createServer((req, res) => {
      if (req.url?.includes('/_ping')) {
        res.writeHead(200, { 'Api-Version': '1.45', 'Content-Type': 'text/plain', OSType: 'linux' });
        res.end('OK');
        return;
      }
      const auth = req.headers['x-registry-auth'];
      seen.push(typeof auth === 'string' ? JSON.parse(Buffer.from(auth.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString()) : {});
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"status":"done"}\n');
    });
    await new Promise<void>((r) => server.listen(socket, r));
  });
  afterAll(() => new Promise((r) => server.close(r)));

  /** What `docker pull IMAGE` sends the daemon for the registry: the credentials docker resolved. */
  const pullAuth = async (env: NodeJS.ProcessEnv, image: string) => {
    seen.length = 0;
    const r = await run('docker', ['-H', `unix://${socket}`, 'pull', image], env);
    expect(r.code, r.stderr).toBe(0);
    return seen.at(-1) ?? {};
  };

  it('finding 25 (fixed): an auths key written with a scheme (https://<acct>.dkr.ecr…, as `docker login https://…` and `aws ecr get-login` left it) becomes a credHelpers key docker never looks up: docker pull sends no credentials', async () => {
    const u = newUser();
    const ecr = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
    put(u.home, '.docker/config.json', JSON.stringify({ auths: { [`https://${ecr}`]: { auth: Buffer.from('AWS:ecr-password-0123').toString('base64') } } }, null, '\t'));
    expect(await pullAuth(u.env, `${ecr}/app:1`)).toMatchObject({ username: 'AWS', password: 'ecr-password-0123' });
    const r = await scan(u, ['--fix', '--yes']);
    expect(r.stdout).toMatch(/fixed +docker-auth/);
    expect(await pullAuth(u.env, `${ecr}/app:1`)).toMatchObject({ username: 'AWS', password: 'ecr-password-0123' });
  });

  it('SAFE: a plain registry key and Docker Hub\'s https://index.docker.io/v1/: docker pull sends the same credentials after the fix, now from keysmith', async () => {
    const u = newUser();
    put(u.home, '.docker/config.json', JSON.stringify({ auths: {
      'https://index.docker.io/v1/': { auth: Buffer.from('hub:hub-secret').toString('base64') },
      'registry.example.com': { auth: Buffer.from('alice:docker-secret').toString('base64') },
    } }));
    const before = [await pullAuth(u.env, 'alice/app:1'), await pullAuth(u.env, 'registry.example.com/app:1')];
    const r = await scan(u, ['--fix', '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(join(u.home, '.docker/config.json'), 'utf8')).not.toMatch(/secret|aHVi|YWxpY2U/);
    expect([await pullAuth(u.env, 'alice/app:1'), await pullAuth(u.env, 'registry.example.com/app:1')]).toEqual(before);
  });
});

describe('scan --fix: what the checks are given', () => {
  it('a command that does not ask keysmith (kubectl config view) gets no KEYSMITH_* variable; the exec plugin it checks does get the vault', async () => {
    const u = newUser();
    const dump = join(u.base, 'kubectl.env');
    // A kubectl that records its environment and reads any config.
    writeFileSync(join(u.base, 'bin', 'kubectl'), `#!/bin/sh\nenv > '${dump}'\necho '{}'\n`, { mode: 0o755 });
    put(u.home, '.kube/config', 'apiVersion: v1\nkind: Config\nusers:\n- name: dev\n  user:\n    token: kube-token-env-check-0123456789\n');
    const r = await scan(u, ['--fix', '--yes', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results).toEqual([expect.objectContaining({ kind: 'kubeconfig-token', outcome: 'fixed' })]);
    const seen = readFileSync(dump, 'utf8');
    expect(seen).toContain(`HOME=${u.home}`);
    expect(seen).not.toMatch(/^KEYSMITH_/m);
    expect(seen).not.toContain(identity);
  });
});
