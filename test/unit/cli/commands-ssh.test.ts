import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, clockAt, DAY_MS, isoAt, runMain, tempHome } from '../../helpers/cli.js';

/**
 * `keysmith ssh keygen | list | show` in-process (issue 12): the key is made at injected time T and
 * its age is counted from the injected now.
 */
describe('ssh (in-process, injected clock)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const ks = join(home, 'ks');
  const keyPath = join(home, '.ssh', 'work');
  const T = '2031-03-04T05:06:07.000Z';
  const at = (offsetMs = 0) => ({ now: clockAt(T, offsetMs) });
  let env: NodeJS.ProcessEnv;
  let keygen: { name: string; path: string; publicKey: string; fingerprint: string; type: string; bits: number; encrypted: boolean };
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  describe('keygen', () => {
    it('ed25519 without a passphrase into ~/.ssh of the temp home; --json shape', async () => {
      const got = await runMain(['--json', 'ssh', 'keygen', 'work', '--no-passphrase', '-C', 'me@test'], env, at());
      expect(got.code, got.stderr).toBe(0);
      keygen = JSON.parse(got.stdout);
      expect(Object.keys(keygen)).toEqual(['name', 'path', 'publicKey', 'fingerprint', 'type', 'bits', 'encrypted', 'vaultOnly']);
      expect(keygen).toMatchObject({ name: 'work', path: keyPath, type: 'ssh-ed25519', bits: 256, encrypted: false });
      expect(keygen.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} me@test$/);
    });

    it('writes the private key 0600 (unencrypted OpenSSH format) and the .pub 0644, in a 0700 ~/.ssh', () => {
      expect(statSync(join(home, '.ssh')).mode & 0o777).toBe(0o700);
      expect(statSync(keyPath).mode & 0o777).toBe(0o600);
      expect(statSync(`${keyPath}.pub`).mode & 0o777).toBe(0o644);
      expect(readFileSync(`${keyPath}.pub`, 'utf8')).toBe(`${keygen.publicKey}\n`);
      const priv = readFileSync(keyPath, 'utf8');
      expect(priv).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
      const body = Buffer.from(priv.split('\n').slice(1, -2).join(''), 'base64');
      expect(body.subarray(0, 15).toString('latin1')).toBe('openssh-key-v1\0');
      expect(body.includes(Buffer.from('none'))).toBe(true); // cipher "none", kdf "none"
    });

    it('the fingerprint is SHA256 of the public key blob, as ssh-keygen -l prints it', () => {
      const blob = Buffer.from(keygen.publicKey.split(' ')[1]!, 'base64');
      expect(keygen.fingerprint).toBe(`SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`);
    });

    it('an existing key is not overwritten without --force (exit 2, files unchanged)', async () => {
      const before = readFileSync(keyPath);
      const got = await runMain(['ssh', 'keygen', 'work', '--no-passphrase'], env, at(DAY_MS));
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/already exists/);
      expect(readFileSync(keyPath).equals(before)).toBe(true);
    });

    it('a bad key name is exit 2 and writes nothing', async () => {
      const got = await runMain(['ssh', 'keygen', '../evil', '--no-passphrase'], env, at());
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/invalid key name/);
    });
  });

  describe('list: the age is counted from the injected now', () => {
    it('--json at T + 10 days: ageDays 10, created T', async () => {
      const got = await runMain(['--json', 'ssh', 'list'], env, at(10 * DAY_MS));
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual([
        { name: 'work', type: 'ED25519', bits: 256, fingerprint: keygen.fingerprint, path: keyPath, vaultOnly: false, created: T, ageDays: 10, hosts: [] },
      ]);
    });

    it.each([
      [0, 0],
      [10 * DAY_MS - 1, 9],
      [365 * DAY_MS, 365],
    ])('at T + %i ms: ageDays %i (whole days)', async (offset, ageDays) => {
      const got = await runMain(['--json', 'ssh', 'list'], env, at(offset));
      expect(JSON.parse(got.stdout)[0].ageDays).toBe(ageDays);
    });

    it('the table: AGE column from the injected clock', async () => {
      const got = await runMain(['ssh', 'list'], env, at(10 * DAY_MS));
      expect(got.code).toBe(0);
      const [header, row] = got.stdout.split('\n');
      expect(header).toMatch(/^NAME\s+TYPE\s+FINGERPRINT\s+AGE\s+HOSTS\s+PATH$/);
      expect(row!.split(/\s{2,}/)).toEqual(['work', 'ED25519 256', keygen.fingerprint, '10d', '0', keyPath]);
    });

    it('keygen --force makes a new key: its age starts again at the injected now of the replacement', async () => {
      const again = await runMain(['--json', 'ssh', 'keygen', 'work', '--no-passphrase', '--force', '-C', 'me@test'], env, at(3 * DAY_MS));
      expect(again.code, again.stderr).toBe(0);
      const replaced = JSON.parse(again.stdout) as typeof keygen;
      expect(replaced.fingerprint).not.toBe(keygen.fingerprint);
      const listed = JSON.parse((await runMain(['--json', 'ssh', 'list'], env, at(10 * DAY_MS))).stdout);
      expect(listed).toEqual([expect.objectContaining({ name: 'work', created: isoAt(T, 3 * DAY_MS), ageDays: 7, fingerprint: replaced.fingerprint })]);
      keygen = replaced;
    });
  });

  describe('show', () => {
    it('--json: the public key line, fingerprint, created, hosts, no passphrase stored', async () => {
      const got = await runMain(['--json', 'ssh', 'show', 'work'], env, at(10 * DAY_MS));
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({
        name: 'work', publicKey: keygen.publicKey, type: 'ED25519', bits: 256, fingerprint: keygen.fingerprint,
        path: keyPath, created: isoAt(T, 3 * DAY_MS), hosts: [], passphraseStored: false,
      });
    });

    it('--md5 adds the MD5 fingerprint', async () => {
      const blob = Buffer.from(keygen.publicKey.split(' ')[1]!, 'base64');
      const md5 = createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
      const got = await runMain(['--json', 'ssh', 'show', 'work', '--md5'], env, at());
      expect(JSON.parse(got.stdout).md5).toBe(`MD5:${md5}`);
    });

    it('for people: key line, fingerprint line, randomart, and "created: T (N days ago)" from the injected clock', async () => {
      const got = await runMain(['ssh', 'show', 'work'], env, at(45 * DAY_MS));
      expect(got.code).toBe(0);
      const lines = got.stdout.split('\n');
      expect(lines[0]).toBe(keygen.publicKey);
      expect(lines[1]).toBe(`256 ${keygen.fingerprint} me@test (ED25519)`);
      expect(lines[2]).toBe('+--[ED25519 256]--+');
      expect(got.stdout).toContain(`\npath:  ${keyPath}\ncreated: ${isoAt(T, 3 * DAY_MS)} (42 days ago)\nhosts: -\n`);
    });

    it('an unknown key is exit 3', async () => {
      const got = await runMain(['ssh', 'show', 'nope'], env, at());
      expect(got.code).toBe(3);
      expect(got.stderr).toMatch(/no SSH key named nope/);
    });
  });

  it('keygen with another injected time records that time', async () => {
    const other = join(home, 'other');
    const got = await runMain(['--json', 'ssh', 'keygen', 'ci', '--no-passphrase', '--out', other], env, { now: clockAt('2029-12-31T23:59:59.000Z') });
    expect(got.code, got.stderr).toBe(0);
    const show = JSON.parse((await runMain(['--json', 'ssh', 'show', 'ci'], env, at())).stdout);
    expect(show).toMatchObject({ created: '2029-12-31T23:59:59.000Z', path: other });
    const listed = JSON.parse((await runMain(['--json', 'ssh', 'list'], env, at())).stdout) as Array<{ name: string; ageDays: number }>;
    // From 2029-12-31T23:59:59Z to T (2031-03-04T05:06:07Z): 1 s + 365 days (2030) + 62 days + 5 h → 427 whole days.
    expect(listed.find((k) => k.name === 'ci')!.ageDays).toBe(Math.floor((Date.parse(T) - Date.parse('2029-12-31T23:59:59.000Z')) / DAY_MS));
    expect(listed.find((k) => k.name === 'ci')!.ageDays).toBe(427);
  });
});
