import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, runMain, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

/**
 * `keysmith scan` over the fixture HOME (fixtures/scan/home: one of every kind of plaintext
 * credential it knows, and look-alikes it must pass over), against the verdicts beside it
 * (expected.json, expected.txt). The real tools after --fix are in scan-fix.test.ts.
 */
const FIXTURE = fileURLToPath(new URL('../../fixtures/scan/', import.meta.url));

/** Every plaintext value in the fixture: none may ever be printed. */
const VALUES = [
  's3cret-git', 'p@ss:word', 'colon:pass', 'netrc-pass-1', 'quoted pass', 'anon@example.com', 'docker-secret', 'ghcr-identity-token-value', 'podman-secret',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYDEFAULTKEY', 'prodSecretAccessKeyExample0000000000000', 'FwoGZXIvYXdzEProdSessionTokenExample',
  'npm_exampleTokenValue0123456789abcdef', 'YWxpY2U6bnBtLXBhc3M=', 'pypi-AgEIcHlwaS5vcmcExampleTokenValue', 'pg-pass:word', 'local-pass',
  'gho_exampleUserTokenValue0123456789', 'kube-static-token-example-0123456789', 'kube-basic-password',
];

/** A copy of the fixture HOME as a user would have it: private files 0600, two keys left 0644. */
function fixtureHome(dir: string): string {
  const home = join(dir, 'home');
  cpSync(join(FIXTURE, 'home'), home, { recursive: true });
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        chmodSync(p, 0o700);
        walk(p);
      } else chmodSync(p, 0o600);
    }
  };
  walk(home);
  // A package's test key: git keeps no node_modules folder, so the copy gets one here.
  mkdirSync(join(home, 'node_modules', 'pkg', 'test'), { recursive: true });
  copyFileSync(join(home, 'work', 'server.key'), join(home, 'node_modules', 'pkg', 'test', 'key.pem'));
  chmodSync(join(home, 'work', 'server.key'), 0o644);
  chmodSync(join(home, '.ssh', 'legacy_rsa'), 0o644);
  return home;
}

describe('keysmith scan: the fixture HOME', () => {
  const { home: dir, cleanup } = tempHome();
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    home = fixtureHome(dir);
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(dir, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });
  afterAll(cleanup);

  it('finds every kind, in file and line order, exactly as expected.json says; exit 1', async () => {
    const r = await runBin(['scan', '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8').replaceAll('$HOME', home)) as Array<{ file: string }>;
    expect(JSON.parse(r.stdout)).toEqual(expected);
    expect(r.stderr).toBe(`${expected.length} found; keysmith scan --fix moves the fixable ones into the vault\n`);
    // Passed over: a credential file with none in it (~/.aws/config), an env reference in .npmrc, an
    // encrypted key at 0600, a page quoting a key (work/notes.md), node_modules.
    const files = new Set(expected.map((f) => f.file));
    for (const quiet of ['.aws/config', 'work/notes.md', 'work/server.crt', '.ssh/id_encrypted', 'node_modules/pkg/test/key.pem']) expect(files.has(join(home, quiet)), quiet).toBe(false);
  });

  it('the table is expected.txt; no value is printed, in the table, the JSON or on stderr', async () => {
    const table = await runBin(['scan'], { env });
    expect(table.code).toBe(1);
    expect(table.stdout).toBe(readFileSync(join(FIXTURE, 'expected.txt'), 'utf8').replaceAll('$HOME', home));
    const json = await runBin(['scan', '--json'], { env });
    for (const out of [table.stdout, table.stderr, json.stdout, json.stderr]) for (const v of VALUES) expect(out, v).not.toContain(v);
  });

  it('a path argument scans only there; a clean tree is exit 0; a path that does not exist is said and the rest still scanned', async () => {
    const aws = await runBin(['scan', join(home, '.aws'), '--json'], { env });
    expect(aws.code).toBe(1);
    expect((JSON.parse(aws.stdout) as Array<{ kind: string }>).map((f) => f.kind)).toEqual(['aws-credentials', 'aws-credentials']);
    const clean = await runBin(['scan', join(home, 'node_modules')], { env });
    expect({ code: clean.code, stdout: clean.stdout, stderr: clean.stderr }).toEqual({ code: 0, stdout: '', stderr: 'no plaintext credentials found\n' });
    const missing = await runBin(['scan', join(home, 'nope'), join(home, '.pgpass')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read ~/nope: ENOENT');
    expect(missing.stdout).toContain('pgpass');
  });

  it('--fix without a terminal and without --yes is exit 2 and changes nothing; --yes without --fix is exit 2', async () => {
    const before = readFileSync(join(home, '.git-credentials'));
    const r = await runBin(['scan', '--fix'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/run it at a terminal, or add --yes/);
    expect(readFileSync(join(home, '.git-credentials')).equals(before)).toBe(true);
    expect((await runBin(['scan', '--yes'], { env })).code).toBe(2);
  });

  it('--fix at a terminal asks per finding: a no leaves the file as it was, a yes on a key makes it 0600', async () => {
    const answers = ['n', 'n', 'y'];
    const asked: string[] = [];
    const prompter = { password: async () => '', confirm: async (q: string) => (asked.push(q), answers.shift() === 'y') };
    const r = await runMain(['scan', join(home, '.aws'), join(home, 'work'), '--fix'], env, { tty: true, prompter });
    expect(r.code, r.stderr).toBe(1);
    expect(asked).toEqual([
      'aws-credentials profile default (AKIAEXAMPLEDEFAULT01) in ~/.aws/credentials:3: move it into keysmith and rewire the tool?',
      'aws-credentials profile prod (ASIAEXAMPLEPROD00001) in ~/.aws/credentials:7: move it into keysmith and rewire the tool?',
      'private-key-mode PRIVATE KEY, no passphrase in ~/work/server.key: chmod 600?',
    ]);
    expect(readFileSync(join(home, '.aws', 'credentials'), 'utf8')).toContain('prodSecretAccessKeyExample');
    expect(statSync(join(home, 'work', 'server.key')).mode & 0o777).toBe(0o600);
    expect(r.stdout).toMatch(/declined +aws-credentials/);
    expect(r.stdout).toMatch(/fixed +private-key-mode +~\/work\/server.key +PRIVATE KEY, no passphrase +chmod 600/);
  });
});

describeWith(['git'], 'keysmith scan: ~/.git-credentials, against git credential-store', () => {
  const { home: dir, cleanup } = tempHome();
  afterAll(cleanup);

  it('each line it reports is the credential git reads from it: same user, same password length and hash', async () => {
    const home = fixtureHome(dir);
    const env = baseEnv({ HOME: home, KEYSMITH_HOME: join(dir, 'ks') });
    const r = await runBin(['scan', join(home, '.git-credentials'), '--json'], { env });
    const found = JSON.parse(r.stdout) as Array<{ target: string; length: number; sha256: string }>;
    expect(found).toHaveLength(3);
    for (const f of found) {
      const url = /^(\w+):\/\/(?:([^@]*)@)?([^/]+)(?:\/(.*))?$/.exec(f.target)!;
      const input = `protocol=${url[1]}\nhost=${url[3]}\n${url[4] ? `path=${url[4]}\n` : ''}\n`;
      const out = execFileSync('git', ['-c', `credential.helper=store --file=${join(home, '.git-credentials')}`, ...(url[4] ? ['-c', 'credential.useHttpPath=true'] : []), 'credential', 'fill'], { input, env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } }).toString();
      const got = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      expect(got.username, f.target).toBe(url[2]);
      expect([...got.password!].length, f.target).toBe(f.length);
      expect(f.sha256, 'a short value shows no hash').toBeUndefined();
    }
  });
});

describeWith(['ssh-keygen', 'openssl'], 'keysmith scan: private keys, against ssh-keygen and openssl', () => {
  const { home: dir, cleanup } = tempHome();
  afterAll(cleanup);

  // The reference: ssh-keygen -y for what OpenSSH reads; openssl pkey for PKCS#8 keys it does not
  // (an Ed25519 PKCS#8 key, RFC 8410) — plaintext all the same (RFC 5958 PrivateKeyInfo).
  it('"no passphrase" exactly when ssh-keygen -y or openssl pkey opens the key with an empty passphrase (OpenSSH, PEM and PKCS#8 keys of each type)', async () => {
    const env = baseEnv({ HOME: dir, KEYSMITH_HOME: join(dir, 'ks') });
    const keys: string[] = [];
    for (const [type, bits] of [['ed25519', ''], ['rsa', '2048'], ['ecdsa', '384']] as const) {
      for (const format of ['', 'PEM', 'PKCS8']) {
        if (type === 'ed25519' && format) continue; // ssh-keygen writes ed25519 keys only in its own format
        for (const pass of ['', 'a passphrase']) {
          const file = join(dir, '.ssh', `${type}${format ? `-${format}` : ''}${pass ? '-enc' : ''}`);
          execFileSync('mkdir', ['-p', join(dir, '.ssh')]);
          execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', bits] : []), ...(format ? ['-m', format] : []), '-N', pass, '-C', '', '-f', file]);
          keys.push(file);
        }
      }
    }
    for (const [alg, cipher] of [['RSA', ''], ['RSA', '-aes256'], ['ED25519', ''], ['ED25519', '-aes-128-cbc']] as const) {
      const file = join(dir, '.ssh', `openssl-${alg}${cipher}`);
      execFileSync('openssl', ['genpkey', '-algorithm', alg, ...(alg === 'RSA' ? ['-pkeyopt', 'rsa_keygen_bits:2048'] : []), ...(cipher ? [cipher, '-pass', 'pass:secret'] : []), '-out', file]);
      keys.push(file);
    }
    const r = await runBin(['scan', join(dir, '.ssh'), '--json'], { env });
    const flagged = new Set((JSON.parse(r.stdout) as Array<{ kind: string; file: string }>).filter((f) => f.kind === 'ssh-key-unencrypted').map((f) => f.file));
    for (const key of keys) {
      const opens = [['ssh-keygen', '-y', '-P', '', '-f', key], ['openssl', 'pkey', '-in', key, '-passin', 'pass:', '-noout']].some(([cmd, ...args]) => {
        try {
          execFileSync(cmd!, args, { stdio: 'ignore' });
          return true;
        } catch {
          return false;
        }
      });
      expect(flagged.has(key), key).toBe(opens);
    }
  });
});
