/** The SSH wire encoding (RFC 4251): uint32, string, mpint. */
export class Writer {
  private parts: Buffer[] = [];

  uint32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
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

  rest(): Buffer {
    return this.buf.subarray(this.pos);
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}
