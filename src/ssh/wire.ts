/** The SSH wire encoding (RFC 4251): uint32, uint64, string, mpint. */
export class Writer {
  private parts: Buffer[] = [];

  uint32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    this.parts.push(b);
    return this;
  }

  uint64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    this.parts.push(b);
    return this;
  }

  string(data: Uint8Array | string): this {
    const b = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
    return this.uint32(b.length).raw(b);
  }

  /** A non-negative integer, big-endian, with a leading zero byte when its top bit is set. */
  mpint(magnitude: Uint8Array): this {
    let b = Buffer.from(magnitude);
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    b = b.subarray(i);
    if (b.length === 1 && b[0] === 0) return this.uint32(0);
    if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return this.string(b);
  }

  raw(data: Uint8Array): this {
    this.parts.push(Buffer.from(data));
    return this;
  }

  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** SSHBUF_MAX_BIGNUM: 16384 bits. */
const MAX_BIGNUM = 16384 / 8;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const isSpace = (c: string) => c === ' ' || (c >= '\t' && c <= '\r');

/**
 * Base64 exactly as OpenSSH decodes a key (b64_pton in openbsd-compat/base64.c): the standard
 * alphabet only (no URL-safe - or _), whitespace skipped anywhere, whole quanta, padding only where
 * due and nothing but whitespace after it, and zero bits under the padding.
 * @example decodeBase64Strict('AAE=') // <Buffer 00 01>
 */
export function decodeBase64Strict(text: string): Buffer {
  const out: number[] = [];
  let state = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (isSpace(c)) continue;
    if (c === '=') break;
    const v = B64.indexOf(c);
    if (v < 0) throw new Error('not base64');
    if (state === 0) out.push(v << 2);
    else if (state === 1) {
      out[out.length - 1]! |= v >> 4;
      out.push((v & 0x0f) << 4);
    } else if (state === 2) {
      out[out.length - 1]! |= v >> 2;
      out.push((v & 0x03) << 6);
    } else out[out.length - 1]! |= v;
    state = (state + 1) % 4;
  }
  if (i === text.length) {
    if (state !== 0) throw new Error('base64 ends mid-quantum');
    return Buffer.from(out);
  }
  // At a pad: two are due after two characters of a quantum, one after three.
  if (state < 2) throw new Error('base64 padding out of place');
  i++;
  if (state === 2) {
    while (i < text.length && isSpace(text[i]!)) i++;
    if (text[i] !== '=') throw new Error('base64 padding incomplete');
    i++;
  }
  for (; i < text.length; i++) if (!isSpace(text[i]!)) throw new Error('data after base64 padding');
  // The partial byte the padding stands for must be zero, or it would carry hidden bits.
  if (out.pop() !== 0) throw new Error('base64 padding hides bits');
  return Buffer.from(out);
}

export class Reader {
  private pos = 0;

  constructor(private readonly buf: Buffer, private readonly what: string) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error(`${this.what} is truncated`);
  }

  uint32(): number {
    this.need(4);
    const n = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return n;
  }

  string(): Buffer {
    const n = this.uint32();
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  text(): string {
    return this.string().toString('utf8');
  }

  /** A string that holds no NUL, except one at its very end (dropped): sshbuf_get_cstring. */
  cstring(): string {
    let b = this.string();
    const nul = b.indexOf(0);
    if (nul !== -1 && nul < b.length - 1) throw new Error(`${this.what} has a NUL inside a name`);
    if (nul === b.length - 1) b = b.subarray(0, nul);
    return b.toString('latin1');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  uint64(): bigint {
    this.need(8);
    const n = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return n;
  }

  /**
   * A non-negative mpint, its magnitude without leading zeros: sshbuf_get_bignum2_bytes_direct refuses
   * a set top bit (negative) and more than 16384 bits (SSHBUF_MAX_BIGNUM, plus one zero byte).
   */
  mpint(): Buffer {
    const b = this.string();
    if (b.length > 0 && b[0]! & 0x80) throw new Error(`${this.what} has a negative number`);
    if (b.length > MAX_BIGNUM + 1 || (b.length === MAX_BIGNUM + 1 && b[0] !== 0)) throw new Error(`${this.what} has a number too large`);
    let i = 0;
    while (i < b.length && b[i] === 0) i++;
    return b.subarray(i);
  }

  /** Throws when bytes are left over: every parse of a whole structure ends with this. */
  end(): void {
    if (this.pos !== this.buf.length) throw new Error(`${this.what} has ${this.buf.length - this.pos} bytes too many`);
  }

  rest(): Buffer {
    return this.buf.subarray(this.pos);
  }

  /** How many bytes were read so far. */
  get offset(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}
