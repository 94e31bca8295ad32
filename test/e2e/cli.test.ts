import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, recipientOf } from '../../src/vault/age.js';
import { BIN, baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { hasTool } from '../helpers/system.js';

const NO_STACK = /\n\s+at .+:\d+/;

describe('keysmith (built bin), file vault', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let identity = '';
  let env: NodeJS.ProcessEnv;
  const run = (args: string[], input?: string | Buffer, extra: NodeJS.ProcessEnv = {}) => runBin(args, { env: { ...env, ...extra }, input });
  beforeAll(async () => {
    identity = await generateIdentity();
    env = baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity });
  });

  it('--version and --help', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toMatch(/Exit codes/);
    for (const sub of [['secret', 'set'], ['secret', 'get'], ['secret', 'list'], ['secret', 'rm'], ['secret', 'generate'],
      ['vault', 'status'], ['vault', 'init'], ['vault', 'migrate'], ['vault', 'export'], ['vault', 'import'], ['vault', 'unlock'], ['vault', 'lock'],
      ['tls', 'ca', 'create'], ['tls', 'ca', 'list'], ['tls', 'ca', 'show'], ['tls', 'ca', 'export'], ['tls', 'ca', 'trust'], ['tls', 'ca', 'untrust'],
      ['tls', 'issue'], ['tls', 'csr'], ['tls', 'sign'], ['tls', 'inspect'], ['tls', 'check'], ['tls', 'export'],
      ['ssh', 'keygen'], ['ssh', 'list'], ['ssh', 'show'], ['ssh', 'fingerprint'], ['ssh', 'import'], ['ssh', 'hosts', 'add'], ['ssh', 'deploy'], ['ssh', 'rotate'],
      ['oauth', 'add'], ['oauth', 'list'], ['oauth', 'remove'], ['oauth', 'login'], ['oauth', 'token'], ['oauth', 'status'], ['oauth', 'logout'],
      ['team', 'create'], ['team', 'join'], ['team', 'add'], ['team', 'remove'], ['team', 'members'], ['team', 'sync'], ['team', 'status'], ['team', 'resolve'],
      ['exec'], ['inject'], ['completion']]) {
      const h = await run([...sub, '--help']);
      expect(h.code, sub.join(' ')).toBe(0);
      expect(h.stdout, sub.join(' ')).toMatch(/Example/);
    }
  });

  it('set from stdin, get prints the exact bytes', async () => {
    const value = 'unicode ✓ 🔑\nline two \t \n';
    const set = await run(['secret', 'set', 'db/password', '-'], value);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('');
    expect(set.stderr).toMatch(/stored db\/password/);
    expect(set.stderr).not.toContain('unicode');
    const get = await run(['secret', 'get', 'db/password']);
    expect(get.stdoutBytes.equals(Buffer.from(value))).toBe(true);
  });

  it('set reads piped stdin without "-", from a file, and from an env variable', async () => {
    expect((await run(['secret', 'set', 'piped/one'], 'piped')).code).toBe(0);
    expect((await run(['secret', 'get', 'piped/one'])).stdout).toBe('piped');
    const file = join(home, 'key.pem');
    const bytes = Buffer.from([0x2d, 0x2d, 0x00, 0xff, 0x0a]);
    writeFileSync(file, bytes);
    expect((await run(['secret', 'set', 'tls/key', '--from-file', file])).code).toBe(0);
    expect((await run(['secret', 'get', 'tls/key'])).stdoutBytes.equals(bytes)).toBe(true);
    const json = JSON.parse((await run(['secret', 'get', 'tls/key', '--json'])).stdout);
    expect(json).toMatchObject({ name: 'tls/key', encoding: 'base64', value: bytes.toString('base64') });
    expect((await run(['secret', 'set', 'env/one', '--from-env', 'MY_VALUE'], undefined, { MY_VALUE: 'from-env' })).code).toBe(0);
    expect((await run(['secret', 'get', 'env/one'])).stdout).toBe('from-env');
  });

  it('set keeps created, updates updated, and stores fields; get --json and --field', async () => {
    await run(['secret', 'set', 'db/prod', '--field', 'user=app', '--field', 'host=db1', '--kind', 'password'], 'p1');
    const first = JSON.parse((await run(['secret', 'get', 'db/prod', '--json'])).stdout);
    await new Promise((r) => setTimeout(r, 20));
    const again = await run(['secret', 'set', 'db/prod', '--field', 'user=app', '--kind', 'password'], 'p2');
    expect(again.stderr).toMatch(/updated/);
    const second = JSON.parse((await run(['secret', 'get', 'db/prod', '--json'])).stdout);
    expect(Object.keys(second).sort()).toEqual(['created', 'fields', 'kind', 'name', 'updated', 'value']);
    expect(second).toMatchObject({ name: 'db/prod', kind: 'password', value: 'p2', fields: { user: 'app' }, created: first.created });
    expect(second.updated > first.updated).toBe(true);
    expect(await run(['secret', 'get', 'db/prod', '--field', 'user'])).toMatchObject({ code: 0, stdout: 'app' });
    const missing = await run(['secret', 'get', 'db/prod', '--field', 'nope']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/fields: user/);
  });

  it('refuses a value in argv, two sources, an empty value, and no value without a terminal (exit 2, names the flags)', async () => {
    const argv = await run(['secret', 'set', 'x/y', 'hunter2']);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/never go in argv/);
    expect(argv.stderr).not.toContain('hunter2');
    expect((await run(['secret', 'set', 'x/y', '-', '--from-env', 'HOME'])).code).toBe(2);
    const empty = await run(['secret', 'set', 'x/y'], '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--from-file/);
    expect((await run(['secret', 'get', 'x/y'])).code).toBe(3);
    const noEnv = await run(['secret', 'set', 'x/y', '--from-env', 'NOT_SET_ANYWHERE']);
    expect(noEnv.code).toBe(2);
  });

  it('list: table for people, JSON for machines, prefix filter, never values', async () => {
    const table = await run(['secret', 'list']);
    expect(table.stdout).toMatch(/^NAME\s+KIND\s+UPDATED\n/);
    expect(table.stdout).toMatch(/db\/password\s+secret\s+\d{4}-\d\d-\d\dT/);
    const items = JSON.parse((await run(['secret', 'list', 'db/', '--json'])).stdout);
    expect(items.map((i: { name: string }) => i.name)).toEqual(['db/password', 'db/prod']);
    expect(Object.keys(items[0]).sort()).toEqual(['created', 'kind', 'name', 'updated']);
    expect((await run(['secret', 'list', '--json'])).stdout).not.toContain('p2');
    expect(JSON.parse((await run(['secret', 'list', 'zzz/', '--json'])).stdout)).toEqual([]);
  });

  it('rm removes; a missing name is exit 3 unless --force', async () => {
    await run(['secret', 'set', 'gone/soon', '-'], 'x');
    expect((await run(['secret', 'rm', 'gone/soon'])).code).toBe(0);
    expect((await run(['secret', 'get', 'gone/soon'])).code).toBe(3);
    const again = await run(['secret', 'rm', 'gone/soon']);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/no secret named gone\/soon/);
    expect((await run(['secret', 'rm', 'gone/soon', '--force'])).code).toBe(0);
  });

  it('generate: length and charset, no overwrite without --force, --print', async () => {
    const gen = await run(['secret', 'generate', 'gen/pw', '--length', '40', '--charset', 'hex']);
    expect(gen.code, gen.stderr).toBe(0);
    expect(gen.stdout).toBe('');
    expect(gen.stderr).toMatch(/160 bits/);
    expect((await run(['secret', 'get', 'gen/pw'])).stdout).toMatch(/^[0-9a-f]{40}$/);
    const json = JSON.parse((await run(['secret', 'get', 'gen/pw', '--json'])).stdout);
    expect(json.kind).toBe('password');
    const again = await run(['secret', 'generate', 'gen/pw']);
    expect(again.code).toBe(2);
    expect((await run(['secret', 'get', 'gen/pw'])).stdout).toBe(json.value); // untouched
    const printed = await run(['secret', 'generate', 'gen/pw', '--force', '--print', '--charset', 'base64url', '--length', '24']);
    expect(printed.stdout).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await run(['secret', 'get', 'gen/pw'])).stdout).toBe(printed.stdout);
    expect((await run(['secret', 'generate', 'gen/x', '--length', '0'])).code).toBe(2);
    expect((await run(['secret', 'generate', 'gen/x', '--charset', 'emoji'])).code).toBe(2);
  });

  it('bad names are exit 2; unknown commands and options are exit 2; no stack traces', async () => {
    for (const args of [['secret', 'get', '../etc/passwd'], ['secret', 'set', 'a b', '-'], ['secret', 'rm', '/x'], ['secret', 'frobnicate'], ['secret', 'get'], ['--vault', 'plaintext', 'secret', 'list']]) {
      const got = await run(args, 'v');
      expect(got.code, args.join(' ')).toBe(2);
      expect(got.stderr).not.toMatch(NO_STACK);
    }
  });

  it('vault status describes the backend and why; --json is stable', async () => {
    const status = JSON.parse((await run(['vault', 'status', '--json'])).stdout);
    expect(status).toEqual({
      backend: 'file',
      location: join(home, 'vault.age'),
      reason: 'chosen with KEYSMITH_VAULT',
      writable: true,
      items: expect.any(Number),
      identity: 'KEYSMITH_AGE_IDENTITY',
    });
    const text = await run(['vault', 'status']);
    expect(text.stdout).toMatch(/backend: +file/);
    expect(text.stdout).toMatch(/identity: +KEYSMITH_AGE_IDENTITY/);
  });

  it('a reader that closes the pipe early (| head -c1) ends keysmith quietly, without a stack trace', async () => {
    const { home: own, cleanup: done } = tempHome(); // a vault of its own: 4 MiB would weigh on the other tests
    try {
      const ownEnv = { ...env, KEYSMITH_HOME: own };
      expect((await runBin(['secret', 'set', 'big/value', '-'], { env: ownEnv, input: 'x'.repeat(4 * 1024 * 1024) })).code).toBe(0);
      const sh = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" secret get big/value | head -c1 >/dev/null`], { env: ownEnv, encoding: 'utf8' });
      expect(sh.stderr).not.toMatch(/Unhandled|EPIPE|at /);
      expect(sh.status).toBe(0);
    } finally {
      done();
    }
  });

  it('a mistyped option is named, but what was typed after it is never echoed (it may be a value)', async () => {
    for (const [args, shown] of [
      [['secret', 'set', 'db/pw', '-Xhunter2'], "'-X'"],
      [['secret', 'set', 'db/pw', '--valu=hunter2'], "'--valu'"],
      [['secret', 'get', '--hunter2'], "'--hunter2'"],
    ] as const) {
      const got = await run([...args]);
      expect(got.code, args.join(' ')).toBe(2);
      expect(got.stderr).toContain(`unknown option ${shown}`);
      if (!shown.includes('hunter2')) expect(got.stderr).not.toContain('hunter2');
    }
  });

  it('--debug traces name the TypeScript sources (source maps on), not minified chunks (issue 12)', async () => {
    const got = await run(['--debug', 'secret', 'get', 'no/such/secret']);
    expect(got.code).toBe(3);
    expect(got.stderr).toMatch(/ERR_VAULT_NOT_FOUND/);
    expect(got.stderr).toMatch(/\(.*src\/[a-z/-]+\.ts:\d+:\d+\)/);
    expect(got.stderr).not.toMatch(/chunk-[A-Z0-9]+\.js/);
  });

  it('a malformed --field or --env is refused without echoing what was typed (it may be a value)', async () => {
    for (const args of [['secret', 'set', 'db/fielded', '--field', 'hunter2', '-'], ['exec', '--env', 'hunter2', '--', 'true']]) {
      const got = await run(args, 'value');
      expect(got.code, args.join(' ')).toBe(2);
      expect(got.stderr).toMatch(/^keysmith: --(field|env): expected /);
      expect(got.stderr).not.toContain('hunter2');
    }
  });

  it('export with an empty passphrase is refused, and writes nothing', async () => {
    const out = join(home, 'empty-passphrase.age');
    const got = await run(['vault', 'export', '--out', out, '--passphrase'], undefined, { KEYSMITH_BACKUP_PASSPHRASE: '' });
    expect(got.code).toBe(2);
    expect(got.stderr).toMatch(/empty passphrase/);
    expect(existsSync(out)).toBe(false);
  });

  it('export to a recipient and import into another vault; conflicts refused without --force', async () => {
    const backupId = await generateIdentity();
    const out = join(home, 'backup.age');
    const exp = await run(['vault', 'export', '--out', out, '--recipient', await recipientOf(backupId)]);
    expect(exp.code, exp.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((await run(['vault', 'export', '--out', out, '--recipient', await recipientOf(backupId)])).code).toBe(2); // exists
    expect((await run(['vault', 'export', '--out', join(home, 'b2.age')])).code).toBe(2); // no recipient
    if (hasTool('age')) {
      writeFileSync(join(home, 'backup-id.txt'), `${backupId}\n`);
      const doc = JSON.parse(execFileSync('age', ['-d', '-i', join(home, 'backup-id.txt'), out], { encoding: 'utf8' }));
      expect(Object.keys(doc.records)).toContain('db/password');
    }
    const { home: other, cleanup: c2 } = tempHome();
    try {
      const env2 = baseEnv({ KEYSMITH_HOME: other, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
      writeFileSync(join(other, 'id.txt'), backupId);
      const imp = await runBin(['vault', 'import', out, '--identity', join(other, 'id.txt'), '--json'], { env: env2 });
      expect(imp.code, imp.stderr).toBe(0);
      expect(JSON.parse(imp.stdout).imported).toContain('db/password');
      const bytes = (await run(['secret', 'get', 'db/password'])).stdoutBytes;
      expect((await runBin(['secret', 'get', 'db/password'], { env: env2 })).stdoutBytes.equals(bytes)).toBe(true);
      const conflict = await runBin(['vault', 'import', out, '--identity', join(other, 'id.txt')], { env: env2 });
      expect(conflict.code).toBe(2);
      expect(conflict.stderr).toMatch(/already exist/);
      expect((await runBin(['vault', 'import', out, '--identity', join(other, 'id.txt'), '--force'], { env: env2 })).code).toBe(0);
      const wrongId = await runBin(['vault', 'import', out], { env: env2 });
      expect(wrongId.code).toBe(4);
    } finally {
      c2();
    }
  });

  it('export and import with a passphrase', async () => {
    const out = join(home, 'pass-backup.age');
    const extra = { KEYSMITH_BACKUP_PASSPHRASE: 'backup words here' };
    expect((await run(['vault', 'export', '--out', out, '--passphrase'], undefined, extra)).code).toBe(0);
    const { home: other, cleanup: c2 } = tempHome();
    try {
      const env2 = baseEnv({ KEYSMITH_HOME: other, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
      const noPass = await runBin(['vault', 'import', out], { env: env2 });
      expect(noPass.code).toBe(2);
      expect(noPass.stderr).toMatch(/KEYSMITH_BACKUP_PASSPHRASE/);
      const wrong = await runBin(['vault', 'import', out], { env: { ...env2, KEYSMITH_BACKUP_PASSPHRASE: 'nope' } });
      expect(wrong.code).toBe(4);
      expect(existsSync(join(other, 'vault.age'))).toBe(false);
      expect((await runBin(['vault', 'import', out], { env: { ...env2, ...extra } })).code).toBe(0);
      expect((await runBin(['secret', 'get', 'piped/one'], { env: env2 })).stdout).toBe('piped');
    } finally {
      c2();
    }
  });

  it('vault init with KEYSMITH_AGE_IDENTITY creates an empty vault and is idempotent', async () => {
    const { home: h, cleanup: c } = tempHome();
    try {
      const e = baseEnv({ KEYSMITH_HOME: h, KEYSMITH_AGE_IDENTITY: identity });
      const first = await runBin(['vault', 'init', '--backend', 'file', '--json'], { env: e });
      expect(JSON.parse(first.stdout)).toMatchObject({ backend: 'file', created: true, identity: 'KEYSMITH_AGE_IDENTITY' });
      const before = readFileSync(join(h, 'vault.age'));
      const second = await runBin(['vault', 'init', '--backend', 'file', '--json'], { env: e });
      expect(JSON.parse(second.stdout)).toMatchObject({ created: false });
      expect(readFileSync(join(h, 'vault.age')).equals(before)).toBe(true);
      expect(JSON.parse((await runBin(['vault', 'status', '--json'], { env: e })).stdout)).toMatchObject({ backend: 'file', items: 0 });
    } finally {
      c();
    }
  });
});

describe('keysmith (built bin), env vault', () => {
  const env = baseEnv({ KEYSMITH_VAULT: 'env', KEYSMITH_SECRET_CI_TOKEN: 'tok-123', KEYSMITH_SECRET_DB_PASSWORD: 'pw' });

  it('reads KEYSMITH_SECRET_* and lists names', async () => {
    expect(await runBin(['secret', 'get', 'ci/token'], { env })).toMatchObject({ code: 0, stdout: 'tok-123' });
    expect(JSON.parse((await runBin(['secret', 'list', '--json'], { env })).stdout).map((i: { name: string }) => i.name)).toEqual(['ci_token', 'db_password']);
    expect((await runBin(['secret', 'get', 'no/such'], { env })).code).toBe(3);
  });

  it('refuses writes with exit 2', async () => {
    for (const args of [['secret', 'set', 'ci/token', '-'], ['secret', 'rm', 'ci/token'], ['secret', 'generate', 'x/y']]) {
      const got = await runBin(args, { env, input: 'v' });
      expect(got.code, args.join(' ')).toBe(2);
      expect(got.stderr).toMatch(/read-only/);
    }
  });
});
