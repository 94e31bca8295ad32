import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Matcher, MaskingStream, secretForms } from '../../../src/exec/mask.js';

async function mask(patterns: Buffer[], chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const stream = Readable.from(chunks).pipe(new MaskingStream(new Matcher(patterns)));
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out);
}

function splitEvery(buf: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return parts;
}

function randomSplit(buf: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const n = 1 + Math.floor(Math.random() * 40);
    parts.push(buf.subarray(i, i + n));
    i += n;
  }
  return parts;
}

const secret = 'S3cr3t-v@lue/with+chars';
const forms = secretForms(secret);

describe('secretForms', () => {
  it('covers the raw, base64, base64url, URL-encoded and hex forms, without duplicates', () => {
    const texts = forms.map((f) => f.toString());
    expect(texts).toContain(secret);
    expect(texts).toContain(Buffer.from(secret).toString('base64').replace(/=+$/, ''));
    expect(texts).toContain(Buffer.from(secret).toString('base64url'));
    expect(texts).toContain(encodeURIComponent(secret));
    expect(texts).toContain(Buffer.from(secret).toString('hex'));
    expect(texts).toContain(Buffer.from(secret).toString('hex').toUpperCase());
    expect(new Set(texts).size).toBe(texts.length);
    expect(secretForms('abcd').map(String)).toEqual(['abcd', 'YWJjZA', '61626364']);
  });
});

describe('MaskingStream', () => {
  const text = Buffer.from(
    `start ${secret} middle ${Buffer.from(secret).toString('base64')} b64url ${Buffer.from(secret).toString('base64url')}\n` +
    `url=${encodeURIComponent(secret)}&hex=${Buffer.from(secret).toString('hex')} HEX ${Buffer.from(secret).toString('hex').toUpperCase()} end`,
  );
  const expected = 'start *** middle ***= b64url ***\nurl=***&hex=*** HEX *** end';

  it.each([
    ['one chunk', (b: Buffer) => [b]],
    ['byte by byte', (b: Buffer) => splitEvery(b, 1)],
    ['7-byte chunks', (b: Buffer) => splitEvery(b, 7)],
    ['random chunks', randomSplit],
  ])('masks every form, split as %s', async (_label, split) => {
    expect((await mask(forms, split(text))).toString()).toBe(expected);
  });

  it('masks inside binary data and leaves every other byte identical', async () => {
    const noise = randomBytes(200_000);
    const secrets = [randomBytes(24).toString('hex'), 'pässwörd-ünïcode', 'line1\nline2'];
    const pieces: Buffer[] = [];
    const expectedParts: Buffer[] = [];
    for (let i = 0; i < 50; i++) {
      const n = noise.subarray(i * 4000, (i + 1) * 4000);
      const s = Buffer.from(secrets[i % 3]!);
      pieces.push(n, s);
      expectedParts.push(n, Buffer.from('***'));
    }
    const input = Buffer.concat(pieces);
    const patterns = secrets.flatMap((s) => secretForms(s));
    // Random noise may by chance contain a short form; use only raw forms for the byte-identical check.
    const raw = secrets.map((s) => Buffer.from(s));
    for (const split of [(b: Buffer) => [b], (b: Buffer) => splitEvery(b, 1000), randomSplit]) {
      const out = await mask(raw, split(input));
      expect(out.equals(Buffer.concat(expectedParts))).toBe(true);
    }
    const all = await mask(patterns, randomSplit(input));
    for (const p of patterns) expect(all.includes(p)).toBe(false);
  });

  it('holds back only what could begin a secret', async () => {
    const stream = new MaskingStream(new Matcher([Buffer.from('secret-value')]));
    const seen: Buffer[] = [];
    stream.on('data', (c: Buffer) => seen.push(c));
    stream.write(Buffer.from('Password: '));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(seen).toString()).toBe('Password: ');
    stream.write(Buffer.from('x secr'));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(seen).toString()).toBe('Password: x ');
    stream.end(Buffer.from('et-value!'));
    await new Promise((r) => stream.on('end', r));
    expect(Buffer.concat(seen).toString()).toBe('Password: x ***!');
  });

  it('holds back at most the longest pattern minus one byte', async () => {
    const stream = new MaskingStream(new Matcher([Buffer.from('abcdef')]));
    const seen: Buffer[] = [];
    stream.on('data', (c: Buffer) => seen.push(c));
    stream.write(Buffer.from('0123456789abcde'));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(seen).toString()).toBe('0123456789');
    stream.end(Buffer.from('f!'));
    await new Promise((r) => stream.on('end', r));
    expect(Buffer.concat(seen).toString()).toBe('0123456789***!');
  });

  it('overlapping and adjacent secrets leave nothing visible', async () => {
    const out = await mask([Buffer.from('abcd'), Buffer.from('cdef'), Buffer.from('wxyz')], splitEvery(Buffer.from('..abcdef..wxyzwxyz..abcd'), 3));
    expect(out.toString()).not.toMatch(/abcd|cdef|wxyz/);
    expect(out.toString()).toMatch(/^\.\.\*\*\*.*\.\.\*\*\*.*\.\.\*\*\*$/);
  });
});
