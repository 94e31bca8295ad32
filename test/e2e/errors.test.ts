import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, recipientOf } from '../../src/vault/age.js';
import { BIN, baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { describeWithTmpfs, mountTmpfs, unmount } from '../helpers/system.js';

/** Every failure here is one `keysmith: …` line and (for system errors) one `hint: …` line: no raw Node text, no stack. */
function expectOneLine(stderr: string, message: string | RegExp, options: { hint?: boolean } = {}): void {
  expect(stderr).toMatch(options.hint === false ? /^keysmith: [^\n]+\n(hint: [^\n]+\n)?$/ : /^keysmith: [^\n]+\nhint: [^\n]+\n$/);
  if (typeof message === 'string') expect(stderr.split('\n')[0]).toBe(`keysmith: ${message}`);
  else expect(stderr.split('\n')[0]).toMatch(message);
  expect(stderr).not.toMatch(/unexpected error|ENOENT|ENOSPC|ENOTDIR|EADDRINUSE|\n\s+at /);
}

const SECRET = 'Hunter2-never-shown';

describe('error paths (built bin): one line and a hint, the right code, nothing left behind', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  let recipient = '';
  const run = (args: string[], input?: string, extra: NodeJS.ProcessEnv = {}) => runBin(args, { env: { ...env, ...extra }, input });
  beforeAll(async () => {
    const identity = await generateIdentity();
    recipient = await recipientOf(identity);
    env = baseEnv({ HOME: join(home, 'user'), KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity });
    expect((await run(['secret', 'set', 'db/pw', '-'], SECRET)).code).toBe(0);
    expect((await run(['tls', 'ca', 'create', 'dev'])).code).toBe(0);
    expect((await run(['tls', 'issue', 'x.test', '--out-dir', join(home, 'certs')])).code).toBe(0);
    expect((await run(['tls', 'csr', 'y.test', '--out-dir', join(home, 'csr')])).code).toBe(0);
  });

  it('an output file in a missing folder: exit 2, "no such folder", and nothing is created', async () => {
    const missing = join(home, 'missing');
    const out = join(missing, 'dir', 'file');
    for (const args of [
      ['vault', 'export', '--out', out, '--recipient', recipient],
      ['tls', 'ca', 'export', 'dev', '--out', out],
      ['tls', 'sign', join(home, 'csr', 'y.test.csr'), '--out', out],
      ['tls', 'export', 'x.test', '--out', out],
      ['inject', '-o', out],
      ['ssh', 'keygen', 'k-missing', '--no-passphrase', '--out', out],
    ]) {
      const got = await run(args, 'password: {{ ks://db/pw }}\n');
      expect(got.code, `${args.join(' ')}\n${got.stderr}`).toBe(2);
      expectOneLine(got.stderr, `cannot write ${out}: no such folder`);
      expect(got.stderr).toContain(`hint: create ${dirname(out)} first, or choose another path`);
      expect(existsSync(missing), args.join(' ')).toBe(false);
    }
    expect(JSON.parse((await run(['ssh', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('an output path through a file (ENOTDIR) is exit 2; tls issue makes no CA and records nothing', async () => {
    const file = join(home, 'a-file');
    writeFileSync(file, 'not a folder');
    const out = join(file, 'x.pem');
    const got = await run(['tls', 'ca', 'export', 'dev', '--out', out]);
    expect(got.code).toBe(2);
    expectOneLine(got.stderr, `cannot write ${out}: a part of the path is not a folder`);
    const fresh = { KEYSMITH_HOME: join(home, 'fresh-ks') };
    const issue = await run(['tls', 'issue', 'z.test', '--out-dir', join(file, 'sub')], undefined, fresh);
    expect(issue.code).toBe(2);
    expectOneLine(issue.stderr, /^keysmith: cannot create .*: a part of the path is not a folder$/);
    expect(JSON.parse((await run(['secret', 'list', '--json'], undefined, fresh)).stdout)).toEqual([]);
  });

  it.skipIf(!existsSync('/dev/full'))('a full stdout (> /dev/full) is exit 1, "no space left on device", and never shows the value', () => {
    const full = openSync('/dev/full', 'w');
    try {
      const got = spawnSync(process.execPath, [BIN, 'secret', 'get', 'db/pw'], { env, stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
      expect(got.status).toBe(1);
      expectOneLine(got.stderr, 'cannot write standard output: no space left on device');
      expect(got.stderr).not.toContain(SECRET);
    } finally {
      closeSync(full);
    }
  });

  it('ssh keygen that fails on the vault leaves no key files, no folder and no record; the retry succeeds', async () => {
    // A new file vault and no identity, no terminal: the vault step fails after the key is made.
    const noIdentity = { KEYSMITH_HOME: join(home, 'keygen-ks'), KEYSMITH_AGE_IDENTITY: undefined };
    const keys = join(home, 'keys');
    mkdirSync(keys);
    const out = join(keys, 'deploy');
    for (const args of [['ssh', 'keygen', 'deploy', '--no-passphrase', '--out', out], ['ssh', 'keygen', 'work', '--no-passphrase']]) {
      const failed = await run(args, undefined, noIdentity);
      expect(failed.code, failed.stderr).toBe(2);
      expectOneLine(failed.stderr, /^keysmith: /, { hint: false });
    }
    expect(readdirSync(keys)).toEqual([]);
    expect(existsSync(join(home, 'user', '.ssh'))).toBe(false); // the default ~/.ssh, made for the key, is gone again
    const withIdentity = { KEYSMITH_HOME: join(home, 'keygen-ks') };
    expect(JSON.parse((await run(['ssh', 'list', '--json'], undefined, withIdentity)).stdout)).toEqual([]);
    for (const args of [['ssh', 'keygen', 'deploy', '--no-passphrase', '--out', out], ['ssh', 'keygen', 'work', '--no-passphrase']]) {
      const retry = await run(args, undefined, withIdentity);
      expect(retry.code, retry.stderr).toBe(0);
    }
    expect(readdirSync(keys).sort()).toEqual(['deploy', 'deploy.pub']);
    expect(readdirSync(join(home, 'user', '.ssh')).sort()).toEqual(['work', 'work.pub']);
    // The read-only env vault: refused, and nothing written.
    const envVault = await run(['ssh', 'keygen', 'ci', '--no-passphrase', '--out', join(home, 'ci-key')], undefined, { KEYSMITH_VAULT: 'env' });
    expect(envVault.code).toBe(2);
    expect(existsSync(join(home, 'ci-key'))).toBe(false);
    expect(existsSync(join(home, 'ci-key.pub'))).toBe(false);
  });
});

describeWithTmpfs('error paths on a full file system (a tiny tmpfs, built bin)', () => {
  const { home, cleanup } = tempHome();
  const disk = join(home, 'disk');
  let env: NodeJS.ProcessEnv;
  let recipient = '';
  const run = (args: string[], input?: string, extra: NodeJS.ProcessEnv = {}) => runBin(args, { env: { ...env, ...extra }, input });
  beforeAll(async () => {
    const identity = await generateIdentity();
    recipient = await recipientOf(identity);
    env = baseEnv({ HOME: join(home, 'user'), KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity });
    expect((await run(['secret', 'set', 'big/value', '-'], 'x'.repeat(200 * 1024))).code).toBe(0);
    mkdirSync(disk);
    mountTmpfs(disk, '64k');
  });
  afterAll(() => {
    unmount(disk);
    cleanup();
  });

  it('vault export onto a full disk: exit 1, "no space left on device", no temp file left', async () => {
    const out = join(disk, 'backup.age');
    const got = await run(['vault', 'export', '--out', out, '--recipient', recipient]);
    expect(got.code).toBe(1);
    expectOneLine(got.stderr, `cannot write ${out}: no space left on device`);
    expect(readdirSync(disk)).toEqual([]);
  });

  it('ssh keygen whose vault write hits a full disk leaves no key files; the retry succeeds', async () => {
    // The vault lives on the tiny disk, filled to the last byte; the key goes elsewhere.
    const ksOnDisk = { KEYSMITH_HOME: join(disk, 'ks') };
    expect((await run(['secret', 'set', 'small', '-'], 'v', ksOnDisk)).code).toBe(0);
    const filler = join(disk, 'filler');
    try {
      writeFileSync(filler, Buffer.alloc(128 * 1024));
    } catch {
      // ENOSPC: the disk is full, as wanted.
    }
    const out = join(home, 'keys', 'on-full');
    mkdirSync(join(home, 'keys'));
    const got = await run(['ssh', 'keygen', 'on-full', '--no-passphrase', '--out', out], undefined, ksOnDisk);
    expect(got.code, got.stderr).toBe(1);
    expectOneLine(got.stderr, /no space left on device$/);
    expect(readdirSync(join(home, 'keys'))).toEqual([]);
    expect(readdirSync(join(disk, 'ks')).filter((f) => /\.lock|\.tmp$/.test(f))).toEqual([]); // no lock or temp file either
    rmSync(filler);
    expect(JSON.parse((await run(['ssh', 'list', '--json'], undefined, ksOnDisk)).stdout)).toEqual([]);
    const retry = await run(['ssh', 'keygen', 'on-full', '--no-passphrase', '--out', out], undefined, ksOnDisk);
    expect(retry.code, retry.stderr).toBe(0);
    expect(readdirSync(join(home, 'keys')).sort()).toEqual(['on-full', 'on-full.pub']);
  });
});
