import { expect, it } from 'vitest';
import { parseDuration } from '../../src/duration.js';
import { UsageError } from '../../src/errors.js';

it('parses durations and refuses nonsense', () => {
  expect(parseDuration('30s', '--ttl')).toBe(30_000);
  expect(parseDuration('12h', '--ttl')).toBe(43_200_000);
  expect(parseDuration('90d', '--ttl')).toBe(90 * 86_400_000);
  expect(parseDuration('1.5m', '--ttl')).toBe(90_000);
  for (const bad of ['', '12', 'h', '-1h', '1y', '1 h']) expect(() => parseDuration(bad, '--ttl')).toThrow(UsageError);
});

it('refuses durations no clock can hold, in one line that does not echo the value', () => {
  for (const huge of ['99999999999d', '5300w', '9999999999999999999s']) {
    expect(() => parseDuration(huge, '--ttl')).toThrow(/--ttl: at most 100 years/);
  }
  expect(parseDuration('36500d', '--ttl')).toBe(36_500 * 86_400_000);
});
