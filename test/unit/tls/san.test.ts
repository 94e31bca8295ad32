import fc from 'fast-check';
import { isIP as nodeIsIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isIP, parseSan } from '../../../src/tls/names.js';

describe('isIP: net.isIP without compiling its IPv6 regex for names with no colon', () => {
  const cases = ['127.0.0.1', '::1', '::', '::ffff:10.0.0.1', 'fe80::1%eth0', '2001:db8::1', '1.2.3', '01.2.3.4', '256.1.1.1',
    '1.2.3.4 ', 'host.test', 'h:1', '[::1]', '', ':', ':::', '1::2::3', 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255'];
  it.each(cases)('%j: as net.isIP', (text) => expect(isIP(text)).toBe(nodeIsIP(text)));

  it('agrees with net.isIP on generated addresses, near-addresses and noise', () => {
    const chunk = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), maxLength: 5 }), fc.constantFrom('', '%eth0', ' '));
    const candidate = fc.oneof(
      fc.ipV4(), fc.ipV6(), fc.ipV4Extended(),
      fc.array(chunk, { maxLength: 9 }).chain((parts) => fc.constantFrom('.', ':', '::').map((sep) => parts.join(sep))),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(fc.property(candidate, (text) => isIP(text) === nodeIsIP(text)), { numRuns: 5000 });
  });

  it('parseSan classifies with it', () => {
    expect(parseSan('::1')).toEqual({ type: 'ip', value: '::1' });
    expect(parseSan('10.0.0.1')).toEqual({ type: 'ip', value: '10.0.0.1' });
    expect(parseSan('Host.Test')).toEqual({ type: 'dns', value: 'host.test' });
  });
});
