import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startKeyring, type TestKeyring } from '../helpers/keyring.js';
import { describeWith } from '../helpers/system.js';

describeWith(['dbus-daemon', 'gnome-keyring-daemon', 'dbus-send', 'secret-tool'], 'keychain vault through the CLI (real gnome-keyring)', () => {
  let keyring: TestKeyring;
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    keyring = startKeyring();
    env = baseEnv({ ...keyring.env, KEYSMITH_HOME: home });
  });
  afterAll(() => {
    keyring?.stop();
    cleanup();
  });

  it('chooses the keychain by default when it answers, and remembers the choice', async () => {
    const status = JSON.parse((await runBin(['vault', 'status', '--json'], { env })).stdout);
    expect(status).toMatchObject({ backend: 'keychain', writable: true, items: 0 });
    expect(status.reason).toMatch(/default/);
    expect((await runBin(['secret', 'set', 'db/password', '-'], { env, input: 'pässword\n' })).code).toBe(0);
    const after = JSON.parse((await runBin(['vault', 'status', '--json'], { env })).stdout);
    expect(after).toMatchObject({ backend: 'keychain', items: 1, reason: expect.stringMatching(/config/) });
  });

  it('stores one item per secret that secret-tool finds under service and username', async () => {
    const text = execFileSync('secret-tool', ['lookup', 'service', 'keysmith-test', 'username', 'db/password'], {
      env: { ...process.env, ...keyring.env },
      encoding: 'utf8',
    });
    const record = JSON.parse(text);
    expect(record).toMatchObject({ kind: 'secret', value: 'pässword\n' });
    expect(await runBin(['secret', 'get', 'db/password'], { env })).toMatchObject({ code: 0, stdout: 'pässword\n' });
  });

  it('reads an item another tool stored under the service as a plain value', async () => {
    execFileSync('secret-tool', ['store', '--label=other', 'service', 'keysmith-test', 'username', 'from/secret-tool'], {
      env: { ...process.env, ...keyring.env },
      input: 'raw value',
    });
    expect(await runBin(['secret', 'get', 'from/secret-tool'], { env })).toMatchObject({ code: 0, stdout: 'raw value' });
  });

  it('vault init picks the keychain when it answers, and --backend keychain records it', async () => {
    const { home: h2, cleanup: c2 } = tempHome();
    try {
      const e = { ...env, KEYSMITH_HOME: h2 };
      const init = await runBin(['vault', 'init', '--json'], { env: e });
      expect(init.code, init.stderr).toBe(0);
      expect(JSON.parse(init.stdout)).toMatchObject({ backend: 'keychain', created: true });
      expect(JSON.parse((await runBin(['vault', 'status', '--json'], { env: e })).stdout).reason).toMatch(/config/);
      const noBus = await runBin(['vault', 'init', '--backend', 'keychain'], { env: { ...e, DBUS_SESSION_BUS_ADDRESS: `unix:path=${h2}/none` } });
      expect(noBus.code).toBe(5);
    } finally {
      c2();
    }
  });

  it('migrates keychain → file → keychain, verifying every record', async () => {
    const e = { ...env, KEYSMITH_AGE_IDENTITY: await generateIdentity() };
    await runBin(['secret', 'set', 'm/one', '-'], { env: e, input: 'one' });
    const before = JSON.parse((await runBin(['secret', 'list', '--json'], { env: e })).stdout).map((i: { name: string }) => i.name);
    const toFile = await runBin(['vault', 'migrate', '--to', 'file', '--json'], { env: e });
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(JSON.parse(toFile.stdout).moved.sort()).toEqual(before.sort());
    expect(JSON.parse((await runBin(['secret', 'list', '--json', '--vault', 'keychain'], { env: e })).stdout)).toEqual([]);
    expect(JSON.parse((await runBin(['vault', 'status', '--json'], { env: e })).stdout).backend).toBe('file');
    expect(await runBin(['secret', 'get', 'm/one'], { env: e })).toMatchObject({ code: 0, stdout: 'one' });
    const back = await runBin(['vault', 'migrate', '--to', 'keychain'], { env: e });
    expect(back.code, back.stderr).toBe(0);
    expect(await runBin(['secret', 'get', 'db/password', '--vault', 'keychain'], { env: e })).toMatchObject({ code: 0, stdout: 'pässword\n' });
  });

  it('keeps a new file vault identity in the keychain when the keychain is usable', async () => {
    const { home: h2, cleanup: c2 } = tempHome();
    try {
      const e = { ...env, KEYSMITH_HOME: h2 };
      const init = await runBin(['vault', 'init', '--backend', 'file', '--json'], { env: e });
      expect(init.code, init.stderr).toBe(0);
      expect(JSON.parse(init.stdout)).toMatchObject({ backend: 'file', created: true, identity: 'OS keychain' });
      expect((await runBin(['secret', 'set', 'k/v', '-'], { env: e, input: 'val' })).code).toBe(0);
      expect((await runBin(['secret', 'get', 'k/v'], { env: e })).stdout).toBe('val');
      // The identity is a keychain item, and it is not listed as a secret of the keychain vault.
      const names = JSON.parse((await runBin(['secret', 'list', '--json', '--vault', 'keychain'], { env: e })).stdout).map((i: { name: string }) => i.name);
      expect(names).not.toContain('.file-vault-identity');
    } finally {
      c2();
    }
  });
});

describeWith(['dbus-daemon', 'gnome-keyring-daemon', 'dbus-send'], 'locked keychain', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  it('a locked keyring is exit 4 with how to unlock, never "not found"', async () => {
    // Its own keyring: a locked one cannot be unlocked again without a desktop prompt.
    const own = startKeyring();
    const e = baseEnv({ ...own.env, KEYSMITH_HOME: home });
    try {
      expect((await runBin(['secret', 'set', 'db/password', '-'], { env: e, input: 'v' })).code).toBe(0);
      own.lock();
      for (const args of [['secret', 'get', 'db/password'], ['secret', 'get', 'no/such'], ['secret', 'list'], ['secret', 'set', 'x/y', '-']]) {
        const got = await runBin(args, { env: e, input: 'v' });
        expect(got.code, args.join(' ')).toBe(4);
        expect(got.stderr).toMatch(/locked/);
        expect(got.stderr).toMatch(/hint: unlock/);
        expect(got.stderr).not.toMatch(/no secret named/);
      }
      const status = await runBin(['vault', 'status', '--json'], { env: e });
      expect(status.code).toBe(4);
      expect(JSON.parse(status.stdout).error.code).toBe('ERR_KEYCHAIN_LOCKED');
    } finally {
      own.stop();
    }
  });
});

it('with no Secret Service, --vault keychain is exit 5 and says what to do', async () => {
  const { home, cleanup } = tempHome();
  try {
    const env = baseEnv({ KEYSMITH_HOME: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${home}/no-such-bus` });
    const got = await runBin(['secret', 'get', 'a/b', '--vault', 'keychain'], { env });
    expect(got.code).toBe(5);
    expect(got.stderr).toMatch(/not available/);
    expect(got.stderr).toMatch(/--vault file/);
    expect(got.stderr).not.toMatch(/\n\s+at /);
  } finally {
    cleanup();
  }
});
