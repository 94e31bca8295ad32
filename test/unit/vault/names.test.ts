import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { envVarName, validateName } from '../../../src/vault/names.js';

describe('secret names', () => {
  it.each(['db/password', 'a', 'A1._-/x', 'x'.repeat(128), 'db/prod/2026.key'])('accepts %s', (name) => {
    expect(validateName(name)).toBe(name);
  });

  it.each(['', '/x', '.hidden', '-x', '_x', 'a b', 'a//b', 'a/', 'x'.repeat(129), 'ä', 'a\nb', 'a;b', 'a\\b'])('refuses %j', (name) => {
    expect(() => validateName(name)).toThrow(UsageError);
  });

  it('maps names to KEYSMITH_SECRET_ variables', () => {
    expect(envVarName('db/prod-1.pw')).toBe('KEYSMITH_SECRET_DB_PROD_1_PW');
    expect(envVarName('ci_token')).toBe('KEYSMITH_SECRET_CI_TOKEN');
  });
});
