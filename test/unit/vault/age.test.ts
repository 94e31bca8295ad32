import { Decrypter, Encrypter, generateX25519Identity as libIdentity, identityToRecipient } from 'age-encryption';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NoMatchingIdentity, decryptX25519, encryptX25519, generateX25519Identity, x25519Recipient } from '../../../src/vault/x25519-age.js';

describe('native age X25519 against age-encryption (the reference implementation)', () => {
  const sizes = [0, 1, 100, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 3 * 64 * 1024, 200_000];

  it('derives the same recipient from an identity', async () => {
    for (let i = 0; i < 5; i++) {
      const id = await libIdentity();
      expect(x25519Recipient(id)).toBe(await identityToRecipient(id));
    }
    const ours = generateX25519Identity();
    expect(ours).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
    expect(x25519Recipient(ours)).toBe(await identityToRecipient(ours));
  });

  it.each(sizes)('what we encrypt (%i bytes, two recipients) age-encryption decrypts', async (size) => {
    const [a, b] = [await libIdentity(), await libIdentity()];
    const plain = randomBytes(size);
    const file = encryptX25519(plain, [await identityToRecipient(a), await identityToRecipient(b)]);
    for (const id of [a, b]) {
      const d = new Decrypter();
      d.addIdentity(id);
      expect(Buffer.from(await d.decrypt(file)).equals(plain)).toBe(true);
    }
  });

  it.each(sizes)('what age-encryption encrypts (%i bytes) we decrypt', async (size) => {
    const id = await libIdentity();
    const plain = randomBytes(size);
    const e = new Encrypter();
    e.addRecipient(await identityToRecipient(id));
    expect(decryptX25519(await e.encrypt(plain), [await libIdentity(), id]).equals(plain)).toBe(true);
  });

  it('refuses another identity, a passphrase file, and any altered byte', async () => {
    const id = generateX25519Identity();
    const file = encryptX25519(Buffer.from('secret records'), [x25519Recipient(id)]);
    expect(() => decryptX25519(file, [generateX25519Identity()])).toThrow(NoMatchingIdentity);
    const e = new Encrypter();
    e.setPassphrase('pw');
    e.setScryptWorkFactor(2);
    const passphraseFile = await e.encrypt('x');
    expect(() => decryptX25519(passphraseFile, [id])).toThrow(NoMatchingIdentity);
    expect(() => decryptX25519(Buffer.from([]), [id])).toThrow(/invalid header/);
    for (let i = 0; i < file.length; i += 7) {
      const bad = Buffer.from(file);
      bad[i] = bad[i]! ^ 0x01;
      expect(() => decryptX25519(bad, [id]), `byte ${i}`).toThrow();
    }
  });
});
