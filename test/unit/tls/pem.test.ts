import { describe, expect, it } from 'vitest';
import { PemError, pemBlocks, pemCertificates } from '../../../src/tls/pem.js';

const block = (label: string, body: string) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;

describe('PEM blocks, as OpenSSL reads them', () => {
  it('finds blocks among garbage, in order, with their labels', () => {
    const text = `junk\n${block('CERTIFICATE', 'QUJD\r\nREVG')}Bag Attributes: x\n${block('PRIVATE KEY', 'S0VZ')}${block('X509 CERTIFICATE', 'R0hJ')}tail`;
    expect(pemBlocks(text)).toEqual([
      { label: 'CERTIFICATE', base64: 'QUJDREVG' },
      { label: 'PRIVATE KEY', base64: 'S0VZ' },
      { label: 'X509 CERTIFICATE', base64: 'R0hJ' },
    ]);
    expect(pemCertificates(text)).toEqual(['QUJDREVG', 'R0hJ']);
  });

  it('a block commented out, indented or mid-line is not a block', () => {
    const hidden = ['# ', '  ', 'x'].map((prefix) => block('CERTIFICATE', 'QUJD').split('\n').map((l) => prefix + l).join('\n')).join('\n');
    expect(pemCertificates(`${hidden}\n${block('CERTIFICATE', 'REVG')}`)).toEqual(['REVG']);
  });

  it('a body that is not base64 (garbage, = inside, another BEGIN) is an error, not a guess', () => {
    expect(() => pemBlocks(block('CERTIFICATE', 'QU#D'))).toThrow(PemError);
    expect(() => pemBlocks(block('CERTIFICATE', 'QQ==\nREVG'))).toThrow(PemError);
    expect(() => pemBlocks(`-----BEGIN CERTIFICATE-----\nQUJD\n${block('CERTIFICATE', 'REVG')}`)).toThrow(PemError);
    expect(pemBlocks(block('CERTIFICATE', 'QU JD\tREVG'))).toEqual([{ label: 'CERTIFICATE', base64: 'QUJDREVG' }]); // OpenSSL skips blanks
  });

  it('a block whose END line is not exactly its own is dropped, as OpenSSL drops it', () => {
    const broken = block('CERTIFICATE', 'QUJD').replace('-----END CERTIFICATE-----', '-----END CERTIFICATE----- trailing');
    expect(pemCertificates(broken + block('CERTIFICATE', 'REVG'))).toEqual(['REVG']);
  });

  it('a BEGIN without its END ends the reading, as in OpenSSL', () => {
    expect(pemCertificates(`${block('CERTIFICATE', 'QUJD')}-----BEGIN CERTIFICATE-----\nREVG\n`)).toEqual(['QUJD']);
  });

  it('TRUSTED CERTIFICATE gives the certificate without the trust settings after it', () => {
    const cert = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]);
    const aux = Buffer.from([0x30, 0x02, 0x05, 0x00]);
    expect(pemCertificates(block('TRUSTED CERTIFICATE', Buffer.concat([cert, aux]).toString('base64')))).toEqual([cert.toString('base64')]);
  });

  it('hostile texts are read in one pass (a regular expression took 34 s on 80,000 BEGIN lines)', () => {
    expect(() => pemCertificates('-----BEGIN CERTIFICATE-----\n'.repeat(200_000) + block('CERTIFICATE', 'QUJD'))).toThrow(PemError);
    expect(pemCertificates('-----END CERTIFICATE-----\n'.repeat(200_000) + block('CERTIFICATE', 'QUJD'))).toEqual(['QUJD']);
    expect(pemCertificates(Array.from({ length: 100_000 }, (_, i) => `x-----BEGIN L${i}-----\n`).join('') + block('CERTIFICATE', 'REVG'))).toEqual(['REVG']);
  });
});
