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
