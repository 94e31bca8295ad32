import { X509Certificate } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { describe, expect, it } from 'vitest';
import { certificateFields, oid, readOne, readTlv } from '../../../src/tls/der.js';

const CORPUS = new URL('../../../fixtures/tls/', import.meta.url).pathname;
const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of the corpus, DER. */
const corpus = readdirSync(CORPUS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => ['chain.pem', 'root.pem'].flatMap((f) => readFileSync(join(CORPUS, d.name, f), 'utf8').match(PEM) ?? []))
  .map((pem) => new X509Certificate(pem).raw);

describe('the DER walk agrees with @peculiar/asn1-x509 on every certificate of fixtures/tls', () => {
  it('has certificates to compare', () => expect(corpus.length).toBeGreaterThan(100));

  it('version, names, validity, signature algorithms and every extension', () => {
    for (const der of corpus) {
      const ours = certificateFields(der);
      const theirs = AsnConvert.parse(der, asn.Certificate);
      const tbs = theirs.tbsCertificate;
      expect(ours.version).toBe(tbs.version + 1);
      expect(Buffer.from(ours.subject.bytes)).toEqual(Buffer.from(AsnConvert.serialize(tbs.subject)));
      expect(Buffer.from(ours.issuer.bytes)).toEqual(Buffer.from(AsnConvert.serialize(tbs.issuer)));
      expect(AsnConvert.parse(ours.validity.bytes, asn.Validity).notAfter.getTime()).toEqual(tbs.validity.notAfter.getTime());
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
