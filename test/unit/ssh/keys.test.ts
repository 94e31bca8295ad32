import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AuthError, KeysmithError } from '../../../src/errors.js';
import { decodeBase64Strict } from '../../../src/ssh/wire.js';
import { bcryptKdf, describeBlob, fingerprintSha256, keyTypeName, parsePublicKeyLine, readPrivateKey } from '../../../src/ssh/keys.js';
import { fingerprintLines } from '../../../src/ssh/fingerprint.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ssh/${name}`, import.meta.url), 'utf8');
const firstLine = (name: string) => fixture(name).split('\n')[0]!;
const PASS = 'fixture-passphrase';

describe('strict base64, as OpenSSH b64_pton decodes a key line', () => {
  it.each([
    ['a stray character', 'AAAA!AAA'],
    ['URL-safe -', 'AAAA-AAA'],
    ['URL-safe _', 'AAAA_AAA'],
    ['a missing pad', 'AAAAAA'],
    ['a pad too many', 'AAAAAA=='.slice(0, 6) + '==='],
    ['a pad in the middle', 'AA=AAAAA'],
    ['non-zero bits under the pad', 'AAB='],
    ['data after the pad', 'AA==AA'],
    ['an incomplete quantum', 'AAAAA'],
  ])('refuses %s', (_why, text) => {
    expect(() => decodeBase64Strict(text)).toThrow();
  });

  it('accepts exact padding and skips whitespace anywhere, as b64_pton does', () => {
    expect(decodeBase64Strict('AAE=')).toEqual(Buffer.from([0, 1]));
    expect(decodeBase64Strict('AA\rE\v=')).toEqual(Buffer.from([0, 1]));
    expect(decodeBase64Strict('AA==')).toEqual(Buffer.from([0]));
    expect(decodeBase64Strict('')).toEqual(Buffer.alloc(0));
  });
});

describe('public key blobs, as strict as sshkey.c', () => {
  it.each([
    'blob-trailing-byte.pub', 'blob-truncated.pub', 'ed25519-31-bytes.pub', 'ed25519-33-bytes.pub', 'blob-type-inner-nul.pub',
    'ecdsa-off-curve.pub', 'ecdsa-compressed-point.pub', 'ecdsa-curve-mismatch.pub', 'ecdsa-unknown-curve.pub', 'ecdsa-point-short.pub',
    'ecdsa-line-curve-mismatch.pub', 'rsa-768.pub', 'rsa-1023.pub', 'rsa-16385.pub', 'rsa-modulus-negative.pub',
    'sk-ed25519-no-application.pub', 'sk-ed25519-trailing.pub', 'sk-ecdsa-no-application.pub', 'sk-ecdsa-off-curve.pub', 'sk-ecdsa-line-plain-type.pub',
    'b64-urlsafe-dash.pub', 'b64-missing-pad.pub', 'b64-nonzero-slop-bits.pub', 'line-type-mismatch.pub',
    'cert-trailing-byte.pub', 'cert-truncated.pub', 'cert-bad-signature.pub', 'cert-key-id-changed.pub', 'cert-line-plain-type.pub',
  ])('refuses %s with a typed error', (name) => {
    let err: unknown;
    try {
      parsePublicKeyLine(firstLine(name), name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KeysmithError);
    expect((err as KeysmithError).code).toBe('ERR_SSH_BAD_KEY');
  });

  it('fingerprints the key as OpenSSH re-encodes it (leading zeros, type aliases, trailing NULs)', () => {
    const canonical = parsePublicKeyLine(firstLine('rsa3072.pub'), 'x');
    for (const name of ['rsa-exponent-leading-zero.pub', 'rsa-sha2-256-type.pub']) {
      const odd = parsePublicKeyLine(firstLine(name), name);
      expect(odd.algorithm).toBe('ssh-rsa');
      expect(fingerprintSha256(odd.blob)).toBe(fingerprintSha256(canonical.blob));
    }
    const sk = parsePublicKeyLine(firstLine('sk-ed25519-application-nul.pub'), 'x');
    expect(fingerprintSha256(sk.blob)).toBe(fingerprintSha256(parsePublicKeyLine(firstLine('sk-ed25519.pub'), 'x').blob));
  });

  it('reads sizes and short type names as ssh-keygen prints them', () => {
    const cases: Array<[string, number, string]> = [
      ['ed25519.pub', 256, 'ED25519'], ['ecdsa384.pub', 384, 'ECDSA'], ['ecdsa521.pub', 521, 'ECDSA'], ['rsa1024.pub', 1024, 'RSA'],
      ['dsa.pub', 1024, 'DSA'], ['sk-ecdsa.pub', 256, 'ECDSA-SK'], ['sk-ed25519.pub', 256, 'ED25519-SK'],
      ['ed25519-cert.pub', 256, 'ED25519-CERT'], ['sk-ecdsa-cert.pub', 256, 'ECDSA-SK-CERT'], ['sk-ed25519-cert.pub', 256, 'ED25519-SK-CERT'],
      ['rsa3072-cert.pub', 3072, 'RSA-CERT'], ['ecdsa521-cert.pub', 521, 'ECDSA-CERT'], ['dsa-cert.pub', 1024, 'DSA-CERT'],
    ];
    for (const [name, bits, type] of cases) {
      const key = parsePublicKeyLine(firstLine(name), name);
      expect([key.bits, keyTypeName(key.algorithm)], name).toEqual([bits, type]);
    }
  });

  it('a certificate: the certified key fingerprint, and every field read', () => {
    const cert = parsePublicKeyLine(firstLine('options-ecdsa256-cert.pub'), 'x');
    expect(fingerprintSha256(cert.blob)).toBe(fingerprintSha256(parsePublicKeyLine(firstLine('ecdsa256.pub'), 'x').blob));
    expect(cert.certificate).toMatchObject({
      serial: 42n, type: 'user', keyId: 'fixture-options-ecdsa256', principals: ['alice', 'bob'],
      criticalOptions: { 'force-command': expect.any(Buffer), 'source-address': expect.any(Buffer) },
    });
    expect(cert.certificate!.validAfter).toBeLessThan(cert.certificate!.validBefore);
    expect(Object.keys(cert.certificate!.extensions)).toContain('custom@fixtures');
    expect(keyTypeName(cert.certificate!.signatureKey.algorithm)).toBe('ED25519');
    expect(parsePublicKeyLine(firstLine('host-ed25519-cert.pub'), 'x').certificate!.type).toBe('host');
    expect(parsePublicKeyLine(firstLine('noprincipals-ed25519-cert.pub'), 'x').certificate!.principals).toEqual([]);
  });

  it('describeBlob refuses unknown types', () => {
    expect(() => describeBlob(Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-foo')]))).toThrow();
  });
});

describe('fingerprint lines, as ssh-keygen -l reads a public key file', () => {
  const lines = (text: string) => fingerprintLines(text).map((k) => `${k.bits} ${fingerprintSha256(k.blob)} ${k.comment ?? 'no comment'} (${keyTypeName(k.algorithm)})`);
  it('options, known_hosts hosts, several keys, CRLF, comments', () => {
    expect(lines(fixture('line-options.pub'))).toEqual([fixture('line-options.pub.ssh-keygen.txt').split('\n')[1]]);
    expect(lines(fixture('line-known-hosts.pub'))[0]).toContain(' host1.example.com,10.0.0.1 (ED25519)');
    expect(lines(fixture('line-several-keys.pub'))).toHaveLength(2);
    expect(lines(fixture('line-crlf-nocomment.pub'))[0]).toContain(' no comment (ED25519)');
    expect(lines(fixture('b64-inner-cr.pub'))).toHaveLength(1);
    expect(lines(fixture('garbage.pub'))).toEqual([]);
  });
});

describe('private keys', () => {
  const fastKdf = bcryptKdf;
  it('damaged check bytes in an unencrypted key: "damaged", never "wrong passphrase"', async () => {
    for (const passphrase of [undefined, 'anything']) {
      const err = await readPrivateKey(fixture('ed25519-damaged-check.key'), 'k', passphrase).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeysmithError);
      expect(err).not.toBeInstanceOf(AuthError);
      expect((err as KeysmithError).code).toBe('ERR_SSH_KEY_DAMAGED');
      expect((err as Error).message).toMatch(/damaged/);
    }
  });

  it('an unencrypted key gives its comment; an empty one stays empty', async () => {
    expect((await readPrivateKey(fixture('ed25519.key'), 'k')).publicKey!.comment).toBe('ed25519@fixtures');
    expect((await readPrivateKey(fixture('ed25519-nocomment.key'), 'k')).publicKey!.comment).toBe('');
  });

  it.each([
    ['rsa2048-pem-enc.key', 'rsa2048-pem-enc.pub'],
    ['ecdsa256-pem-enc.key', 'ecdsa256-pem-enc.pub'],
    ['rsa2048-pkcs8-enc.key', 'rsa2048-pkcs8-enc.pub'],
    ['ecdsa521-pkcs8-enc.key', 'ecdsa521-pkcs8-enc.pub'],
    ['rsa2048-openssl-pem-enc.key', undefined],
    ['ecdsa256-openssl-pem-enc.key', undefined],
    ['ed25519-openssl-pkcs8-enc.key', undefined],
  ])('encrypted PEM/PKCS#8 %s: needs the passphrase, opens with it, "wrong passphrase" otherwise', async (name, pub) => {
    const text = fixture(name);
    const locked = await readPrivateKey(text, name);
    expect(locked.encrypted).toBe(true);
    expect(locked.publicKey).toBeUndefined();
    const open = await readPrivateKey(text, name, PASS, fastKdf);
    if (pub) expect(fingerprintSha256(open.publicKey!.blob)).toBe(fingerprintSha256(parsePublicKeyLine(firstLine(pub), pub).blob));
    const wrong = await readPrivateKey(text, name, 'wrong').catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(AuthError);
    expect((wrong as Error).message).toMatch(/wrong passphrase/);
    expect((wrong as Error).message).not.toMatch(/interrupted|cancelled/);
  });

  it('an encrypted OpenSSH key: public half without the passphrase, "wrong passphrase" with a wrong one', async () => {
    const text = fixture('ed25519-enc.key');
    const locked = await readPrivateKey(text, 'k');
    expect(locked.encrypted).toBe(true);
    expect(fingerprintSha256(locked.publicKey!.blob)).toBe(fingerprintSha256(parsePublicKeyLine(firstLine('ed25519-enc.pub'), 'x').blob));
    expect((await readPrivateKey(text, 'k', PASS)).publicKey!.comment).toBe('ed25519-enc@fixtures');
    await expect(readPrivateKey(text, 'k', 'wrong')).rejects.toBeInstanceOf(AuthError);
  });
});
