import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describeWith(['age', 'age-keygen'], 'file vault with the real age tool', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const idFile = join(home, 'identity.txt');
  let env: NodeJS.ProcessEnv;
  let recipient = '';
  beforeAll(() => {
    execFileSync('age-keygen', ['-o', idFile], { stdio: 'ignore' });
    recipient = execFileSync('age-keygen', ['-y', idFile], { encoding: 'utf8' }).trim();
    env = baseEnv({ KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: idFile });
  });

  it('writes a standard age file that `age -d -i` decrypts to the documented JSON', async () => {
    expect((await runBin(['secret', 'set', 'db/password', '-'], { env, input: 'hunter2\n' })).code).toBe(0);
    const vault = join(home, 'ks', 'vault.age');
    expect(statSync(vault).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'ks')).mode & 0o777).toBe(0o700);
    const doc = JSON.parse(execFileSync('age', ['-d', '-i', idFile, vault], { encoding: 'utf8' }));
    expect(doc.format).toBe('keysmith-vault');
    expect(doc.version).toBe(1);
    expect(doc.records['db/password'].value).toBe('hunter2\n');
    expect(doc.records['db/password'].kind).toBe('secret');
  });

  it('reads a vault written by `age -r` from a hand-made JSON document', async () => {
    const dir = join(home, 'handmade');
    execFileSync('mkdir', ['-p', dir]);
    const doc = { version: 1, records: { 'api/key': { kind: 'token', value: 'from-age-cli', fields: { user: 'bot' } } } };
    execFileSync('age', ['-r', recipient, '-o', join(dir, 'vault.age')], { input: JSON.stringify(doc) });
    const e = { ...env, KEYSMITH_HOME: dir };
    const got = await runBin(['secret', 'get', 'api/key'], { env: e });
    expect(got).toMatchObject({ code: 0, stdout: 'from-age-cli' });
    const field = await runBin(['secret', 'get', 'api/key', '--field', 'user'], { env: e });
    expect(field.stdout).toBe('bot');
    // Several 64 KiB chunks, the plaintext an exact multiple of the chunk size (a full final chunk).
    const padded = JSON.stringify({ ...doc, padding: '' });
    const exact = JSON.stringify({ ...doc, padding: 'p'.repeat(2 * 65536 - padded.length) });
    expect(exact.length).toBe(2 * 65536);
    execFileSync('age', ['-r', recipient, '-o', join(dir, 'vault.age')], { input: exact });
    expect((await runBin(['secret', 'get', 'api/key'], { env: e })).stdout).toBe('from-age-cli');
    // Cut after the first chunk: each chunk is sealed as final or not, so the cut is detected.
    const whole = readFileSync(join(dir, 'vault.age'));
    const headerEnd = whole.indexOf('\n', whole.indexOf('\n--- ') + 1) + 1;
    writeFileSync(join(dir, 'vault.age'), whole.subarray(0, headerEnd + 16 + 65536 + 16));
    expect((await runBin(['secret', 'get', 'api/key'], { env: e })).code).toBe(1);
    // Armored files too.
    execFileSync('age', ['-a', '-r', recipient, '-o', join(dir, 'vault.age')], { input: JSON.stringify(doc) });
    expect((await runBin(['secret', 'get', 'api/key'], { env: e })).stdout).toBe('from-age-cli');
  });

  it('loses nothing when 20 processes set secrets at once', async () => {
    const e = { ...env, KEYSMITH_HOME: join(home, 'concurrent') };
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => runBin(['secret', 'set', `load/n${i}`, '-'], { env: e, input: `value-${i}`, timeoutMs: 60_000 })),
    );
    expect(runs.map((r) => r.code)).toEqual(Array(20).fill(0));
    const list = JSON.parse((await runBin(['secret', 'list', 'load/', '--json'], { env: e })).stdout) as Array<{ name: string }>;
    expect(list.map((i) => i.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `load/n${i}`).sort());
    const doc = JSON.parse(execFileSync('age', ['-d', '-i', idFile, join(home, 'concurrent', 'vault.age')], { encoding: 'utf8' }));
    for (let i = 0; i < 20; i++) expect(doc.records[`load/n${i}`].value).toBe(`value-${i}`);
  });

  it('still opens, with the old or the new content, after SIGKILL mid-write', async () => {
    const e = { ...env, KEYSMITH_HOME: join(home, 'killed') };
    await runBin(['secret', 'set', 'keep/me', '-'], { env: e, input: 'old' });
    const big = 'x'.repeat(4 * 1024 * 1024);
    for (const delayMs of [30, 80, 150, 250, 400]) {
      const child = spawn(process.execPath, [BIN, 'secret', 'set', 'keep/big', '-'], { env: e, stdio: ['pipe', 'ignore', 'ignore'] });
      const closed = new Promise((r) => child.on('close', r));
      child.stdin.on('error', () => undefined); // EPIPE once killed
      child.stdin.end(big);
      await new Promise((r) => setTimeout(r, delayMs));
      child.kill('SIGKILL');
      await closed;
      const got = await runBin(['secret', 'get', 'keep/me'], { env: e });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('old');
      const bigNow = await runBin(['secret', 'get', 'keep/big'], { env: e });
      // Either the write landed whole or not at all.
      if (bigNow.code === 0) expect(bigNow.stdout.length).toBe(big.length);
      else expect(bigNow.code).toBe(3);
    }
    // A lock left by a killed writer is taken over: writes still work.
    expect((await runBin(['secret', 'set', 'keep/after', '-'], { env: e, input: 'new' })).code).toBe(0);
  });

  it('refuses a tampered, truncated or foreign file clearly and leaves its bytes as they were', async () => {
    const dir = join(home, 'damaged');
    const e = { ...env, KEYSMITH_HOME: dir };
    await runBin(['secret', 'set', 'a/b', '-'], { env: e, input: 'value' });
    const vault = join(dir, 'vault.age');
    const good = readFileSync(vault);
    const variants: Array<[string, Buffer]> = [
      ['tampered', Buffer.concat([good.subarray(0, good.length - 5), Buffer.from([good[good.length - 5]! ^ 1]), good.subarray(good.length - 4)])],
      ['truncated', good.subarray(0, good.length - 20)],
      ['garbage', Buffer.from('this is not an age file at all\n')],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [label, bytes] of variants) {
      writeFileSync(vault, bytes);
      const before = sha(vault);
      const get = await runBin(['secret', 'get', 'a/b'], { env: e });
      expect(get.code, label).toBe(1);
      expect(get.stderr).toMatch(/damaged|not an age file/);
      expect(get.stderr).not.toMatch(/\n\s+at /); // no stack trace
      const set = await runBin(['secret', 'set', 'a/c', '-'], { env: e, input: 'other' });
      expect(set.code, label).toBe(1);
      expect(sha(vault), label).toBe(before);
    }
  });

  it('says a vault is not encrypted to this identity (exit 4)', async () => {
    const other = join(home, 'other.txt');
    execFileSync('age-keygen', ['-o', other], { stdio: 'ignore' });
    const got = await runBin(['secret', 'get', 'db/password'], { env: { ...env, KEYSMITH_AGE_IDENTITY: other } });
    expect(got.code).toBe(4);
    expect(got.stderr).toMatch(/not encrypted to this identity/);
  });

  it('refuses a data folder or vault file others can write, and an identity file others can read (exit 4, with the fix)', async () => {
    const plain = baseEnv({ KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: idFile });
    const dir = join(home, 'ks');
    const cases: Array<[string, number, RegExp]> = [
      [dir, 0o777, /chmod 700/],
      [join(dir, 'vault.age'), 0o666, /chmod 600/],
      [idFile, 0o644, /chmod 600/],
    ];
    for (const [path, mode, fix] of cases) {
      const before = statSync(path).mode & 0o777;
      chmodSync(path, mode);
      try {
        const got = await runBin(['secret', 'get', 'db/password'], { env: plain });
        expect(got.code, `${path} ${mode.toString(8)}: ${got.stderr}`).toBe(4);
        expect(got.stderr).toMatch(fix);
        expect(got.stdout).toBe('');
      } finally {
        chmodSync(path, before);
      }
    }
    expect((await runBin(['secret', 'get', 'db/password'], { env: plain })).code).toBe(0);
  });

  it('writes through a symlinked vault.age to its target, atomically, and keeps the link', async () => {
    const dir = join(home, 'linked');
    const synced = join(home, 'synced');
    mkdirSync(dir, { mode: 0o700 });
    mkdirSync(synced, { mode: 0o700 });
    const linkEnv = baseEnv({ KEYSMITH_HOME: dir, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: idFile });
    expect((await runBin(['secret', 'set', 'first/one', '-'], { env: linkEnv, input: 'one' })).code).toBe(0);
    renameSync(join(dir, 'vault.age'), join(synced, 'vault.age'));
    symlinkSync(join(synced, 'vault.age'), join(dir, 'vault.age'));
    expect((await runBin(['secret', 'set', 'second/two', '-'], { env: linkEnv, input: 'two' })).code).toBe(0);
    expect(lstatSync(join(dir, 'vault.age')).isSymbolicLink()).toBe(true);
    const doc = JSON.parse(execFileSync('age', ['-d', '-i', idFile, join(synced, 'vault.age')], { encoding: 'utf8' }));
    expect(Object.keys(doc.records).sort()).toEqual(['first/one', 'second/two']);
    expect(statSync(join(synced, 'vault.age')).mode & 0o777).toBe(0o600);
  });
});

describe('file vault with a passphrase-protected identity', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const env = () => baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_PASSPHRASE: 'correct horse' });

  it('creates the identity under the passphrase, then refuses a wrong one with exit 4', async () => {
    expect((await runBin(['secret', 'set', 'x/y', '-'], { env: env(), input: 'v' })).code).toBe(0);
    expect(statSync(join(home, 'identity.age')).mode & 0o777).toBe(0o600);
    const before = sha(join(home, 'vault.age'));
    const wrong = await runBin(['secret', 'get', 'x/y'], { env: { ...env(), KEYSMITH_PASSPHRASE: 'wrong' } });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/wrong passphrase/);
    expect(wrong.stderr).not.toContain('correct horse');
    const wrongSet = await runBin(['secret', 'set', 'x/z', '-'], { env: { ...env(), KEYSMITH_PASSPHRASE: 'wrong' }, input: 'v' });
    expect(wrongSet.code).toBe(4);
    expect(sha(join(home, 'vault.age'))).toBe(before);
  });

  it('without a terminal and without KEYSMITH_PASSPHRASE, names the variables instead of hanging (exit 2)', async () => {
    const got = await runBin(['secret', 'get', 'x/y'], { env: baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file' }) });
    expect(got.code).toBe(2);
    expect(got.stderr).toMatch(/KEYSMITH_PASSPHRASE/);
  });

  it('unlock prints a session that opens the vault without the passphrase; lock ends it', async () => {
    const unlock = await runBin(['vault', 'unlock', '--ttl', '1h'], { env: env() });
    expect(unlock.code, unlock.stderr).toBe(0);
    const session = unlock.stdout;
    expect(session).toMatch(/^ks1\.[0-9a-f]{24}\.[\w-]+$/);
    const noPass = baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_SESSION: session });
    expect(await runBin(['secret', 'get', 'x/y'], { env: noPass })).toMatchObject({ code: 0, stdout: 'v' });
    expect((await runBin(['secret', 'set', 'x/w', '-'], { env: noPass, input: 'w' })).code).toBe(0);
    const forged = await runBin(['secret', 'get', 'x/y'], { env: { ...noPass, KEYSMITH_SESSION: session.slice(0, -4) + 'AAAA' } });
    expect(forged.code).toBe(4);
    expect((await runBin(['vault', 'lock'], { env: noPass })).code).toBe(0);
    const ended = await runBin(['secret', 'get', 'x/y'], { env: noPass });
    expect(ended.code).toBe(4);
    expect(ended.stderr).toMatch(/session has ended/);
  });

  it('a session expires', async () => {
    const unlock = await runBin(['vault', 'unlock', '--ttl', '1s'], { env: env() });
    await new Promise((r) => setTimeout(r, 1200));
    const got = await runBin(['secret', 'get', 'x/y'], { env: baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_SESSION: unlock.stdout }) });
    expect(got.code).toBe(4);
  });

  it('an edited expiry does not revive a session; expired and damaged session files are removed when seen', async () => {
    const sessions = join(home, 'sessions');
    const withSession = (token: string) => baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_SESSION: token });
    const stale = (await runBin(['vault', 'unlock', '--ttl', '1s'], { env: env() })).stdout.trim();
    const damaged = (await runBin(['vault', 'unlock', '--ttl', '1h'], { env: env() })).stdout.trim();
    const edited = (await runBin(['vault', 'unlock', '--ttl', '1s'], { env: env() })).stdout.trim();
    const fileOf = (token: string) => join(sessions, `${token.split('.')[1]}.json`);
    await new Promise((r) => setTimeout(r, 1200));
    // Someone with write access to the data folder pushes the expiry a year ahead.
    const doc = JSON.parse(readFileSync(fileOf(edited), 'utf8'));
    writeFileSync(fileOf(edited), JSON.stringify({ ...doc, expires: new Date(Date.now() + 365 * 86_400_000).toISOString() }));
    const revived = await runBin(['secret', 'get', 'x/y'], { env: withSession(edited) });
    expect(revived.code, revived.stdout).toBe(4);
    expect(revived.stdout).toBe('');
    // A truncated session file is an ended session, said in one line.
    writeFileSync(fileOf(damaged), readFileSync(fileOf(damaged), 'utf8').slice(0, 20));
    const broken = await runBin(['secret', 'get', 'x/y'], { env: withSession(damaged) });
    expect(broken.code).toBe(4);
    expect(broken.stderr).not.toMatch(/unexpected error|SyntaxError/);
    // The stale session's file went when another session was opened.
    expect(existsSync(fileOf(stale))).toBe(false);
    expect(existsSync(fileOf(damaged))).toBe(false);
  });
});
