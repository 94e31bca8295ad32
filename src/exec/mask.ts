import { Transform, type TransformCallback } from 'node:stream';

export const MASK = Buffer.from('***');
/** Values shorter than this are not masked: they would hide too much ordinary output. */
export const MIN_MASKED_LENGTH = 4;

/**
 * The forms a secret can leak in: as is; its base64 and base64url at each of the three byte
 * alignments it can have inside longer data (`user:SECRET` in a Basic auth header); hex in both
 * cases; URL and form encodings; JSON string escapes. Forms shorter than MIN_MASKED_LENGTH are left out.
 */
export function secretForms(value: string | Uint8Array): Buffer[] {
  const raw = Buffer.from(value);
  const text = raw.toString('utf8');
  const forms: Array<string | Buffer> = [raw, raw.toString('hex'), raw.toString('hex').toUpperCase()];
  for (const alphabet of ['base64', 'base64url'] as const) {
    // The whole value, unpadded, and the characters that encode only the value's bits at each alignment.
    forms.push(raw.toString(alphabet).replace(/=+$/, ''));
    for (const shift of [0, 1, 2]) {
      const encoded = Buffer.concat([Buffer.alloc(shift), raw]).toString(alphabet);
      forms.push(encoded.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + raw.length)) / 6)));
    }
  }
  forms.push(
    encodeURIComponent(text),
    percentEncode(raw, false),
    percentEncode(raw, true),
    new URLSearchParams({ v: text }).toString().slice(2),
  );
  const json = JSON.stringify(text).slice(1, -1);
  forms.push(json, json.replace(/\//g, '\\/'), json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const seen = new Set<string>();
  const unique: Buffer[] = [];
  for (const form of forms) {
    const bytes = Buffer.from(form);
    const key = bytes.toString('latin1');
    if (bytes.length < MIN_MASKED_LENGTH || seen.has(key)) continue;
    seen.add(key);
    unique.push(bytes);
  }
  return unique;
}

/** RFC 3986 percent-encoding of every byte but the unreserved ones; `plus`: a space as `+` (HTML forms, Python's quote_plus). */
function percentEncode(bytes: Buffer, plus: boolean): Buffer {
  const out = Buffer.alloc(bytes.length * 3);
  let n = 0;
  for (const b of bytes) {
    if (UNRESERVED[b]) out[n++] = b;
    else if (b === 0x20 && plus) out[n++] = 0x2b;
    else n += out.write(`%${HEX[b >> 4]}${HEX[b & 15]}`, n, 'latin1');
  }
  return out.subarray(0, n);
}
const HEX = '0123456789ABCDEF';
const UNRESERVED = Uint8Array.from({ length: 256 }, (_, b) => Number(/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))));

/**
 * An Aho–Corasick automaton over bytes, in O(total pattern length) memory: ~10 bytes a state.
 * States are numbered breadth-first, so a state's children are consecutive and depth grows with
 * the number. The shallowest states (where ordinary output spends its time) get a full 256-entry
 * transition row: one table lookup a byte. Deeper states keep only their children and a failure
 * link, so a 64 KB secret costs megabytes, not the gigabyte a full table would.
 */
export class Matcher {
  /** Transitions of the DENSE shallowest states: next = delta[state * 256 + byte]. */
  private readonly delta: Uint16Array | Uint32Array;
  private readonly dense: number;
  /** Children of state s are the states childStart[s] … childStart[s + 1] - 1, sorted by label. */
  private readonly childStart: Uint32Array;
  /** The byte on the edge into each state. */
  private readonly label: Uint8Array;
  private readonly fail: Uint32Array;
  /** Bit 1: a pattern ends at this state; bit 2: some pattern is a suffix of it (itself included). */
  private readonly flags: Uint8Array;
  /** The first state of each depth. */
  private readonly levelStart: Uint32Array;
  readonly maxLength: number;

  /** Dense rows for at most this many states: 4 MB at most, and the common case stays on them. */
  static readonly DENSE = 4096;

  constructor(patterns: Uint8Array[]) {
    const sorted = patterns
      .filter((p) => p.length > 0)
      .map((p) => Buffer.from(p.buffer, p.byteOffset, p.length))
      .sort(Buffer.compare)
      .filter((p, i, all) => i === 0 || !p.equals(all[i - 1]!));
    this.maxLength = sorted.reduce((m, p) => Math.max(m, p.length), 0);
    // A trie over sorted strings has 1 + Σ (length − common prefix with the previous) nodes.
    let states = 1;
    for (let i = 0; i < sorted.length; i++) states += sorted[i]!.length - (i === 0 ? 0 : commonPrefix(sorted[i - 1]!, sorted[i]!));
    const childStart = new Uint32Array(states + 1);
    const label = new Uint8Array(states);
    const fail = new Uint32Array(states);
    const flags = new Uint8Array(states);
    const levelStart = new Uint32Array(this.maxLength + 2);
    const rootChild = new Int32Array(256).fill(-1);
    const child = (s: number, b: number): number => {
      if (s === 0) return rootChild[b]!;
      let lo = childStart[s]!;
      let hi = childStart[s + 1]! - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (label[mid] === b) return mid;
        if (label[mid]! < b) lo = mid + 1;
        else hi = mid - 1;
      }
      return -1;
    };
    const next = (s: number, b: number): number => {
      for (;;) {
        const c = child(s, b);
        if (c >= 0) return c;
        if (s === 0) return 0;
        s = fail[s]!;
      }
    };
    // Level by level: the states of depth d are the distinct d-byte prefixes, each a run [lo, hi) of sorted patterns.
    let runs = { lo: Uint32Array.of(0), hi: Uint32Array.of(sorted.length) };
    let count = 1;
    for (let depth = 0, first = 0; first < count; depth++) {
      levelStart[depth] = first;
      const width = count - first;
      const nextLo: number[] = [];
      const nextHi: number[] = [];
      for (let i = 0; i < width; i++) {
        const s = first + i;
        let j = runs.lo[i]!;
        const hi = runs.hi[i]!;
        if (depth > 0 && sorted[j]!.length === depth) j++; // the pattern that ends here (sorted: first in its run)
        childStart[s] = count;
        while (j < hi) {
          const b = sorted[j]![depth]!;
          const lo = j;
          while (j < hi && sorted[j]![depth] === b) j++;
          label[count] = b;
          if (sorted[lo]!.length === depth + 1) flags[count] = 1; // a pattern ends at the new state
          if (s === 0) rootChild[b] = count;
          nextLo.push(lo);
          nextHi.push(j);
          count++;
        }
      }
      childStart[first + width] = count;
      // Failure links of the new level: the longest proper suffix that is also a prefix.
      for (let i = 0; i < width; i++) {
        const s = first + i;
        for (let t = childStart[s]!; t < childStart[s + 1]!; t++) {
          fail[t] = s === 0 ? 0 : next(fail[s]!, label[t]!);
          flags[t]! |= flags[t]! & 1 ? 2 : flags[fail[t]!]! & 2;
        }
      }
      runs = { lo: Uint32Array.from(nextLo), hi: Uint32Array.from(nextHi) };
      first += width;
    }
    levelStart[this.maxLength + 1] = states;
    // Full rows for the shallowest states, in order: a state's failure row is always built before it.
    this.dense = Math.min(states, Matcher.DENSE);
    const delta = states <= 0xffff ? new Uint16Array(this.dense * 256) : new Uint32Array(this.dense * 256);
    for (let s = 0; s < this.dense; s++) {
      for (let b = 0; b < 256; b++) {
        const c = child(s, b);
        delta[s * 256 + b] = c >= 0 ? c : s === 0 ? 0 : delta[fail[s]! * 256 + b]!;
      }
    }
    this.delta = delta;
    this.childStart = childStart;
    this.label = label;
    this.fail = fail;
    this.flags = flags;
    this.levelStart = levelStart;
  }

  /** The number of trailing bytes that are a prefix of some pattern: all that must be held back. */
  pending(state: number): number {
    const levels = this.levelStart;
    let lo = 0;
    let hi = levels.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (levels[mid]! <= state) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Feeds bytes from `state`; calls `onMatch(end, length)` for the longest pattern ending at each
   * position (end is exclusive, relative to `bytes`). Returns the state after the last byte.
   */
  scan(bytes: Uint8Array, state: number, onMatch: (end: number, length: number) => void): number {
    const { delta, dense, flags } = this;
    let s = state;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      s = s < dense ? delta[(s << 8) | b]! : this.step(s, b);
      if (flags[s]! & 2) onMatch(i + 1, this.longestMatch(s));
    }
    return s;
  }

  /** The transition from a sparse state: its child on `b`, or its failure link's. */
  private step(state: number, b: number): number {
    const { childStart, label, fail, dense } = this;
    let s = state;
    while (s >= dense) {
      const end = childStart[s + 1]!;
      for (let c = childStart[s]!; c < end; c++) if (label[c] === b) return c;
      s = fail[s]!;
    }
    return this.delta[(s << 8) | b]!;
  }

  /** The longest pattern that is a suffix of the state: the first one on its failure chain. */
  private longestMatch(state: number): number {
    let s = state;
    while (!(this.flags[s]! & 1)) s = this.fail[s]!;
    return this.pending(s);
  }
}

function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * A stream that replaces every occurrence of the patterns with `***`, also across chunk
 * boundaries and where occurrences overlap. It holds back only the trailing bytes that could begin
 * a secret (at most the longest pattern), so a prompt or a progress line is shown at once and
 * long-running and binary streams keep flowing.
 *
 * Positions are counted from the start of the stream. A byte is shown in clear only once no
 * occurrence can still cover it: every later occurrence starts within the last `pending` bytes.
 */
export class MaskingStream extends Transform {
  /** Bytes not yet passed on; `start` is the stream position of the first. */
  private held: Buffer = Buffer.alloc(0);
  private start = 0;
  /** Masked ranges not yet passed on, sorted, disjoint and not touching: [from, to). */
  private ranges: Array<[number, number]> = [];
  private state = 0;

  constructor(private readonly matcher: Matcher) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const base = this.start + this.held.length;
    this.state = this.matcher.scan(chunk, this.state, (end, length) => this.hide(base + end - length, base + end));
    this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    const total = base + chunk.length;
    let cut = Math.max(this.start, total - this.matcher.pending(this.state));
    // A masked range that has begun before the cut can go out whole: its bytes are hidden anyway.
    for (const [from, to] of this.ranges) if (from <= cut && to > cut) cut = to;
    this.release(cut);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.release(this.start + this.held.length);
    done();
  }

  /** Adds [from, to), merged with every range it overlaps or touches. */
  private hide(from: number, to: number): void {
    // What was passed on already was passed on masked (see the cut): start at the held bytes.
    let f = Math.max(from, this.start);
    let t = to;
    while (this.ranges.length > 0 && this.ranges[this.ranges.length - 1]![1] >= f) {
      const [pf, pt] = this.ranges.pop()!;
      f = Math.min(f, pf);
      t = Math.max(t, pt);
    }
    this.ranges.push([f, t]);
  }

  /** Passes on every held byte before stream position `cut`, each masked range as `***`. */
  private release(cut: number): void {
    if (cut <= this.start) return;
    const parts: Buffer[] = [];
    let pos = this.start;
    while (this.ranges.length > 0 && this.ranges[0]![1] <= cut) {
      const [from, to] = this.ranges.shift()!;
      if (from > pos) parts.push(this.held.subarray(pos - this.start, from - this.start));
      parts.push(MASK);
      pos = to;
    }
    if (cut > pos) parts.push(this.held.subarray(pos - this.start, cut - this.start));
    // A copy of what stays: the chunk's memory is not ours to keep.
    this.held = Buffer.from(this.held.subarray(cut - this.start));
    this.start = cut;
    if (parts.length > 0) this.push(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }
}
