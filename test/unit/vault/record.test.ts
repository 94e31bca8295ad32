import { describe, expect, it } from 'vitest';
import { FailedError } from '../../../src/errors.js';
import { encodeValue, newRecord, parseRecord, valueBytes } from '../../../src/vault/record.js';

describe('records', () => {
  it('keeps UTF-8 text as text and anything else as base64, byte-exact', () => {
    expect(encodeValue(Buffer.from('héllo\n'))).toEqual({ value: 'héllo\n' });
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const encoded = encodeValue(binary);
    expect(encoded.encoding).toBe('base64');
    expect(valueBytes(encoded).equals(binary)).toBe(true);
  });

  it('stamps created and updated', () => {
    const r = newRecord('v', 'token', new Date('2026-01-01T00:00:00Z'), { user: 'u' });
    expect(r).toEqual({ kind: 'token', value: 'v', fields: { user: 'u' }, created: '2026-01-01T00:00:00.000Z', updated: '2026-01-01T00:00:00.000Z' });
  });

  it('refuses records of the wrong shape', () => {
    for (const bad of [null, 'x', { kind: 'x' }, { value: 'v' }, { kind: 'x', value: 1 }, { kind: 'x', value: 'v', encoding: 'hex' }, { kind: 'x', value: 'v', fields: { a: 1 } }]) {
      expect(() => parseRecord(bad, 'here')).toThrow(FailedError);
    }
    expect(parseRecord({ kind: 'x', value: 'v' }, 'here').fields).toEqual({});
  });
});
