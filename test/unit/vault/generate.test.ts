import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { CHARSETS, entropyBits, generatePassword } from '../../../src/vault/generate.js';

describe('generatePassword', () => {
  it.each(Object.keys(CHARSETS))('draws %s passwords of the asked length from the charset only', (charset) => {
    const chars = new Set(CHARSETS[charset as keyof typeof CHARSETS]);
    const pw = generatePassword(500, charset);
    expect(pw).toHaveLength(500);
    expect([...pw].every((c) => chars.has(c))).toBe(true);
  });

  it('uses the whole charset roughly evenly', () => {
    const counts = new Map<string, number>();
    const sample = Array.from({ length: 4 }, () => generatePassword(4000, 'hex')).join('');
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(16);
    for (const n of counts.values()) expect(n).toBeGreaterThan(800); // expected 1000 each
  });

  it('never repeats itself', () => {
    expect(generatePassword(32, 'alnum')).not.toBe(generatePassword(32, 'alnum'));
  });

  it('refuses bad lengths and charsets', () => {
    for (const n of [0, -1, 1.5, 4097, Number.NaN]) expect(() => generatePassword(n, 'alnum')).toThrow(UsageError);
    expect(() => generatePassword(8, 'toString')).toThrow(UsageError);
  });

  it('reports entropy', () => {
    expect(entropyBits(32, 'hex')).toBe(128);
    expect(entropyBits(32, 'alnum')).toBe(190);
  });
});
