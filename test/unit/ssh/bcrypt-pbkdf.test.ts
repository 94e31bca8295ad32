import { randomBytes } from 'node:crypto';
import reference from 'bcrypt-pbkdf';
import { expect, it } from 'vitest';
import { bcryptPbkdf } from '../../../src/ssh/bcrypt-pbkdf.js';

it('matches the reference port of OpenBSD bcrypt_pbkdf for many inputs and lengths', () => {
  for (let t = 0; t < 12; t++) {
    const pass = randomBytes(1 + ((t * 13) % 70));
    const salt = randomBytes(1 + ((t * 7) % 32));
    const length = [16, 32, 48, 64, 7, 100][t % 6]!;
    const rounds = 1 + (t % 4);
    const expected = Buffer.alloc(length);
    expect(reference.pbkdf(pass, pass.length, salt, salt.length, expected, length, rounds)).toBe(0);
    expect(bcryptPbkdf(pass, salt, length, rounds).equals(expected)).toBe(true);
  }
});

it("gives OpenBSD's test vector and refuses bad parameters", () => {
  // regress/lib/libutil/bcrypt_pbkdf: "password", "salt", 4 rounds, 32 bytes.
  expect(bcryptPbkdf(Buffer.from('password'), Buffer.from('salt'), 32, 4).toString('hex')).toBe('5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9');
  expect(() => bcryptPbkdf(Buffer.alloc(0), Buffer.from('salt'), 48, 4)).toThrow();
  expect(() => bcryptPbkdf(Buffer.from('p'), Buffer.from('salt'), 48, 0)).toThrow();
});
