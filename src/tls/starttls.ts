import type { Socket } from 'node:net';
import { UnavailableError } from '../errors.js';

/**
 * STARTTLS: the plaintext exchange some protocols need before the TLS handshake, as
 * `openssl s_client -starttls PROTO` does it. Each protocol is one small function over a
 * {@link Conversation}; the table below is the one place that names them.
 */

/** Everything a server may send before TLS starts: more is an error, never an unbounded buffer. */
export const MAX_PLAINTEXT = 64 * 1024;

interface Protocol {
  /** The port when the target names none. */
  port: number;
  /** The implicit-TLS port, for the `<name>s://` scheme (`smtps://`, `imaps://`, …). */
  tlsPort?: number;
  negotiate(c: Conversation, domain: string): Promise<void>;
}

class Conversation {
  /** What the client waits for now, for timeout and error messages. */
  waitingFor = 'the greeting';
  private buffered = Buffer.alloc(0);
  private received = 0;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.received += chunk.length;
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.wake?.();
  };
  private readonly onClose = () => {
    this.closed = true;
    this.wake?.();
  };

  constructor(
    private readonly socket: Socket,
    private readonly where: string,
  ) {
    socket.on('data', this.onData).on('end', this.onClose).on('close', this.onClose);
  }

  /** An error for anything that keeps TLS from starting: the caller reports it as is. */
  fail(message: string): UnavailableError {
    return new UnavailableError(`${this.where}: ${message}`, undefined, 'ERR_TLS_STARTTLS');
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `take` finds a whole message at the start of what was received, and consumes it. */
  async read<T>(take: (data: Buffer) => [value: T, length: number] | undefined): Promise<T> {
    for (;;) {
      const got = take(this.buffered);
      if (got) {
        this.buffered = this.buffered.subarray(got[1]);
        return got[0];
      }
      if (this.received > MAX_PLAINTEXT) throw this.fail(`the server sent more than ${MAX_PLAINTEXT} bytes without ${this.waitingFor}`);
      if (this.closed) throw this.fail(`the server closed the connection before ${this.waitingFor}`);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** One line, without its CR LF. */
  line(): Promise<string> {
    return this.read((data) => {
      const end = data.indexOf(10);
      return end < 0 ? undefined : [data.subarray(0, end).toString('latin1').replace(/\r$/, ''), end + 1];
    });
  }

  bytes(n: number): Promise<Buffer> {
    return this.read((data) => (data.length < n ? undefined : [data.subarray(0, n), n]));
  }

  /** Hands the socket to TLS. Plaintext left over after the server agreed could only be an injection. */
  finish(): void {
    this.socket.off('data', this.onData).off('end', this.onClose).off('close', this.onClose);
    if (this.buffered.length > 0) throw this.fail(`the server sent data after ${this.waitingFor}`);
  }
}

/** Server text in a message: printable, short. */
const show = (text: string) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);

/**
 * An SMTP or FTP reply: `250-…` lines up to the `250 …` one. In FTP the lines in between may be
 * free text, and only the first line's code followed by a space ends the reply.
 */
async function reply(c: Conversation, ftp = false): Promise<{ code: number; text: string }> {
  const parse = (line: string) => /^(\d{3})(?:([ -])(.*))?$/.exec(line);
  const first = await c.line();
  const m = parse(first);
  if (!m) throw c.fail(`unexpected reply instead of ${c.waitingFor}: ${show(first)}`);
  const lines = [m[3] ?? ''];
  for (let more = m[2] === '-'; more; ) {
    const line = await c.line();
    const next = parse(line);
    if (!next && !ftp) throw c.fail(`unexpected reply instead of ${c.waitingFor}: ${show(line)}`);
    lines.push(next ? (next[3] ?? '') : line);
    more = !next || next[2] === '-' || (ftp && next[1] !== m[1]);
  }
  return { code: Number(m[1]), text: lines.join('\n') };
}

async function smtp(c: Conversation): Promise<void> {
  const greeting = await reply(c);
  if (greeting.code !== 220) throw c.fail(`the server did not greet with 220: ${greeting.code} ${show(greeting.text)}`);
  c.send('EHLO keysmith.invalid\r\n');
  c.waitingFor = 'the reply to EHLO';
  const ehlo = await reply(c);
  if (ehlo.code !== 250) throw c.fail(`the server refused EHLO: ${ehlo.code} ${show(ehlo.text)}`);
  if (!/^STARTTLS\b/im.test(ehlo.text)) throw c.fail('the server does not offer STARTTLS (EHLO)');
  c.send('STARTTLS\r\n');
  c.waitingFor = 'the reply to STARTTLS';
  const answer = await reply(c);
  if (answer.code !== 220) throw c.fail(`the server refused STARTTLS: ${answer.code} ${show(answer.text)}`);
}

/** Reads up to the tagged completion of an IMAP command; returns it and the untagged lines before it. */
async function tagged(c: Conversation, tag: string): Promise<{ ok: boolean; line: string; untagged: string[] }> {
  const untagged: string[] = [];
  for (;;) {
    const line = await c.line();
    if (line.startsWith(`${tag} `)) return { ok: /^\S+ OK\b/i.test(line), line, untagged };
    untagged.push(line);
  }
}

async function imap(c: Conversation): Promise<void> {
  const greeting = await c.line();
  if (!/^\* OK\b/i.test(greeting)) throw c.fail(`the server did not greet with OK: ${show(greeting)}`);
  c.send('a1 CAPABILITY\r\n');
  c.waitingFor = 'the reply to CAPABILITY';
  const capability = await tagged(c, 'a1');
  if (!capability.untagged.some((l) => /^\* CAPABILITY .*\bSTARTTLS\b/i.test(l))) throw c.fail('the server does not offer STARTTLS (CAPABILITY)');
  c.send('a2 STARTTLS\r\n');
  c.waitingFor = 'the reply to STARTTLS';
  const answer = await tagged(c, 'a2');
  if (!answer.ok) throw c.fail(`the server refused STARTTLS: ${show(answer.line)}`);
}

async function pop3(c: Conversation): Promise<void> {
  const greeting = await c.line();
  if (!greeting.startsWith('+OK')) throw c.fail(`the server did not greet with +OK: ${show(greeting)}`);
  c.send('CAPA\r\n');
  c.waitingFor = 'the reply to CAPA';
  const capa = await c.line();
  // A server without CAPA (RFC 2449) may still know STLS: then just try it.
  if (capa.startsWith('+OK')) {
    const capabilities: string[] = [];
    for (let line = await c.line(); line !== '.'; line = await c.line()) capabilities.push(line);
    if (!capabilities.some((l) => /^STLS\b/i.test(l))) throw c.fail('the server does not offer STARTTLS (CAPA)');
  } else if (!capa.startsWith('-ERR')) throw c.fail(`unexpected reply to CAPA: ${show(capa)}`);
  c.send('STLS\r\n');
  c.waitingFor = 'the reply to STLS';
  const answer = await c.line();
  if (!answer.startsWith('+OK')) throw c.fail(`the server refused STLS: ${show(answer)}`);
}

/** RFC 4217: AUTH TLS on the control connection. */
async function ftp(c: Conversation): Promise<void> {
  let greeting = await reply(c, true);
  while (greeting.code >= 100 && greeting.code < 200) greeting = await reply(c, true); // 120: ready in n minutes
  if (greeting.code !== 220) throw c.fail(`the server did not greet with 220: ${greeting.code} ${show(greeting.text)}`);
  c.send('AUTH TLS\r\n');
  c.waitingFor = 'the reply to AUTH TLS';
  const answer = await reply(c, true);
  if (answer.code !== 234) throw c.fail(`the server refused AUTH TLS: ${answer.code} ${show(answer.text)}`);
}

interface Ber {
  tag: number;
  body: Buffer;
}

/** One BER element at the start of `data` and its encoded length, or undefined while incomplete. */
function ber(data: Buffer, bad: (what: string) => Error): [Ber, number] | undefined {
  if (data.length < 2) return undefined;
  let length = data[1]!;
  let start = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 3) throw bad(`BER length byte 0x${length.toString(16)}`);
    if (data.length < 2 + n) return undefined;
    length = data.readUIntBE(2, n);
    start = 2 + n;
  }
  if (length > MAX_PLAINTEXT) throw bad(`a ${length}-byte message`);
  return data.length < start + length ? undefined : [{ tag: data[0]!, body: data.subarray(start, start + length) }, start + length];
}

/** The elements inside a constructed BER value. */
function elements(body: Buffer, bad: (what: string) => Error): Ber[] {
  const out: Ber[] = [];
  for (let rest = body, got = ber(rest, bad); got; rest = rest.subarray(got[1]), got = ber(rest, bad)) out.push(got[0]);
  return out;
}

// LDAPMessage { messageID 1, extendedReq [APPLICATION 23] { requestName [0] "1.3.6.1.4.1.1466.20037" } }
const LDAP_STARTTLS = Buffer.concat([Buffer.from('301d02010177188016', 'hex'), Buffer.from('1.3.6.1.4.1.1466.20037')]);
const LDAP_RESULTS: Record<number, string> = { 1: 'operationsError', 2: 'protocolError', 52: 'unavailable', 53: 'unwillingToPerform' };

/** RFC 4511 section 4.14: the StartTLS extended operation. */
async function ldap(c: Conversation): Promise<void> {
  c.send(LDAP_STARTTLS);
  c.waitingFor = 'the StartTLS response';
  const bad = (what: string) => c.fail(`unexpected reply instead of the StartTLS response: ${what}`);
  const message = await c.read((data) => {
    if (data.length > 0 && data[0] !== 0x30) throw bad(show(data.subarray(0, 40).toString('latin1')));
    return ber(data, bad);
  });
  // LDAPMessage { messageID, extendedResp [APPLICATION 24] { resultCode ENUMERATED, matchedDN, diagnosticMessage, … } }
  const [, op] = elements(message.body, bad);
  const [result, , diagnostic] = op?.tag === 0x78 ? elements(op.body, bad) : [];
  if (result?.tag !== 0x0a || result.body.length !== 1) throw bad('not an extended response');
  const code = result.body[0]!;
  const why = diagnostic?.body.length ? `: ${show(diagnostic.body.toString('utf8'))}` : '';
  if (code !== 0) throw c.fail(`the server refused StartTLS: ${LDAP_RESULTS[code] ?? 'resultCode'} (${code})${why}`);
}

/** The PostgreSQL SSLRequest: length 8, code 80877103; the server answers one byte, S or N. */
async function postgres(c: Conversation): Promise<void> {
  c.send(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]));
  c.waitingFor = 'the answer to SSLRequest';
  const answer = String.fromCharCode((await c.bytes(1))[0]!);
  if (answer === 'N') throw c.fail('the server does not offer SSL (it answered N to SSLRequest)');
  if (answer !== 'S') throw c.fail(`unexpected answer to SSLRequest: ${show(answer)}`);
}

/** MySQL: the server's handshake must carry CLIENT_SSL; the client answers with an SSLRequest packet. */
async function mysql(c: Conversation): Promise<void> {
  const header = await c.bytes(4);
  const length = header.readUIntLE(0, 3);
  if (length > MAX_PLAINTEXT) throw c.fail(`the server announced a ${length}-byte handshake`);
  const payload = await c.bytes(length);
  if (payload[0] === 0xff && payload.length >= 3) {
    throw c.fail(`the server refused the connection: ${payload.readUInt16LE(1)} ${show(payload.subarray(3).toString('utf8').replace(/^#\w{5}/, ''))}`);
  }
  if (payload[0] !== 10) throw c.fail(`unexpected handshake (protocol version ${payload[0]})`);
  // version\0, connection id (4), auth data (8), filler (1), then the low 16 capability bits
  const caps = payload.indexOf(0, 1) + 14;
  if (caps < 14 || payload.length < caps + 2) throw c.fail('the server sent a truncated handshake');
  const CLIENT_SSL = 0x800;
  if (!(payload.readUInt16LE(caps) & CLIENT_SSL)) throw c.fail('the server does not offer SSL (handshake capabilities)');
  const request = Buffer.alloc(36);
  request.writeUIntLE(32, 0, 3);
  request[3] = header[3]! + 1;
  request.writeUInt32LE(0x007fae85, 4); // the capabilities openssl s_client sends, CLIENT_SSL among them
  request.writeUInt32LE(0x01000000, 8); // max packet size
  request[12] = 0x21; // utf8_general_ci
  c.send(request);
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Reads up to the first match of `end` (searched as latin1, so indexes are byte offsets). */
function upTo(c: Conversation, end: RegExp): Promise<string> {
  return c.read((data) => {
    const text = data.toString('latin1');
    const m = end.exec(text);
    return m ? [text.slice(0, m.index + m[0].length), m.index + m[0].length] : undefined;
  });
}

/** RFC 6120 section 5: the client stream header, the stream features, `<starttls/>`, `<proceed/>`. */
async function xmpp(c: Conversation, domain: string): Promise<void> {
  c.send(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${xmlEscape(domain)}' version='1.0'>`);
  c.waitingFor = 'the stream features';
  const features = await upTo(c, /<\/(?:stream:)?features\s*>|<(?:stream:)?features\s*\/>|<\/(?:stream:)?error\s*>|<\/(?:stream:)?stream\s*>/);
  const error = /<(?:stream:)?error\b[^>]*>\s*<([\w-]+)/.exec(features);
  if (error) throw c.fail(`the server closed the stream: ${show(error[1]!)}`);
  if (!/<starttls\b/.test(features)) throw c.fail('the server does not offer STARTTLS (stream features)');
  c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  c.waitingFor = 'the answer to <starttls/>';
  const answer = await upTo(c, /<(proceed|failure)\b[^>]*\/>|<\/(proceed|failure)\s*>/);
  if (!/<proceed\b/.test(answer)) throw c.fail('the server refused STARTTLS (<failure/>)');
}

/** The protocols keysmith negotiates, with their default ports: the one table. */
export const PROTOCOLS = {
  smtp: { port: 25, tlsPort: 465, negotiate: smtp },
  imap: { port: 143, tlsPort: 993, negotiate: imap },
  pop3: { port: 110, tlsPort: 995, negotiate: pop3 },
  ftp: { port: 21, tlsPort: 990, negotiate: ftp },
  ldap: { port: 389, tlsPort: 636, negotiate: ldap },
  postgres: { port: 5432, negotiate: postgres },
  mysql: { port: 3306, negotiate: mysql },
  xmpp: { port: 5222, tlsPort: 5223, negotiate: xmpp },
} satisfies Record<string, Protocol>;

export type StartTlsProtocol = keyof typeof PROTOCOLS;

const ALIASES: Record<string, StartTlsProtocol> = { postgresql: 'postgres' };

/** `smtp`, `POSTGRESQL`, … as a protocol name, or undefined. */
export function startTlsProtocol(name: string): StartTlsProtocol | undefined {
  const key = name.toLowerCase();
  return Object.hasOwn(PROTOCOLS, key) ? (key as StartTlsProtocol) : ALIASES[key];
}

/** What a URL scheme means: its default port, and the protocol to negotiate (none for implicit TLS). */
export function urlScheme(scheme: string): { port: number; starttls?: StartTlsProtocol } | undefined {
  const s = scheme.toLowerCase();
  if (s === 'https') return { port: 443 };
  const protocol = startTlsProtocol(s);
  if (protocol) return { port: PROTOCOLS[protocol].port, starttls: protocol };
  const implicit = startTlsProtocol(s.slice(0, -1));
  const tlsPort = s.endsWith('s') && implicit ? (PROTOCOLS[implicit] as Protocol).tlsPort : undefined;
  return tlsPort ? { port: tlsPort } : undefined;
}

/** The schemes {@link urlScheme} knows, for error messages. */
export function knownSchemes(): string[] {
  const schemes = ['https'];
  for (const [name, p] of Object.entries(PROTOCOLS) as Array<[string, Protocol]>) schemes.push(name, ...(p.tlsPort ? [`${name}s`] : []));
  return [...schemes, ...Object.keys(ALIASES)];
}

/**
 * Runs the plaintext part of `protocol` on a connected socket, up to the point where the server
 * expects a TLS ClientHello. Rejects with an {@link UnavailableError} (`ERR_TLS_STARTTLS`) when the
 * server does not offer TLS, refuses it or answers nonsense; never reads more than
 * {@link MAX_PLAINTEXT} bytes. Timeouts are the caller's: destroy the socket.
 * @example
 * const { done } = negotiate(socket, 'smtp', 'mail.example.com:25', 'mail.example.com');
 * await done;
 * tls.connect({ socket, servername: 'mail.example.com' });
 */
export function negotiate(socket: Socket, protocol: StartTlsProtocol, where: string, domain: string): { done: Promise<void>; waitingFor: () => string } {
  const c = new Conversation(socket, where);
  const done = PROTOCOLS[protocol].negotiate(c, domain).then(() => c.finish());
  return { done, waitingFor: () => c.waitingFor };
}
