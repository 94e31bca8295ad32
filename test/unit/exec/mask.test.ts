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

/** Adjacent masks may come out as one `***` or several, depending on how the bytes arrive. */
const runs = (s: string) => s.replace(/(\*\*\*)+/g, '***');

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
    // base64 at alignments 0, 1, 2 in longer data: only the characters made of the value's bits alone.
    expect(secretForms('abcd').map(String)).toEqual(['abcd', '61626364', 'YWJjZA', 'YWJjZ', 'FiY2', 'hYmNk']);
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
    expect(runs((await mask(forms, split(text))).toString())).toBe(expected);
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

/**
 * The reference: line breaks are read past (in the text and the patterns); every byte from the
 * first to the last of any occurrence is hidden; each hidden run shows as one `***`.
 */
function reference(patterns: Buffer[], text: Buffer): string {
  const at: number[] = []; // positions of the bytes that are not line breaks
  text.forEach((b, i) => b !== 10 && b !== 13 && at.push(i));
  const kept = Buffer.from(at.map((i) => text[i]!));
  const hidden = new Uint8Array(text.length);
  for (const pattern of patterns) {
    const p = Buffer.from(pattern.filter((b) => b !== 10 && b !== 13));
    if (p.length === 0) continue;
    for (let i = kept.indexOf(p); i >= 0; i = kept.indexOf(p, i + 1)) hidden.fill(1, at[i]!, at[i + p.length - 1]! + 1);
  }
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (!hidden[i]) out += String.fromCharCode(text[i]!);
    else if (i === 0 || !hidden[i - 1]) out += '***';
  }
  return out;
}

describe('MaskingStream: overlapping and adjacent occurrences (issue 10, finding 3)', () => {
  const bytes = (s: string) => [...Buffer.from(s)].map((b) => Buffer.from([b]));
  it.each([
    [['pass1pass'], 'pass1pass1pass!', '***!'],
    [['abcd1234', '1234wxyz'], 'abcd1234wxyz!', '***!'],
    [['bc', 'abcd'], 'xabcdx', 'x***x'],
    [['bcde', 'ab', 'ef'], '-abcdef-', '-***-'],
    [['aaaa'], 'aaaaaaa.aaa.aaaa', '***.aaa.***'],
  ])('%j in %j, byte by byte and in one write', async (patterns, text, expected) => {
    const p = patterns.map((s) => Buffer.from(s));
    expect(runs((await mask(p, bytes(text))).toString())).toBe(expected);
    expect(runs((await mask(p, [Buffer.from(text)])).toString())).toBe(expected);
  });

  it('agrees with the reference on 3,000 random texts over a tiny alphabet with line breaks, at every write size', async () => {
    const pick = (n: number) => Array.from({ length: n }, () => 'ab1\n'[Math.floor(Math.random() * 4)]).join('');
    for (let round = 0; round < 3000; round++) {
      const patterns = Array.from({ length: 1 + (round % 4) }, () => Buffer.from(pick(2 + Math.floor(Math.random() * 6))));
      const text = Buffer.from(pick(Math.floor(Math.random() * 60)));
      const expected = runs(reference(patterns, text));
      for (const split of [(b: Buffer) => [b], (b: Buffer) => splitEvery(b, 1), randomSplit]) {
        const got = runs((await mask(patterns, split(text))).toString('latin1'));
        if (got !== expected) expect({ patterns: patterns.map(String), text: String(text), got }).toEqual({ patterns: patterns.map(String), text: String(text), got: expected });
      }
    }
  });
});

describe('MaskingStream: a large automaton (sparse states beyond the dense rows, 16- and 32-bit rows)', () => {
  it.each([
    ['> 65,536 states in long chains', 30, 4096, 'abc'],
    ['a few thousand states', 40, 100, 'abc'],
    ['80,000 short patterns: rows with 32-bit entries', 80_000, 8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'],
  ])('agrees with the reference: %s', async (_label, count, length, alphabet) => {
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
    const patterns = Array.from({ length: count }, (_, i) => Buffer.from(pick(i % 3 === 0 ? 5 : length)));
    const pieces: string[] = [];
    for (let i = 0; i < 60; i++) {
      const p = patterns[i % patterns.length]!.toString();
      // a whole pattern, a pattern cut short, a pattern with a line break inside, noise
      pieces.push(pick(30), p, pick(7), p.slice(0, -3), pick(5), `${p.slice(0, 40)}\n${p.slice(40)}`);
    }
    const text = Buffer.from(pieces.join(''));
    const expected = runs(reference(patterns, text));
    for (const split of [(b: Buffer) => [b], (b: Buffer) => splitEvery(b, 4096), randomSplit]) {
      expect(runs((await mask(patterns, split(text))).toString('latin1')) === expected).toBe(true);
    }
  });
});

describe('secretForms: the encodings a secret leaks in (issue 10, finding 4)', () => {
  const S = 'Sécret "quoted" / line\nwith+plus & 😀';
  const masked = async (text: string) => runs((await mask(secretForms(S), splitEvery(Buffer.from(text), 3))).toString());

  it('base64 and base64url of the value at each of the three alignments inside longer data (curl -v prints Basic auth so)', async () => {
    for (const alphabet of ['base64', 'base64url'] as const) {
      for (const prefix of ['', 'u', 'us', 'user:', 'a longer prefix:']) {
        for (const suffix of ['', '!', 'ab', '\n and more']) {
          const data = Buffer.from(prefix + S + suffix);
          const b64 = data.toString(alphabet);
          // The characters whose six bits all come from the value: those must not be visible.
          const from = Math.ceil((8 * Buffer.byteLength(prefix)) / 6);
          const to = Math.floor((8 * (Buffer.byteLength(prefix) + Buffer.byteLength(S))) / 6);
          // The value's own unpadded base64 also ends in the character it shares with what follows,
          // when that character happens to be the same: one more may be hidden, none fewer.
          const got = await masked(`Authorization: Basic ${b64}`);
          const label = `${alphabet} ${JSON.stringify(prefix)} ${JSON.stringify(suffix)}`;
          expect([`${b64.slice(0, from)}***${b64.slice(to)}`, `${b64.slice(0, from)}***${b64.slice(to + 1)}`], label).toContain(got.slice('Authorization: Basic '.length));
        }
      }
    }
  });

  it('JSON string escaping: JavaScript, Python (ensure_ascii) and PHP (escaped slashes)', async () => {
    const js = JSON.stringify({ password: S });
    const ascii = js.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const php = js.replace(/\//g, '\\/');
    for (const text of [js, ascii, php]) expect(await masked(text), text).toBe('{"password":"***"}');
  });

  it('URL and form encoding: encodeURIComponent, RFC 3986, application/x-www-form-urlencoded (+ for space)', async () => {
    const strict = (plus: boolean) => [...Buffer.from(S)].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 0x20 && plus ? '+' : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
    for (const encoded of [encodeURIComponent(S), new URLSearchParams({ p: S }).toString().slice(2), strict(false), strict(true)]) {
      expect(await masked(`GET /login?p=${encoded}&next=1`), encoded).toBe('GET /login?p=***&next=1');
    }
  });
});

describe('masking after an outside attack (issue 10)', () => {
  const maskWith = async (value: string | Buffer, text: string | Buffer, size = 5) => (await mask(secretForms(value), splitEvery(Buffer.from(text), size))).toString('latin1');

  it('line-wrapped base64 and hex: base64 (76), openssl/PEM (64), MIME (76, CRLF), xxd -p (60), also inside longer data', async () => {
    const token = 'tok_' + 'Zq9'.repeat(30); // 94 bytes: several lines in every wrapping
    const wrap = (s: string, width: number, eol = '\n') => s.match(new RegExp(`.{1,${width}}`, 'g'))!.join(eol) + eol;
    const b64 = Buffer.from(token).toString('base64');
    for (const [width, eol] of [[76, '\n'], [64, '\n'], [76, '\r\n']] as const) {
      expect(runs(await maskWith(token, wrap(b64, width, eol))), `${width}`).toBe(`***==${eol}`); // 94 bytes: the padding is no secret
    }
    expect(runs(await maskWith(token, wrap(Buffer.from(token).toString('hex'), 60)))).toBe('***\n');
    // Inside a PEM body: the value starts at an offset that is no multiple of 3, lines of 64.
    const pem = wrap(Buffer.from(`{"k":"${token}","x":1}`).toString('base64'), 64);
    const got = runs(await maskWith(token, pem));
    expect(got).toMatch(/^[A-Za-z0-9+/]{6,8}\*\*\*[A-Za-z0-9+/=\n]{6,12}$/);
  });

  it('JSON escapes of Python (\\u007f), PHP (\\/ with \\u00fc), .NET (uppercase, <>&\'+"), Go (\\u003c); Python quote() and lowercase %-escapes', async () => {
    const value = 'pa\x7fss/wörd<&>\'+"x';
    const hex4 = (c: string, upper: boolean) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}`;
    const js = JSON.stringify(value).slice(1, -1);
    const python = js.replace(/[\u007f-\uffff]/g, (c) => hex4(c, false));
    const php = python.replace(/\//g, '\\/');
    const dotnet = JSON.stringify(value).slice(1, -1).replace(/\\"/g, '"').replace(/[\u007f-\uffff<>&'+"]/g, (c) => hex4(c, true));
    const go = js.replace(/[<>&\u2028\u2029]/g, (c) => hex4(c, false));
    const quote = [...Buffer.from(value)].map((b) => (/[A-Za-z0-9\-._~/]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
    const lower = encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
    for (const form of [python, php, dotnet, go, quote, lower]) expect(await maskWith(value, `[${form}]`), form).toBe('[***]');
  });

  it('a value that is not UTF-8 text gets no text forms (URL, JSON) made from U+FFFD replacements', () => {
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41, 0x42, 0x43, 0x44, 0xc3]);
    const forms = secretForms(binary).map((f) => f.toString('latin1'));
    expect(forms.some((f) => f.includes('%EF%BF%BD') || f.includes('\\ufffd') || f.includes('\ufffd'))).toBe(false);
  });
});
