import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalName, certificatePolicies, keyInfo, nameAttributes, policyConstraints, policyMappings, readOne, readTlv } from '../../../src/tls/der.js';

/** DER helpers for hand-made names and extension values. */
const tlv = (tag: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  const len = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
};
const oid = (hex: string) => tlv(0x06, Buffer.from(hex, 'hex'));
const O = '55040a';
const CN = '550403';
const atv = (type: string, tag: number, value: string | Buffer) => tlv(0x30, oid(type), tlv(tag, Buffer.isBuffer(value) ? value : Buffer.from(value, tag === 0x0c ? 'utf8' : 'latin1')));
const rdn = (...atvs: Buffer[]) => tlv(0x31, ...atvs);
const name = (...rdns: Buffer[]) => readOne(tlv(0x30, ...rdns));

describe('names in canonical form (as OpenSSL compares them)', () => {
  it('case, spacing and string type fold; multi-valued RDNs are sets; empty RDNs are dropped', () => {
    const a = canonicalName(name(rdn(atv(O, 0x13, 'Keysmith  Test')), rdn(atv(CN, 0x0c, 'Issuing CA'))));
    expect(canonicalName(name(rdn(atv(O, 0x0c, ' keysmith test ')), rdn(atv(CN, 0x13, 'ISSUING\tCA'))))).toBe(a);
    expect(canonicalName(name(rdn(), rdn(atv(O, 0x1e, Buffer.from('\0K\0e\0y\0s\0m\0i\0t\0h\0 \0T\0e\0s\0t', 'latin1'))), rdn(), rdn(atv(CN, 0x16, 'issuing ca'))))).toBe(a);
    expect(canonicalName(name(rdn(atv(O, 0x0c, 'x'), atv(CN, 0x0c, 'y'))))).toBe(canonicalName(name(rdn(atv(CN, 0x0c, 'y'), atv(O, 0x0c, 'x')))));
  });

  it('types OpenSSL does not fold stay apart: NumericString "123" is not PrintableString "123"', () => {
    expect(canonicalName(name(rdn(atv(CN, 0x12, '123'))))).not.toBe(canonicalName(name(rdn(atv(CN, 0x13, '123')))));
    expect(canonicalName(name(rdn(atv(CN, 0x0c, 'É'))))).not.toBe(canonicalName(name(rdn(atv(CN, 0x0c, 'é'))))); // ASCII only, as OpenSSL
  });

  it('a constructed string in a name is not DER', () => {
    const constructed = tlv(0x30, oid(O), tlv(0x33, tlv(0x13, Buffer.from('Ev')), tlv(0x13, Buffer.from('il'))));
    expect(() => nameAttributes(name(rdn(constructed)))).toThrow(/constructed string/);
  });
});

describe('key strength from the SubjectPublicKeyInfo', () => {
  it('reads RSA under its X.500 alias OID (2.5.8.1.1) as RSA, so a 1024-bit key is still weak', () => {
    const spki = Buffer.from(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }));
    const rsaOid = Buffer.from('06092a864886f70d010101', 'hex');
    const at = spki.indexOf(rsaOid);
    // Same length is needed for the outer lengths to hold: 2.5.8.1.1 is 5 bytes, so rebuild the AlgorithmIdentifier.
    const alias = tlv(0x30, oid('55080101'), Buffer.from('0500', 'hex'));
    const algorithm = readTlv(spki, at - 2);
    const rebuilt = tlv(0x30, alias, spki.subarray(at - 2 + algorithm.bytes.length));
    expect(keyInfo(readOne(rebuilt))).toEqual({ type: 'rsa', bits: 1024 });
  });
});

describe('policy extensions OpenSSL would refuse under policy checking', () => {
  const policy = oid('2b0601040182e80f07'); // 1.3.6.1.4.1.46095.7, a private OID
  const cps = oid('2b06010505070201');
  const unotice = oid('2b06010505070202');
  it('a CPS qualifier must be an IA5String, a user notice well formed', () => {
    const ok = tlv(0x30, tlv(0x30, policy, tlv(0x30, tlv(0x30, cps, tlv(0x16, Buffer.from('https://cps.example'))))));
    expect(certificatePolicies(ok)).toEqual(['1.3.6.1.4.1.46095.7']);
    const integer = tlv(0x30, tlv(0x30, policy, tlv(0x30, tlv(0x30, cps, tlv(0x02, Buffer.from([5]))))));
    expect(() => certificatePolicies(integer)).toThrow(/CPS/);
    const badNotice = tlv(0x30, tlv(0x30, policy, tlv(0x30, tlv(0x30, unotice, tlv(0x30, tlv(0x02, Buffer.from([1])))))));
    expect(() => certificatePolicies(badNotice)).toThrow(/user notice/);
    const extra = tlv(0x30, tlv(0x30, policy, tlv(0x30), tlv(0x05)));
    expect(() => certificatePolicies(extra)).toThrow(/PolicyInformation/);
  });

  it('policyConstraints must not be empty (RFC 5280 §4.2.1.11)', () => {
    expect(() => policyConstraints(tlv(0x30))).toThrow(/empty/);
    expect(policyConstraints(tlv(0x30, tlv(0x80, Buffer.from([0]))))).toEqual({ requireExplicitPolicy: 0 });
  });

  it('no policy is mapped to or from anyPolicy', () => {
    const anyPolicy = oid('551d2000');
    expect(policyMappings(tlv(0x30, tlv(0x30, policy, oid('2b0601040182e80f08'))))).toEqual([['1.3.6.1.4.1.46095.7', '1.3.6.1.4.1.46095.8']]);
    expect(() => policyMappings(tlv(0x30, tlv(0x30, anyPolicy, policy)))).toThrow(/anyPolicy/);
    expect(() => policyMappings(tlv(0x30, tlv(0x30, policy, anyPolicy)))).toThrow(/anyPolicy/);
  });
});
