import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, clockAt, DAY_MS, isoAt, runMain, tempHome } from '../../helpers/cli.js';

/**
 * `keysmith secret …` in-process (issue 12): IO, env and the clock injected through main. Every
 * date a record carries comes from the injected clock, never from the system's.
 */
describe('secret (in-process, injected clock)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const ks = join(home, 'ks');
  const vaultFile = join(ks, 'vault.age');
  // Milliseconds on purpose: JSON keeps them, the table's date column drops them.
  const T = '2031-03-04T05:06:07.250Z';
  const at = (offsetMs = 0) => ({ now: clockAt(T, offsetMs) });
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  describe('set', () => {
    it('stores the value from stdin; nothing on stdout, a status line on stderr', async () => {
      const got = await runMain(['secret', 'set', 'db/password', '-'], env, { input: 'hunter2', ...at() });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('');
      expect(got.stderr).toBe('stored db/password in the file vault\n');
    });

    it('--json: {name, kind, backend, created}; a second set is an update (created: false)', async () => {
      const first = await runMain(['--json', 'secret', 'set', 'api/token', '-', '--kind', 'token'], env, { input: 'tok-1', ...at() });
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ name: 'api/token', kind: 'token', backend: 'file', created: true });
      const again = await runMain(['--json', 'secret', 'set', 'api/token', '-', '--kind', 'token'], env, { input: 'tok-2', ...at(DAY_MS) });
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({ name: 'api/token', kind: 'token', backend: 'file', created: false });
      expect(again.stderr).toBe('updated api/token in the file vault\n');
    });

    it('a replaced record keeps its creation date; updated is the injected now of the replacement', async () => {
      const got = await runMain(['--json', 'secret', 'get', 'api/token'], env, at(2 * DAY_MS));
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ name: 'api/token', kind: 'token', value: 'tok-2', fields: {}, created: T, updated: isoAt(T, DAY_MS) });
    });

    it('a value ending with a newline is stored as is, and stderr says so', async () => {
      const got = await runMain(['secret', 'set', 'nl/value', '-'], env, { input: 'x\n', ...at() });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stderr).toMatch(/note: the value ends with a newline, stored as is/);
      expect((await runMain(['secret', 'get', 'nl/value'], env, at())).stdout).toBe('x\n');
    });

    it('an empty value is refused (exit 2) and nothing is stored', async () => {
      const got = await runMain(['secret', 'set', 'empty/value', '-'], env, { input: '', ...at() });
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/no value given/);
      expect((await runMain(['secret', 'get', 'empty/value'], env, at())).code).toBe(3);
    });

    it('--field and --kind are kept; get --field prints one field; a missing field is exit 3', async () => {
      const set = await runMain(['secret', 'set', 'db/prod', '-', '--kind', 'password', '--field', 'user=app', '--field', 'host=db1'], env, { input: 'pw-prod', ...at() });
      expect(set.code, set.stderr).toBe(0);
      const user = await runMain(['secret', 'get', 'db/prod', '--field', 'user'], env, at());
      expect(user.code).toBe(0);
      expect(user.stdout).toBe('app');
      const missing = await runMain(['secret', 'get', 'db/prod', '--field', 'port'], env, at());
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/has no field "port" \(fields: user, host\)/);
    });
  });

  describe('get', () => {
    it('prints the value byte for byte: no newline added when stdout is not a terminal', async () => {
      const value = 'p@ss wörd\t"quoted"\r\n  trailing  ';
      expect((await runMain(['secret', 'set', 'bytes/text', '-'], env, { input: value, ...at() })).code).toBe(0);
      const got = await runMain(['secret', 'get', 'bytes/text'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdoutBytes.equals(Buffer.from(value, 'utf8'))).toBe(true);
    });

    it('bytes that are not UTF-8 come back as the original bytes; --json shows them as base64 with encoding', async () => {
      const bytes = Buffer.from([0xff, 0x00, 0x80, 0x61, 0x0a, 0xc3]);
      const file = join(home, 'blob.bin');
      writeFileSync(file, bytes);
      expect((await runMain(['secret', 'set', 'bytes/blob', '--from-file', file], env, at())).code).toBe(0);
      const raw = await runMain(['secret', 'get', 'bytes/blob'], env, at());
      expect(raw.code, raw.stderr).toBe(0);
      expect(raw.stdoutBytes.equals(bytes)).toBe(true);
      const json = await runMain(['--json', 'secret', 'get', 'bytes/blob'], env, at());
      expect(JSON.parse(json.stdout)).toEqual({ name: 'bytes/blob', kind: 'secret', value: bytes.toString('base64'), encoding: 'base64', fields: {}, created: T, updated: T });
    });

    it('--json: exactly {name, kind, value, fields, created, updated}, the dates from the injected clock', async () => {
      const got = await runMain(['--json', 'secret', 'get', 'db/password'], env, at(5 * DAY_MS));
      expect(got.code, got.stderr).toBe(0);
      const parsed = JSON.parse(got.stdout);
      expect(parsed).toEqual({ name: 'db/password', kind: 'secret', value: 'hunter2', fields: {}, created: T, updated: T });
      expect(Object.keys(parsed)).toEqual(['name', 'kind', 'value', 'fields', 'created', 'updated']);
      const fields = await runMain(['--json', 'secret', 'get', 'db/prod'], env, at());
      expect(JSON.parse(fields.stdout)).toEqual({ name: 'db/prod', kind: 'password', value: 'pw-prod', fields: { user: 'app', host: 'db1' }, created: T, updated: T });
    });

    it('a missing secret is exit 3 with one error line and nothing on stdout', async () => {
      const got = await runMain(['secret', 'get', 'no/such'], env, at());
      expect(got.code).toBe(3);
      expect(got.stdout).toBe('');
      expect(got.stderr).toMatch(/^keysmith: /);
    });
  });

  describe('list', () => {
    it('--json: names, kinds and dates from the injected clock, sorted, never values', async () => {
      const got = await runMain(['--json', 'secret', 'list', 'db/'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual([
        { name: 'db/password', kind: 'secret', created: T, updated: T },
        { name: 'db/prod', kind: 'password', created: T, updated: T },
      ]);
      expect(got.stdout).not.toMatch(/hunter2|pw-prod/);
    });

    it('the table: NAME, KIND, UPDATED — the date column is the injected clock’s, to the second', async () => {
      const got = await runMain(['secret', 'list', 'api/'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(`NAME       KIND   UPDATED\napi/token  token  ${isoAt(T, DAY_MS).replace('.250Z', 'Z')}\n`);
      const db = await runMain(['secret', 'list', 'db/'], env, at());
      expect(db.stdout.split('\n')[1]).toBe('db/password  secret    2031-03-04T05:06:07Z');
    });

    it('a prefix with nothing under it: nothing on stdout, a line on stderr; --json is []', async () => {
      const got = await runMain(['secret', 'list', 'zzz/'], env, at());
      expect(got.code).toBe(0);
      expect(got.stdout).toBe('');
      expect(got.stderr).toBe('no secrets under zzz/\n');
      expect(JSON.parse((await runMain(['--json', 'secret', 'list', 'zzz/'], env, at())).stdout)).toEqual([]);
    });
  });

  describe('rm', () => {
    it('removes a secret (--json {name, removed: true}); it is then not found', async () => {
      expect((await runMain(['secret', 'set', 'tmp/gone', '-'], env, { input: 'bye', ...at() })).code).toBe(0);
      const got = await runMain(['--json', 'secret', 'rm', 'tmp/gone'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ name: 'tmp/gone', removed: true });
      expect(got.stderr).toBe('removed tmp/gone\n');
      expect((await runMain(['secret', 'get', 'tmp/gone'], env, at())).code).toBe(3);
    });

    it('a name that is not there: exit 3, or 0 with --force ({removed: false})', async () => {
      const missing = await runMain(['secret', 'rm', 'tmp/gone'], env, at());
      expect(missing.code).toBe(3);
      expect(missing.stderr).toMatch(/no secret named tmp\/gone in the file vault/);
      const forced = await runMain(['--json', 'secret', 'rm', 'tmp/gone', '--force'], env, at());
      expect(forced.code).toBe(0);
      expect(JSON.parse(forced.stdout)).toEqual({ name: 'tmp/gone', removed: false });
    });
  });

  describe('generate', () => {
    it('--json: {name, kind, length, charset, bits} and no value; the stored value has that length and charset', async () => {
      const got = await runMain(['--json', 'secret', 'generate', 'gen/hex', '--length', '24', '--charset', 'hex'], env, at());
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ name: 'gen/hex', kind: 'password', length: 24, charset: 'hex', bits: 96 });
      const value = await runMain(['secret', 'get', 'gen/hex'], env, at());
      expect(value.stdout).toMatch(/^[0-9a-f]{24}$/);
      const record = JSON.parse((await runMain(['--json', 'secret', 'get', 'gen/hex'], env, at())).stdout);
      expect(record).toMatchObject({ kind: 'password', created: T, updated: T });
    });

    it('defaults: 32 alnum characters, 190 bits; --print adds the value, the one stored', async () => {
      const got = await runMain(['--json', 'secret', 'generate', 'gen/default', '--print'], env, at());
      expect(got.code, got.stderr).toBe(0);
      const out = JSON.parse(got.stdout);
      expect(out).toMatchObject({ name: 'gen/default', kind: 'password', length: 32, charset: 'alnum', bits: 190 });
      expect(out.value).toMatch(/^[A-Za-z0-9]{32}$/);
      expect((await runMain(['secret', 'get', 'gen/default'], env, at())).stdout).toBe(out.value);
      expect(got.stderr).toBe('generated gen/default (32 alnum characters, 190 bits) in the file vault\n');
    });

    it('refuses to replace a secret without --force (exit 2, value unchanged); --force replaces it and keeps created', async () => {
      const before = (await runMain(['secret', 'get', 'gen/hex'], env, at())).stdout;
      const refused = await runMain(['secret', 'generate', 'gen/hex', '--charset', 'hex'], env, at(DAY_MS));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/gen\/hex already exists; pass --force to replace it/);
      expect((await runMain(['secret', 'get', 'gen/hex'], env, at())).stdout).toBe(before);
      const forced = await runMain(['secret', 'generate', 'gen/hex', '--charset', 'hex', '--length', '40', '--force'], env, at(DAY_MS));
      expect(forced.code, forced.stderr).toBe(0);
      const record = JSON.parse((await runMain(['--json', 'secret', 'get', 'gen/hex'], env, at())).stdout);
      expect(record.value).toMatch(/^[0-9a-f]{40}$/);
      expect(record).toMatchObject({ created: T, updated: isoAt(T, DAY_MS) });
    });

    it('a bad length is exit 2, worded with the flag', async () => {
      const got = await runMain(['secret', 'generate', 'gen/bad', '--length', '0'], env, at());
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/--length/);
      expect((await runMain(['secret', 'get', 'gen/bad'], env, at())).code).toBe(3);
    });
  });

  describe('bad names and values in argv: exit 2, existing data untouched', () => {
    it.each([
      ['set', ['secret', 'set', 'bad name!', '-']],
      ['set (leading slash)', ['secret', 'set', '/db/password', '-']],
      ['set (double slash)', ['secret', 'set', 'db//password', '-']],
      ['set (trailing slash)', ['secret', 'set', 'db/', '-']],
      ['set (129 characters)', ['secret', 'set', `a${'b'.repeat(128)}`, '-']],
      ['generate', ['secret', 'generate', 'bad name!']],
      ['rm', ['secret', 'rm', 'bad name!']],
    ])('%s → 2, the vault file byte for byte the same', async (_what, args) => {
      const before = readFileSync(vaultFile);
      const listed = (await runMain(['--json', 'secret', 'list'], env, at())).stdout;
      const got = await runMain(args, env, { input: 'new-value', ...at(3 * DAY_MS) });
      expect(got.code, got.stderr).toBe(2);
      expect(got.stderr).toMatch(/invalid secret name/);
      expect(readFileSync(vaultFile).equals(before)).toBe(true);
      expect((await runMain(['--json', 'secret', 'list'], env, at())).stdout).toBe(listed);
    });

    it('a value given in argv is refused (exit 2) without echoing it, and nothing is stored', async () => {
      const before = readFileSync(vaultFile);
      const got = await runMain(['secret', 'set', 'db/password', 'hunter3-in-argv'], env, at());
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/secret values never go in argv/);
      expect(got.stderr + got.stdout).not.toContain('hunter3-in-argv');
      expect(readFileSync(vaultFile).equals(before)).toBe(true);
      expect((await runMain(['secret', 'get', 'db/password'], env, at())).stdout).toBe('hunter2');
    });
  });
});
