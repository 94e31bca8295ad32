import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, UsageError } from '../../src/errors.js';
import { resolvePaths } from '../../src/paths.js';
import { createTeam, openTeam } from '../../src/team/manage.js';
import { generateIdentity } from '../../src/vault/age.js';
import { EnvVault } from '../../src/vault/env.js';
import { FileVault } from '../../src/vault/file.js';
import { KeychainVault } from '../../src/vault/keychain.js';
import { newRecord, valueBytes } from '../../src/vault/record.js';
import type { Vault } from '../../src/vault/types.js';
import { baseEnv, tempHome } from '../helpers/cli.js';
import { startKeyring, type TestKeyring } from '../helpers/keyring.js';
import { describeWith } from '../helpers/system.js';

const now = new Date('2026-01-02T03:04:05.000Z');

/** Every writable backend passes the same suite. */
function writableContract(makeVault: () => Vault | Promise<Vault>) {
  let vault: Vault;
  beforeAll(async () => {
    vault = await makeVault();
  });

  it('reports an unknown name as not found', async () => {
    await expect(vault.get('contract/absent')).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    ['plain', 'hunter2'],
    ['unicode', 'pässwörd 🔑 密码'],
    ['newlines and trailing whitespace', 'line one\nline two\r\n  \t \n\n'],
    ['leading whitespace', '   x'],
  ])('round-trips a %s value exactly', async (label, value) => {
    const name = `contract/${label.replace(/\W+/g, '-')}`;
    await vault.set(name, newRecord(value, 'secret', now, { user: 'app' }));
    const got = await vault.get(name);
    expect(got.value).toBe(value);
    expect(got.fields).toEqual({ user: 'app' });
    expect(got.created).toBe(now.toISOString());
  });

  it('round-trips binary bytes and a 1 MiB value', async () => {
    const binary = Buffer.from([0, 255, 128, 10, 13, 0xc3]);
    await vault.set('contract/binary', newRecord(binary, 'secret', now));
    expect(valueBytes(await vault.get('contract/binary')).equals(binary)).toBe(true);
    const big = randomBytes(512 * 1024).toString('hex'); // 1 MiB of text
    await vault.set('contract/big', newRecord(big, 'secret', now));
    expect((await vault.get('contract/big')).value).toBe(big);
  });

  it('replaces a record under the same name', async () => {
    await vault.set('contract/replace', newRecord('one', 'secret', now));
    await vault.set('contract/replace', newRecord('two', 'token', now));
    const got = await vault.get('contract/replace');
    expect([got.value, got.kind]).toEqual(['two', 'token']);
  });

  it('lists names, kinds and dates, sorted, by prefix, never values', async () => {
    await vault.set('contract/list/b', newRecord('value-b-xyzzy', 'token', now));
    await vault.set('contract/list/a', newRecord('value-a-xyzzy', 'password', now));
    const items = await vault.list('contract/list/');
    expect(items).toEqual([
      { name: 'contract/list/a', kind: 'password', created: now.toISOString(), updated: now.toISOString() },
      { name: 'contract/list/b', kind: 'token', created: now.toISOString(), updated: now.toISOString() },
    ]);
    expect(JSON.stringify(await vault.list())).not.toContain('xyzzy');
    expect((await vault.list()).map((i) => i.name)).toContain('contract/replace');
  });

  it('deletes: true once, then false, then not found', async () => {
    await vault.set('contract/delete', newRecord('x', 'secret', now));
    expect(await vault.delete('contract/delete')).toBe(true);
    expect(await vault.delete('contract/delete')).toBe(false);
    await expect(vault.get('contract/delete')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses bad names with a usage error', async () => {
    for (const bad of ['', '/lead', 'sp ace', 'a//b', 'trail/', 'x'.repeat(129), '-dash', 'semi;colon']) {
      await expect(vault.get(bad)).rejects.toBeInstanceOf(UsageError);
      await expect(vault.set(bad, newRecord('x', 'secret', now))).rejects.toBeInstanceOf(UsageError);
    }
  });
}

describe('file vault contract', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let identity = '';
  beforeAll(async () => {
    identity = await generateIdentity();
  });
  writableContract(() =>
    new FileVault(`${home}/vault.age`, {
      paths: { config: home, data: home },
      env: { KEYSMITH_AGE_IDENTITY: identity },
      config: {},
      keychainService: 'keysmith-test',
      passphrase: async () => {
        throw new Error('no passphrase in this test');
      },
      now: () => now,
      notice: () => undefined,
    }),
  );
});

describeWith(['dbus-daemon', 'gnome-keyring-daemon', 'dbus-send'], 'keychain vault contract (real gnome-keyring)', () => {
  let keyring: TestKeyring;
  const saved = { ...process.env };
  beforeAll(() => {
    keyring = startKeyring();
    // The keyring library connects to the bus named in this process's environment.
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  });
  afterAll(() => {
    keyring?.stop();
    if (saved.DBUS_SESSION_BUS_ADDRESS) process.env.DBUS_SESSION_BUS_ADDRESS = saved.DBUS_SESSION_BUS_ADDRESS;
    else delete process.env.DBUS_SESSION_BUS_ADDRESS;
  });
  writableContract(() => new KeychainVault(`keysmith-contract-${process.pid}`));
});

describeWith(['git', 'ssh-keygen'], 'team vault contract', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  /** One member with an ed25519 key and a git that reads no config of the user running the tests. */
  const env = baseEnv({
    HOME: home,
    KEYSMITH_HOME: join(home, 'ks'),
    GIT_CONFIG_GLOBAL: join(home, '.gitconfig'),
    GIT_CONFIG_NOSYSTEM: '1',
    SSH_AUTH_SOCK: undefined,
  });
  const key = join(home, '.ssh', 'id_ed25519');
  writableContract(async () => {
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(home, '.gitconfig'), '');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice@contract', '-f', key]);
    const ctx = { paths: resolvePaths(env), env };
    await createTeam(ctx, 'contract', { member: 'alice', keyPath: key });
    // The vault as every command gets it: opened from the clone, not the object createTeam returned.
    const vault = await openTeam(ctx, 'contract');
    expect(vault.describe()).toMatchObject({ backend: 'team', writable: true });
    return vault;
  });
});

describe('env vault contract (read-only)', () => {
  const vault = new EnvVault({ KEYSMITH_SECRET_DB_PROD_PASSWORD: 'line\n  ', KEYSMITH_SECRET_CI_TOKEN: 'tok', OTHER: 'x' });

  it('reads KEYSMITH_SECRET_<NAME> with / . - mapped to _', async () => {
    expect((await vault.get('db/prod.password')).value).toBe('line\n  ');
    expect((await vault.get('db/prod-password')).value).toBe('line\n  ');
    await expect(vault.get('db/absent')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists variable names, never values', async () => {
    expect((await vault.list()).map((i) => i.name)).toEqual(['ci_token', 'db_prod_password']);
    expect((await vault.list('ci')).map((i) => i.name)).toEqual(['ci_token']);
  });

  it('refuses writes with a usage error', async () => {
    await expect(vault.set('ci/token', newRecord('x', 'secret', now))).rejects.toThrow(/read-only/);
    await expect(vault.delete('ci/token')).rejects.toBeInstanceOf(UsageError);
  });
});
