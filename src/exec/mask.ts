import { Transform, type TransformCallback } from 'node:stream';

export const MASK = Buffer.from('***');
/** Values shorter than this are not masked: they would hide too much ordinary output. */
export const MIN_MASKED_LENGTH = 4;

/** Values longer than this get only their byte-level forms (as is, base64, hex): nobody URL- or JSON-encodes them into a log. */
const TEXT_FORMS_UP_TO = 64 * 1024;

/**
 * The forms a secret can leak in: as is; its base64 and base64url at each of the three byte
 * alignments it can have inside longer data (`user:SECRET` in a Basic auth header); hex in both
 * cases; and, for UTF-8 text, URL and form encodings and the JSON string escapes of the common
 * encoders. Forms shorter than MIN_MASKED_LENGTH are left out. Line breaks inside a form do not
 * matter: the matcher reads past them (wrapped base64, PEM, `xxd -p`).
 */
export function secretForms(value: string | Uint8Array): Buffer[] {
  const raw = Buffer.from(value);
  const forms: Array<string | Buffer> = [raw, raw.toString('hex'), raw.toString('hex').toUpperCase()];
  for (const alphabet of ['base64', 'base64url'] as const) {
    // The whole value, unpadded, and the characters that encode only the value's bits at each alignment.
    forms.push(raw.toString(alphabet).replace(/=+$/, ''));
    for (const shift of [0, 1, 2]) {
      const encoded = Buffer.concat([Buffer.alloc(shift), raw]).toString(alphabet);
      forms.push(encoded.slice(Math.ceil((8 * shift) / 6), Math.floor((8 * (shift + raw.length)) / 6)));
    }
  }
  const text = raw.toString('utf8');
  // Text forms of bytes that are not UTF-8 would be forms of U+FFFD replacements: nothing that leaks.
  if (raw.length <= TEXT_FORMS_UP_TO && Buffer.from(text, 'utf8').equals(raw)) forms.push(...textForms(raw, text));
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

/** URL, form and JSON encodings of UTF-8 text, as the common encoders write them. */
function textForms(raw: Buffer, text: string): string[] {
  const strict = percentEncode(raw, UNRESERVED, false);
  const component = encodeURIComponent(text);
  const lower = (encoded: string) => encoded.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
  const json = JSON.stringify(text).slice(1, -1);
  const python = escapeChars(json, /[\u007f-\uffff]/g, false); // json.dumps (ensure_ascii): all but printable ASCII
  return [
    component,
    lower(component),
    strict,
    lower(strict),
    percentEncode(raw, UNRESERVED, true), // HTML forms, Python's quote_plus: + for space
    percentEncode(raw, UNRESERVED_AND_SLASH, false), // Python's quote() keeps /
    new URLSearchParams({ v: text }).toString().slice(2),
    json, // JavaScript, and most encoders
    json.replace(/\//g, '\\/'),
    python,
    python.replace(/\//g, '\\/'), // PHP's json_encode
    escapeChars(json, /[<>&\u2028\u2029]/g, false), // Go's encoding/json
    escapeChars(json.replace(/\\"/g, '"'), /[\u007f-\uffff<>&'+"`]/g, true), // .NET's System.Text.Json
  ];
}

const escapeChars = (json: string, chars: RegExp, upper: boolean) =>
  json.replace(chars, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')[upper ? 'toUpperCase' : 'toLowerCase']()}`);

/** RFC 3986 percent-encoding of every byte not in `keep`; `plus`: a space as `+`. */
function percentEncode(bytes: Buffer, keep: Uint8Array, plus: boolean): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (keep[b]) continue;
    out += bytes.toString('latin1', from, i) + (b === 0x20 && plus ? '+' : `%${HEX[b >> 4]}${HEX[b & 15]}`);
    from = i + 1;
  }
  return out + bytes.toString('latin1', from);
}
const HEX = '0123456789ABCDEF';
const byteSet = (re: RegExp) => Uint8Array.from({ length: 256 }, (_, b) => Number(re.test(String.fromCharCode(b))));
const UNRESERVED = byteSet(/[A-Za-z0-9\-._~]/);
const UNRESERVED_AND_SLASH = byteSet(/[A-Za-z0-9\-._~/]/);

/** Bytes the matcher reads past, in the output and in the patterns: line breaks (wrapped base64, PEM, `xxd -p`). */
const isLineBreak = (b: number) => b === 0x0a || b === 0x0d;

/**
 * An Aho–Corasick automaton over bytes, in O(total pattern length) memory: ~13 bytes a state.
 * States are numbered breadth-first, so a state's children are consecutive and depth grows with
 * the number. The shallowest states (where ordinary output spends its time) get a full 256-entry
 * transition row: one table lookup a byte. Deeper states keep only their children and a failure
 * link, so a 64 KB secret costs megabytes, not the gigabyte a full table would. Line breaks are
 * read past: a pattern matches across them, and the patterns' own are dropped.
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
  /** The length of the longest pattern that ends at each state (0: none), kept so a match costs O(1). */
  private readonly match: Uint32Array;
  /** The first state of each depth. */
  private readonly levelStart: Uint32Array;
  /** States below this one are shallower than the shortest pattern: no match can end there. */
  private readonly quiet: number;
  readonly maxLength: number;

  /** Dense rows for at most this many states: 4 MB at most, and the common case stays on them. */
  static readonly DENSE = 4096;

  constructor(patterns: Uint8Array[]) {
    const sorted = patterns
      .map((p) => (p.includes(0x0a) || p.includes(0x0d) ? Buffer.from(p.filter((b) => !isLineBreak(b))) : Buffer.from(p.buffer, p.byteOffset, p.length)))
      .filter((p) => p.length > 0)
      .sort(Buffer.compare)
      .filter((p, i, all) => i === 0 || !p.equals(all[i - 1]!));
    this.maxLength = sorted.reduce((m, p) => Math.max(m, p.length), 0);
    // A trie over sorted strings has 1 + Σ (length − common prefix with the previous) nodes.
    let states = 1;
    for (let i = 0; i < sorted.length; i++) states += sorted[i]!.length - (i === 0 ? 0 : commonPrefix(sorted[i - 1]!, sorted[i]!));
    const childStart = new Uint32Array(states + 1);
    const label = new Uint8Array(states);
    const fail = new Uint32Array(states);
    const match = new Uint32Array(states);
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
          if (sorted[lo]!.length === depth + 1) match[count] = depth + 1; // a pattern ends at the new state
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
          if (match[t] === 0) match[t] = match[fail[t]!]!; // else its own pattern is the longest
        }
      }
      runs = { lo: Uint32Array.from(nextLo), hi: Uint32Array.from(nextHi) };
      first += width;
    }
    levelStart[this.maxLength + 1] = states;
    // Full rows for the shallowest states, in order: a state's failure row is always built before it.
    this.dense = Math.min(states, Matcher.DENSE);
    // Every state a dense row leads to is a child of a dense state or one of their failure targets:
    // numbered below childStart[dense] (breadth-first). 16-bit entries when those fit: half the cache.
    const delta = childStart[this.dense]! <= 0x10000 ? new Uint16Array(this.dense * 256) : new Uint32Array(this.dense * 256);
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
    this.match = match;
    this.levelStart = levelStart;
    const shortest = sorted.reduce((m, p) => Math.min(m, p.length), Infinity);
    this.quiet = shortest === Infinity ? states : levelStart[shortest]!;
  }

  /** The number of trailing bytes (line breaks not counted) that are a prefix of some pattern: all that must be held back. */
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
   * Feeds bytes from `state`; calls `onMatch(i, length)` for the longest pattern ending at each
   * byte `i` of `bytes` (its length counts no line break), and adds `offset + i` to `breaks` for
   * each line break, which leaves the state as it is. Returns the state after the last byte.
   */
  scan(bytes: Uint8Array, state: number, onMatch: (i: number, length: number) => void, breaks: number[] = [], offset = 0): number {
    const { delta, dense, match, quiet } = this;
    let s = state;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0x0a || b === 0x0d) {
        breaks.push(offset + i);
        continue;
      }
      s = s < dense ? delta[(s << 8) | b]! : this.step(s, b);
      if (s >= quiet && match[s] !== 0) onMatch(i, match[s]!);
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
}

function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * A stream that replaces every occurrence of the patterns with `***`, also across chunk
 * boundaries, across line breaks, and where occurrences overlap. It holds back only the trailing
 * bytes that could begin a secret (at most the longest pattern and the line breaks inside it), so
 * a prompt or a progress line is shown at once and long-running and binary streams keep flowing.
 *
 * Positions are counted from the start of the stream. A byte is shown in clear only once no
 * occurrence can still cover it: every later occurrence starts within the last `pending` bytes.
 */
export class MaskingStream extends Transform {
  /** Bytes not yet passed on are buf[head … tail); `start` is the stream position of buf[head]. */
  private buf: Buffer = Buffer.alloc(0);
  private head = 0;
  private tail = 0;
  private start = 0;
  /** Masked ranges not yet passed on, from `first` on: sorted, disjoint and not touching, [from, to). */
  private ranges: Array<[number, number]> = [];
  private first = 0;
  /** Stream positions of the line breaks the matcher read past, from `breaksBefore` breaks on. */
  private breaks: number[] = [];
  private breaksBefore = 0;
  private state = 0;

  constructor(private readonly matcher: Matcher) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const base = this.start + this.tail - this.head;
    this.state = this.matcher.scan(chunk, this.state, (i, length) => this.hide(this.position(this.counted(base + i) + 1 - length), base + i + 1), this.breaks, base);
    const total = base + chunk.length;
    const pending = this.matcher.pending(this.state);
    let cut = Math.max(this.start, pending === 0 ? total : this.position(this.counted(total) - pending));
    // A masked range that has begun before the cut can go out whole: its bytes are hidden anyway.
    for (let r = this.first; r < this.ranges.length; r++) {
      const [from, to] = this.ranges[r]!;
      if (from > cut) break;
      if (to > cut) cut = to;
    }
    if (this.tail > this.head) {
      this.append(chunk);
      this.release(cut, this.buf, this.head, true);
    } else {
      // Nothing held (the common case): pass on straight from the chunk, and keep only its tail.
      this.release(cut, chunk, 0, false);
      this.buf = this.buf.length >= total - cut ? this.buf : Buffer.allocUnsafe(Math.max(4096, total - cut));
      this.head = 0;
      this.tail = chunk.copy(this.buf, 0, cut - base);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.release(this.start + this.tail - this.head, this.buf, this.head, true);
    done();
  }

  /** Keeps the chunk's bytes, in amortised O(its length): a long held-back prefix is not copied again for each small write. */
  private append(chunk: Buffer): void {
    const live = this.tail - this.head;
    if (this.tail + chunk.length > this.buf.length) {
      const grown = live + chunk.length > this.buf.length / 2 ? Buffer.allocUnsafe(Math.max(2 * this.buf.length, live + chunk.length, 4096)) : this.buf;
      this.buf.copy(grown, 0, this.head, this.tail);
      this.buf = grown;
      this.head = 0;
      this.tail = live;
    }
    chunk.copy(this.buf, this.tail);
    this.tail += chunk.length;
  }

  /** How many bytes before stream position `p` the matcher counted (line breaks are not). */
  private counted(p: number): number {
    let lo = 0;
    let hi = this.breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.breaks[mid]! < p) lo = mid + 1;
      else hi = mid;
    }
    return p - this.breaksBefore - lo;
  }

  /** The stream position of the counted byte number `n`: n plus the line breaks before it. */
  private position(n: number): number {
    // Break k (0-based, all of them) is preceded by breaks[k] − k counted bytes.
    let lo = 0;
    let hi = this.breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.breaks[mid]! - (this.breaksBefore + mid) <= n) lo = mid + 1;
      else hi = mid;
    }
    return n + this.breaksBefore + lo;
  }

  /** Adds [from, to), merged with every range it overlaps or touches. */
  private hide(from: number, to: number): void {
    // What was passed on already was passed on masked (see the cut): start at the held bytes.
    let f = Math.max(from, this.start);
    let t = to;
    const last = this.ranges.length > this.first ? this.ranges[this.ranges.length - 1]! : undefined;
    if (last && f >= last[0] && f <= last[1]) {
      if (t > last[1]) last[1] = t; // the common case: it extends the last one
      return;
    }
    while (this.ranges.length > this.first && this.ranges[this.ranges.length - 1]![1] >= f) {
      const [pf, pt] = this.ranges.pop()!;
      f = Math.min(f, pf);
      t = Math.max(t, pt);
    }
    this.ranges.push([f, t]);
  }

  /**
   * Passes on every byte before stream position `cut`, each masked range as `***`: the bytes from
   * `start` on are source[at …]. Bytes from our own buffer are copied, for it is reused.
   */
  private release(cut: number, source: Buffer, at: number, reused: boolean): void {
    if (cut <= this.start) return;
    const parts: Buffer[] = [];
    const index = (p: number) => at + p - this.start;
    let pos = this.start;
    while (this.first < this.ranges.length && this.ranges[this.first]![1] <= cut) {
      const [from, to] = this.ranges[this.first++]!;
      if (from > pos) parts.push(source.subarray(index(pos), index(from)));
      parts.push(MASK);
      pos = to;
    }
    if (cut > pos) parts.push(source.subarray(index(pos), index(cut)));
    if (parts.length > 0) this.push(parts.length > 1 || reused ? Buffer.concat(parts) : parts[0]);
    if (source === this.buf) this.head = index(cut);
    this.start = cut;
    // Forget what is behind: ranges passed on, and line breaks before the cut (no later match starts there).
    if (this.first > 64) {
      this.ranges = this.ranges.slice(this.first);
      this.first = 0;
    }
    let k = 0;
    while (k < this.breaks.length && this.breaks[k]! < cut) k++;
    if (k > 0) {
      this.breaks = this.breaks.slice(k);
      this.breaksBefore += k;
    }
  }
}
