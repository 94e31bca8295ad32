import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import {
  authorityKeyId, basicConstraints, bitString, certificateFields, certificatePolicies, inhibitAnyPolicy, keyInfo, octetString, oid, oidSequence, policyConstraints, readOne, readTlv, time, validity,
} from '../../../src/tls/der.js';

const CORPUS = new URL('../../../fixtures/tls/', import.meta.url).pathname;
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Every certificate of the corpus, DER — but for the cases built with malformed encodings or policy
 * extensions, which these decoders refuse on purpose (the validator test checks those verdicts).
 */
const corpus = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory() && !['MALFORMED', 'POLICY'].includes(JSON.parse(readFileSync(join(CORPUS, d.name, 'case.json'), 'utf8')).rule))
  .flatMap((d) => ['chain.pem', 'root.pem'].flatMap((f) => readFileSync(join(CORPUS, d.name, f), 'utf8').match(PEM) ?? []))
  .map((pem) => new X509Certificate(pem).raw);

describe('the DER walk agrees with @peculiar/asn1-x509 on every certificate of fixtures/tls', () => {
  it('has certificates to compare', () => expect(corpus.length).toBeGreaterThan(100));

  it('the extensions every validation reads: basicConstraints, keyUsage, extKeyUsage, key identifiers', () => {
    let seen = 0;
    for (const der of corpus) {
      for (const e of certificateFields(der).extensions) {
        const value = e.value;
        const hex = (b: ArrayBuffer | Uint8Array | undefined) => (b ? Buffer.from(b as ArrayBuffer).toString('hex') : undefined);
        if (e.extnID === '2.5.29.19') {
          const theirs = AsnConvert.parse(value, asn.BasicConstraints);
          expect(basicConstraints(value)).toEqual({ cA: theirs.cA, ...(theirs.pathLenConstraint === undefined ? {} : { pathLenConstraint: theirs.pathLenConstraint }) });
        } else if (e.extnID === '2.5.29.15') {
          const n = AsnConvert.parse(value, asn.KeyUsage).toNumber();
          expect([...bitString(value)].sort()).toEqual([...Array(9).keys()].filter((i) => n & (1 << i)));
        } else if (e.extnID === '2.5.29.37') {
          expect(oidSequence(value)).toEqual(AsnConvert.parse(value, asn.ExtendedKeyUsage).map(String));
        } else if (e.extnID === '2.5.29.14') {
          expect(hex(octetString(value))).toBe(hex(AsnConvert.parse(value, asn.SubjectKeyIdentifier).buffer));
        } else if (e.extnID === '2.5.29.35') {
          expect(hex(authorityKeyId(value))).toBe(hex(AsnConvert.parse(value, asn.AuthorityKeyIdentifier).keyIdentifier?.buffer));
        } else if (e.extnID === '2.5.29.32') {
          expect(certificatePolicies(value)).toEqual(AsnConvert.parse(value, asn.CertificatePolicies).map((p) => p.policyIdentifier));
        } else if (e.extnID === '2.5.29.36') {
          const theirs = AsnConvert.parse(value, asn.PolicyConstraints);
          const num = (b: ArrayBuffer | undefined) => (b === undefined ? undefined : Buffer.from(b).readUIntBE(0, b.byteLength));
          expect(policyConstraints(value)).toEqual(JSON.parse(JSON.stringify({ requireExplicitPolicy: num(theirs.requireExplicitPolicy), inhibitPolicyMapping: num(theirs.inhibitPolicyMapping) })));
        } else if (e.extnID === '2.5.29.54') {
          expect(inhibitAnyPolicy(value)).toBe(Buffer.from(AsnConvert.parse(value, asn.InhibitAnyPolicy).value).readUIntBE(0, AsnConvert.parse(value, asn.InhibitAnyPolicy).value.byteLength));
        } else continue;
        seen++;
      }
    }
    expect(seen).toBeGreaterThan(300);
  });

  it('key types and sizes agree with Node (OpenSSL) on every certificate', () => {
    const types = new Set<string>();
    for (const der of corpus) {
      const key = new X509Certificate(der).publicKey;
      const ours = keyInfo(certificateFields(der).spki);
      types.add(ours.type);
      expect(ours.type).toBe(key.asymmetricKeyType);
      if (ours.bits !== undefined) expect(ours.bits).toBe(key.asymmetricKeyDetails?.modulusLength);
      if (ours.type === 'ec') expect(ours.curve).toBe(key.asymmetricKeyDetails?.namedCurve);
    }
    expect([...types].sort()).toEqual(['ec', 'rsa']);
  });

  it('key types and sizes agree with Node for the other kinds (DSA, RSA-PSS, Ed25519, Ed448, secp256k1, 1024-bit RSA)', () => {
    const keys = [
      generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }),
      generateKeyPairSync('rsa-pss', { modulusLength: 2048 }),
      generateKeyPairSync('rsa', { modulusLength: 1024 }),
      generateKeyPairSync('ed25519'),
      generateKeyPairSync('ed448'),
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }),
      generateKeyPairSync('ec', { namedCurve: 'secp521r1' }),
    ];
    for (const { publicKey } of keys) {
      const ours = keyInfo(readOne(publicKey.export({ type: 'spki', format: 'der' })));
      expect(ours.type).toBe(publicKey.asymmetricKeyType);
      expect(ours.bits).toBe(publicKey.asymmetricKeyDetails?.modulusLength);
      expect(ours.curve).toBe(publicKey.asymmetricKeyDetails?.namedCurve);
    }
  });

  it('version, names, validity, signature algorithms and every extension', () => {
    for (const der of corpus) {
      const ours = certificateFields(der);
      const theirs = AsnConvert.parse(der, asn.Certificate);
      const tbs = theirs.tbsCertificate;
      expect(ours.version).toBe(tbs.version + 1);
      expect(Buffer.from(ours.subject.bytes)).toEqual(Buffer.from(AsnConvert.serialize(tbs.subject)));
      expect(Buffer.from(ours.issuer.bytes)).toEqual(Buffer.from(AsnConvert.serialize(tbs.issuer)));
      expect(validity(ours.validity)).toEqual({ notBefore: tbs.validity.notBefore.getTime(), notAfter: tbs.validity.notAfter.getTime() });
      expect(Buffer.from(ours.innerSignature)).toEqual(Buffer.from(AsnConvert.serialize(tbs.signature)));
      expect(Buffer.from(ours.outerSignature)).toEqual(Buffer.from(AsnConvert.serialize(theirs.signatureAlgorithm)));
      expect(ours.extensions.map((e) => [e.extnID, e.critical, Buffer.from(e.value).toString('hex')])).toEqual(
        (tbs.extensions ?? []).map((e) => [e.extnID, e.critical, Buffer.from(e.extnValue.buffer).toString('hex')]),
      );
    }
  });
});

describe('the DER walk refuses what is not DER', () => {
  const der = corpus[0]!;
  it.each([
    ['truncated', der.subarray(0, der.length - 1)],
    ['trailing bytes', Buffer.concat([der, Buffer.from([0])])],
    ['indefinite length', Buffer.from([0x30, 0x80, 0x00, 0x00])],
    ['non-minimal length', Buffer.from([0x30, 0x81, 0x01, 0x00])],
    ['length past the end', Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])],
    ['multi-byte tag', Buffer.from([0x1f, 0x81, 0x01, 0x00])],
    ['empty', Buffer.alloc(0)],
  ])('%s', (_label, bytes) => {
    expect(() => certificateFields(bytes)).toThrow(/DER|certificate/);
  });

  it('times: UTCTime for 1950–2049, GeneralizedTime, and no other form (RFC 5280 §4.1.2.5)', () => {
    const at = (tag: number, text: string) => time({ tag, bytes: new Uint8Array(), content: Buffer.from(text) }).toISOString();
    expect(at(0x17, '491231235959Z')).toBe('2049-12-31T23:59:59.000Z');
    expect(at(0x17, '500101000000Z')).toBe('1950-01-01T00:00:00.000Z');
    expect(at(0x18, '20500101000000Z')).toBe('2050-01-01T00:00:00.000Z');
    for (const [tag, text] of [[0x17, '4912312359Z'], [0x17, '491231235959+0100'], [0x18, '20500101000000.5Z'], [0x18, '20501301000000Z'], [0x17, '490230000000Z'], [0x17, '491231246000Z'], [0x04, '491231235959Z']] as const) {
      expect(() => at(tag, text), text).toThrow(/DER/);
    }
  });

  it('decodes OIDs, including large arcs and the 2.x branch', () => {
    expect(oid(Buffer.from('2a864886f70d010901', 'hex'))).toBe('1.2.840.113549.1.9.1');
    expect(oid(Buffer.from('551d11', 'hex'))).toBe('2.5.29.17');
    expect(oid(Buffer.from('8837', 'hex'))).toBe('2.999');
    expect(() => oid(Buffer.from('2a86', 'hex'))).toThrow(/truncated/);
  });

  it('random bytes never crash it: they parse or throw an Error', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256);
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.from(der);
      for (let k = 0; k < 3; k++) bytes[random() * (der.length / 256) | 0] = random();
      try {
        certificateFields(bytes);
        readOne(bytes);
        readTlv(bytes, 4);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
      }
    }
  });
});
