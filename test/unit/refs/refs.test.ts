import { describe, expect, it } from 'vitest';
import { NotFoundError, UsageError } from '../../../src/errors.js';
import { parseEnvFile, parseEnvFlag } from '../../../src/refs/env-file.js';
import { renderTemplate, templateReferences } from '../../../src/refs/inject.js';
import { parseReference, referenceOrName, resolveReferences } from '../../../src/refs/references.js';
import { EnvVault } from '../../../src/vault/env.js';

describe('references', () => {
  it('parses ks://NAME and ks://NAME#field, and bare names', () => {
    expect(parseReference('ks://db/password')).toEqual({ text: 'ks://db/password', name: 'db/password' });
    expect(parseReference('ks://db/prod#user')).toEqual({ text: 'ks://db/prod#user', name: 'db/prod', field: 'user' });
    expect(referenceOrName('db/password')).toEqual({ text: 'ks://db/password', name: 'db/password' });
    for (const bad of ['ks://', 'ks://a b', 'ks:///x', 'ks://x#', 'http://x', 'ks://x#a b']) expect(() => parseReference(bad)).toThrow(UsageError);
  });

  it('resolves every reference or fails naming the missing one', async () => {
    const vault = new EnvVault({ KEYSMITH_SECRET_DB_PASSWORD: 'pw' });
    const values = await resolveReferences(vault, [parseReference('ks://db/password'), parseReference('ks://db.password')]);
    expect(values.get('ks://db/password')!.toString()).toBe('pw');
    await expect(resolveReferences(vault, [parseReference('ks://db/password'), parseReference('ks://no/such')])).rejects.toThrow(NotFoundError);
    await expect(resolveReferences(vault, [parseReference('ks://db/password#user')])).rejects.toThrow(/no field "user"/);
  });

  it('uses a kind resolver when one is registered', async () => {
    const vault = new EnvVault({ KEYSMITH_SECRET_X: 'stored' });
    const values = await resolveReferences(vault, [parseReference('ks://x')], { secret: async () => 'fresh' });
    expect(values.get('ks://x')!.toString()).toBe('fresh');
  });
});

describe('env files', () => {
  it('reads VAR=value lines, comments, export, quotes', () => {
    const entries = parseEnvFile(`# c\n\nexport A=ks://a\nB = 'lit $x'\nC="q \\"x\\"\\nnext"\nD=plain=with=equals\n`, 'f');
    expect(entries.map((e) => [e.name, e.value, e.line])).toEqual([
      ['A', 'ks://a', 3],
      ['B', 'lit $x', 4],
      ['C', 'q "x"\nnext', 5],
      ['D', 'plain=with=equals', 6],
    ]);
    expect(() => parseEnvFile('JUST_A_NAME\n', 'f')).toThrow(/f:1/);
    expect(() => parseEnvFile('1X=y\n', 'f')).toThrow(UsageError);
  });

  it('reads --env flags', () => {
    expect(parseEnvFlag('DB=db/password')).toMatchObject({ name: 'DB', value: 'db/password' });
    for (const bad of ['DB', '=x', 'DB=', 'A-B=x']) expect(() => parseEnvFlag(bad)).toThrow(UsageError);
  });

  it('a malformed --env is not echoed: what was typed may be a value (issue 10, finding 9)', () => {
    for (const typed of ['Hunter2Value', 'PASS-WORD=Hunter2Value', '=Hunter2Value']) {
      expect(() => parseEnvFlag(typed)).toThrow(/^env: expected VAR=secret-name/);
      try {
        parseEnvFlag(typed);
      } catch (err) {
        expect((err as Error).message).not.toContain('Hunter2Value');
      }
    }
  });
});

describe('templates', () => {
  it('finds and fills placeholders, copying other bytes', () => {
    const t = Buffer.from('a {{ks://x}} b {{  ks://y#f  }} c {{ ks:x }} \xff', 'latin1');
    expect(templateReferences(t).map((r) => r.text)).toEqual(['ks://x', 'ks://y#f']);
    const out = renderTemplate(t, new Map([['ks://x', Buffer.from('1')], ['ks://y#f', Buffer.from('2')]]));
    expect(out.equals(Buffer.from('a 1 b 2 c {{ ks:x }} \xff', 'latin1'))).toBe(true);
  });
});
