import { randomInt } from 'node:crypto';
import { invalidOption } from '../errors.js';

export const CHARSETS = {
  alnum: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  ascii: Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join(''),
  hex: '0123456789abcdef',
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
} as const;

export type Charset = keyof typeof CHARSETS;

/**
 * A random password drawn uniformly (crypto.randomInt, no modulo bias) from a charset.
 * @example generatePassword(32, 'alnum') // 'q3ZyR…' (≈ 190 bits)
 */
export function generatePassword(length: number, charset: string): string {
  if (!Object.hasOwn(CHARSETS, charset)) {
    throw invalidOption('charset', `unknown charset ${JSON.stringify(charset)} (use ${Object.keys(CHARSETS).join(', ')})`, { allowed: Object.keys(CHARSETS) });
  }
  if (!Number.isInteger(length) || length < 1 || length > 4096) {
    throw invalidOption('length', 'expected a whole number from 1 to 4096', { min: 1, max: 4096 });
  }
  const chars = CHARSETS[charset as Charset];
  let out = '';
  for (let i = 0; i < length; i++) out += chars[randomInt(chars.length)];
  return out;
}

/** Entropy in bits of a generated password, for the status line. */
export const entropyBits = (length: number, charset: Charset) => Math.floor(length * Math.log2(CHARSETS[charset].length));
