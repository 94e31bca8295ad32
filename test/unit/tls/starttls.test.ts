import { X509Certificate } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError, UsageError } from '../../../src/errors.js';
import { fetchChain, parseEndpoint, type StartTlsProtocol } from '../../../src/tls/remote.js';
import { MAX_PLAINTEXT } from '../../../src/tls/starttls.js';
import { serverCredentials, testCa } from '../../helpers/tls-servers.js';

describe('parseEndpoint', () => {
  it.each([
    ['example.com', { host: 'example.com', port: 443 }],
    ['example.com:8443', { host: 'example.com', port: 8443 }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['https://example.com/path', { host: 'example.com', port: 443 }],
    ['https://example.com:8443/', { host: 'example.com', port: 8443 }],
    ['smtp://mail.example.com', { host: 'mail.example.com', port: 25, starttls: 'smtp' }],
    ['smtp://mail.example.com:587', { host: 'mail.example.com', port: 587, starttls: 'smtp' }],
    ['SMTP://mail.example.com', { host: 'mail.example.com', port: 25, starttls: 'smtp' }],
    ['smtps://mail.example.com', { host: 'mail.example.com', port: 465 }],
    ['imap://mail.example.com', { host: 'mail.example.com', port: 143, starttls: 'imap' }],
    ['imaps://mail.example.com', { host: 'mail.example.com', port: 993 }],
    ['pop3://mail.example.com', { host: 'mail.example.com', port: 110, starttls: 'pop3' }],
    ['pop3s://mail.example.com', { host: 'mail.example.com', port: 995 }],
    ['ftp://files.example.com', { host: 'files.example.com', port: 21, starttls: 'ftp' }],
    ['ftps://files.example.com', { host: 'files.example.com', port: 990 }],
    ['ldap://[::1]', { host: '::1', port: 389, starttls: 'ldap' }],
    ['ldaps://dir.example.com', { host: 'dir.example.com', port: 636 }],
    ['postgres://db.example.com', { host: 'db.example.com', port: 5432, starttls: 'postgres' }],
    ['postgresql://app:secret@db.example.com:6432/app?sslmode=require', { host: 'db.example.com', port: 6432, starttls: 'postgres' }],
    ['mysql://127.0.0.1', { host: '127.0.0.1', port: 3306, starttls: 'mysql' }],
    ['xmpp://chat.example.com', { host: 'chat.example.com', port: 5222, starttls: 'xmpp' }],
    ['xmpps://chat.example.com', { host: 'chat.example.com', port: 5223 }],
  ])('%s', (target, endpoint) => {
    expect(parseEndpoint(target)).toEqual(endpoint);
  });

  it('applies a STARTTLS protocol to a bare host, with its default port', () => {
    expect(parseEndpoint('mail.example.com', 'smtp')).toEqual({ host: 'mail.example.com', port: 25, starttls: 'smtp' });
    expect(parseEndpoint('mail.example.com:2525', 'SMTP')).toEqual({ host: 'mail.example.com', port: 2525, starttls: 'smtp' });
    expect(parseEndpoint('[::1]', 'postgresql')).toEqual({ host: '::1', port: 5432, starttls: 'postgres' });
    expect(parseEndpoint('imap://mail.example.com', 'imap')).toEqual({ host: 'mail.example.com', port: 143, starttls: 'imap' });
  });

  it.each([
    ['mail.example.com', 'gopher', /unknown STARTTLS protocol "gopher"; supported: smtp, imap, pop3, ftp, ldap, postgres, mysql, xmpp$/],
    ['mail.example.com', '', /unknown STARTTLS protocol ""/],
    ['gopher://mail.example.com', undefined, /unknown scheme gopher:\/\/ .*supported: https, smtp, smtps, imap, imaps/],
    ['https://mail.example.com', 'smtp', /contradicts the scheme/],
    ['smtps://mail.example.com', 'smtp', /contradicts the scheme/],
    ['smtp://mail.example.com', 'imap', /contradicts the scheme/],
    ['smtp://', undefined, /no host|not a valid URL/],
    ['smtp://mail.example.com:70000', undefined, /bad port|not a valid URL/],
    ['mail.example.com:0', undefined, /bad port/],
    ['a:b:c', undefined, /not a file or host/],
  ])('refuses %s (starttls %s)', (target, starttls, message) => {
    let error: unknown;
    try {
      parseEndpoint(target, starttls);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'ERR_TLS_BAD_TARGET', message: expect.stringMatching(message) });
  });
});

/** The server side of a fake: reads what the client sends, answers by hand, then starts TLS. */
class Peer {
  private buffered = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  constructor(
    readonly socket: Socket,
    private readonly context: SecureContext,
  ) {
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }
  send(data: string | Buffer): void {
    this.socket.write(data);
  }
  private async take(length: (data: Buffer) => number): Promise<Buffer> {
    for (let n = length(this.buffered); ; n = length(this.buffered)) {
      if (n >= 0) {
        const out = this.buffered.subarray(0, n);
        this.buffered = this.buffered.subarray(n);
        return out;
      }
      await new Promise<void>((r) => (this.wake = r));
    }
  }
  async line(): Promise<string> {
    return (await this.take((d) => (d.indexOf(10) < 0 ? -1 : d.indexOf(10) + 1))).toString('latin1').trimEnd();
  }
  bytes(n: number): Promise<Buffer> {
    return this.take((d) => (d.length >= n ? n : -1));
  }
  async upTo(marker: string): Promise<string> {
    return (await this.take((d) => (d.includes(marker) ? d.indexOf(marker) + marker.length : -1))).toString('utf8');
  }
  /** Starts TLS; bytes already read (a MySQL client sends its ClientHello unasked) go to TLS first. */
  tls(): void {
    const raw = this.socket;
    raw.removeAllListeners('data');
    const stream = new Duplex({ read: () => undefined, write: (chunk, _encoding, done) => void raw.write(chunk, done), final: (done) => void raw.end(done) });
    stream.push(this.buffered);
    raw.on('data', (d: Buffer) => stream.push(d)).on('end', () => stream.push(null));
    new TLSSocket(stream, { isServer: true, secureContext: this.context }).on('error', () => undefined);
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('STARTTLS against in-process fakes', () => {
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let context: SecureContext;
  let leaf: X509Certificate;

  beforeAll(async () => {
    const ca = await testCa('starttls-unit');
    const credentials = await serverCredentials(ca, ['mail.example.test']);
    context = createSecureContext(credentials);
    leaf = new X509Certificate(credentials.cert);
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
  });

  /** A fake server running `script` for each connection; resolves to its port. */
  async function fake(script: (peer: Peer) => Promise<void>): Promise<number> {
    const server = createServer((socket) => {
      sockets.add(socket);
      script(new Peer(socket, context)).catch(() => socket.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return (server.address() as { port: number }).port;
  }

  const fetch = (port: number, starttls: StartTlsProtocol, timeoutMs = 2000) =>
    fetchChain({ host: '127.0.0.1', port, starttls, servername: 'mail.example.test' }, { timeoutMs });

  /** Fetches, and expects the fake's own certificate. */
  async function negotiates(port: number, starttls: StartTlsProtocol): Promise<void> {
    const peer = await fetch(port, starttls);
    expect(peer.chain[0]!.fingerprint256).toBe(leaf.fingerprint256);
  }

  /** Fetches, and expects the STARTTLS error with exactly this message after the address. */
  async function refused(port: number, starttls: StartTlsProtocol, message: string | RegExp): Promise<void> {
    const error = await fetch(port, starttls).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error).toMatchObject({ code: 'ERR_TLS_STARTTLS' });
    const text = (error as Error).message;
    expect(text.startsWith(`127.0.0.1:${port}: `)).toBe(true);
    const rest = text.slice(`127.0.0.1:${port}: `.length);
    if (typeof message === 'string') expect(rest).toBe(message);
    else expect(rest).toMatch(message);
  }

  describe('smtp', () => {
    it('reads a greeting split across packets and a multi-line EHLO reply, then starts TLS', async () => {
      const heard: string[] = [];
      const port = await fake(async (p) => {
        p.send('22');
        await pause(20);
        p.send('0-mail.example.test ESMTP\r\n');
        await pause(20);
        p.send('220 ready\r\n');
        heard.push(await p.line());
        p.send('250-mail.example.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n');
        heard.push(await p.line());
        p.send('220 2.0.0 Ready to start TLS\r\n');
        p.tls();
      });
      await negotiates(port, 'smtp');
      expect(heard).toEqual(['EHLO keysmith.invalid', 'STARTTLS']);
    });

    it('a server without STARTTLS in its EHLO reply', async () => {
      const port = await fake(async (p) => {
        p.send('220 mail.example.test ESMTP\r\n');
        await p.line();
        p.send('250-mail.example.test\r\n250 SIZE 1000\r\n');
        await p.line();
      });
      await refused(port, 'smtp', 'the server does not offer STARTTLS (EHLO)');
    });

    it('a server that answers STARTTLS with 454', async () => {
      const port = await fake(async (p) => {
        p.send('220 mail.example.test ESMTP\r\n');
        await p.line();
        p.send('250-mail.example.test\r\n250 STARTTLS\r\n');
        await p.line();
        p.send('454 4.7.0 TLS not available due to local problem\r\n');
      });
      await refused(port, 'smtp', 'the server refused STARTTLS: 454 4.7.0 TLS not available due to local problem');
    });

    it('a server that rejects the connection in its greeting', async () => {
      const port = await fake(async (p) => p.send('554 5.7.1 no thanks\r\n'));
      await refused(port, 'smtp', 'the server did not greet with 220: 554 5.7.1 no thanks');
    });

    it('garbage instead of a greeting', async () => {
      const port = await fake(async (p) => p.send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x0d, 0x0a])));
      await refused(port, 'smtp', 'unexpected reply instead of the greeting: ?????');
    });

    it('an endless line: gives up after the cap, not when memory runs out', async () => {
      const port = await fake(async (p) => p.send(Buffer.alloc(MAX_PLAINTEXT + 10_000, 'x')));
      await refused(port, 'smtp', `the server sent more than ${MAX_PLAINTEXT} bytes without the greeting`);
    });

    it('endless continuation lines: also capped', async () => {
      const port = await fake(async (p) => {
        for (let i = 0; i < 5000 && !p.socket.destroyed; i++) {
          p.send('220-still greeting you\r\n');
          if (i % 100 === 0) await pause(1);
        }
      });
      await refused(port, 'smtp', `the server sent more than ${MAX_PLAINTEXT} bytes without the greeting`);
    });

    it('a server that hangs up after the greeting', async () => {
      const port = await fake(async (p) => {
        p.send('220 mail.example.test ESMTP\r\n');
        await p.line();
        p.socket.end();
      });
      await refused(port, 'smtp', 'the server closed the connection before the reply to EHLO');
    });

    it('plaintext sent after the go-ahead is refused, not fed to TLS', async () => {
      const port = await fake(async (p) => {
        p.send('220 mail.example.test ESMTP\r\n');
        await p.line();
        p.send('250 STARTTLS\r\n');
        await p.line();
        p.send('220 go ahead\r\n250 injected\r\n');
      });
      await refused(port, 'smtp', 'the server sent data after the reply to STARTTLS');
    });

    it('a silent server times out, saying where it waited', async () => {
      const port = await fake(async () => undefined);
      await expect(fetch(port, 'smtp', 300)).rejects.toMatchObject({
        code: 'ERR_TLS_TIMEOUT',
        message: `127.0.0.1:${port}: no TLS handshake within 300 ms (smtp: waiting for the greeting)`,
      });
    });

    it('a server that trickles bytes forever still times out: the timeout covers the whole exchange', async () => {
      const port = await fake(async (p) => {
        while (!p.socket.destroyed) {
          p.send('220-slow\r\n');
          await pause(50);
        }
      });
      await expect(fetch(port, 'smtp', 400)).rejects.toMatchObject({ code: 'ERR_TLS_TIMEOUT' });
    });

    it('a server that goes quiet after STARTTLS times out in the handshake', async () => {
      const port = await fake(async (p) => {
        p.send('220 mail.example.test ESMTP\r\n');
        await p.line();
        p.send('250 STARTTLS\r\n');
        await p.line();
        p.send('220 go ahead\r\n');
      });
      await expect(fetch(port, 'smtp', 400)).rejects.toMatchObject({
        code: 'ERR_TLS_TIMEOUT',
        message: `127.0.0.1:${port}: no TLS handshake within 400 ms (after smtp STARTTLS)`,
      });
    });
  });

  describe('imap', () => {
    const greetAndCapabilities = async (p: Peer, capabilities: string) => {
      p.send('* OK [CAPABILITY IMAP4rev1] ready\r\n');
      expect(await p.line()).toBe('a1 CAPABILITY');
      p.send(`* CAPABILITY ${capabilities}\r\n* OK still here\r\na1 OK done\r\n`);
    };

    it('reads untagged lines up to the tagged reply, then starts TLS', async () => {
      const port = await fake(async (p) => {
        await greetAndCapabilities(p, 'IMAP4rev1 STARTTLS LOGINDISABLED');
        expect(await p.line()).toBe('a2 STARTTLS');
        p.send('a2 OK Begin TLS negotiation now\r\n');
        p.tls();
      });
      await negotiates(port, 'imap');
    });

    it('a server that answers NO', async () => {
      const port = await fake(async (p) => {
        await greetAndCapabilities(p, 'IMAP4rev1 STARTTLS');
        await p.line();
        p.send('a2 NO [UNAVAILABLE] TLS is broken today\r\n');
      });
      await refused(port, 'imap', 'the server refused STARTTLS: a2 NO [UNAVAILABLE] TLS is broken today');
    });

    it('a server without STARTTLS among its capabilities', async () => {
      const port = await fake(async (p) => greetAndCapabilities(p, 'IMAP4rev1 AUTH=PLAIN'));
      await refused(port, 'imap', 'the server does not offer STARTTLS (CAPABILITY)');
    });

    it('a PREAUTH or BYE greeting', async () => {
      const port = await fake(async (p) => p.send('* BYE too many connections\r\n'));
      await refused(port, 'imap', 'the server did not greet with OK: * BYE too many connections');
    });
  });

  describe('pop3', () => {
    it('reads the CAPA list, then STLS', async () => {
      const port = await fake(async (p) => {
        p.send('+OK POP3 ready\r\n');
        expect(await p.line()).toBe('CAPA');
        p.send('+OK\r\nUSER\r\nSTLS\r\nSASL PLAIN\r\n.\r\n');
        expect(await p.line()).toBe('STLS');
        p.send('+OK Begin TLS\r\n');
        p.tls();
      });
      await negotiates(port, 'pop3');
    });

    it('a server without CAPA is asked anyway, and its -ERR reported', async () => {
      const port = await fake(async (p) => {
        p.send('+OK POP3 ready\r\n');
        await p.line();
        p.send('-ERR unknown command\r\n');
        await p.line();
        p.send('-ERR TLS not configured\r\n');
      });
      await refused(port, 'pop3', 'the server refused STLS: -ERR TLS not configured');
    });

    it('a CAPA list without STLS', async () => {
      const port = await fake(async (p) => {
        p.send('+OK POP3 ready\r\n');
        await p.line();
        p.send('+OK\r\nUSER\r\n.\r\n');
      });
      await refused(port, 'pop3', 'the server does not offer STARTTLS (CAPA)');
    });
  });

  describe('ftp', () => {
    it('reads a multi-line greeting with free text, then AUTH TLS', async () => {
      const port = await fake(async (p) => {
        p.send('220-Welcome to the archive\r\n  mirrors: many\r\n230 is free text here, not the end\r\n220 ready\r\n');
        expect(await p.line()).toBe('AUTH TLS');
        p.send('234 AUTH TLS OK.\r\n');
        p.tls();
      });
      await negotiates(port, 'ftp');
    });

    it('waits through a 120 "ready soon" greeting', async () => {
      const port = await fake(async (p) => {
        p.send('120 ready in 1 minute\r\n');
        await pause(20);
        p.send('220 ready now\r\n');
        await p.line();
        p.send('234 go\r\n');
        p.tls();
      });
      await negotiates(port, 'ftp');
    });

    it('a server that refuses AUTH TLS', async () => {
      const port = await fake(async (p) => {
        p.send('220 ready\r\n');
        await p.line();
        p.send('502 Command not implemented.\r\n');
      });
      await refused(port, 'ftp', 'the server refused AUTH TLS: 502 Command not implemented.');
    });
  });

  describe('ldap', () => {
    // LDAPMessage { 1, extendedResp { resultCode, matchedDN "", diagnosticMessage } }
    const response = (code: number, diagnostic = '') => {
      const diag = Buffer.from(diagnostic);
      const op = Buffer.concat([Buffer.from([0x0a, 0x01, code, 0x04, 0x00, 0x04, diag.length]), diag]);
      const body = Buffer.concat([Buffer.from([0x02, 0x01, 0x01, 0x78, op.length]), op]);
      return Buffer.concat([Buffer.from([0x30, body.length]), body]);
    };

    it('sends the StartTLS extended request, reads a response split across packets', async () => {
      const port = await fake(async (p) => {
        const request = await p.bytes(31);
        expect(request.toString('hex')).toBe(Buffer.concat([Buffer.from('301d02010177188016', 'hex'), Buffer.from('1.3.6.1.4.1.1466.20037')]).toString('hex'));
        const answer = response(0);
        p.send(answer.subarray(0, 3));
        await pause(20);
        p.send(answer.subarray(3));
        p.tls();
      });
      await negotiates(port, 'ldap');
    });

    it('a server that does not know the operation', async () => {
      const port = await fake(async (p) => {
        await p.bytes(31);
        p.send(response(2, 'unsupported extended operation'));
      });
      await refused(port, 'ldap', 'the server refused StartTLS: protocolError (2): unsupported extended operation');
    });

    it('an LDAP message that is not an extended response', async () => {
      const port = await fake(async (p) => {
        await p.bytes(31);
        p.send(Buffer.from('300c02010165070a010004000400', 'hex')); // searchResDone
      });
      await refused(port, 'ldap', 'unexpected reply instead of the StartTLS response: not an extended response');
    });

    it('a reply that is not an LDAP message', async () => {
      const port = await fake(async (p) => {
        await p.bytes(31);
        p.send('HTTP/1.1 400 Bad Request\r\n\r\n');
      });
      await refused(port, 'ldap', /^unexpected reply instead of the StartTLS response/);
    });
  });

  describe('postgres', () => {
    it('sends SSLRequest and starts TLS on S', async () => {
      const port = await fake(async (p) => {
        expect((await p.bytes(8)).toString('hex')).toBe('0000000804d2162f');
        p.send('S');
        p.tls();
      });
      await negotiates(port, 'postgres');
    });

    it('a server that answers N', async () => {
      const port = await fake(async (p) => {
        await p.bytes(8);
        p.send('N');
      });
      await refused(port, 'postgres', 'the server does not offer SSL (it answered N to SSLRequest)');
    });

    it('an error message instead (a pre-7.0 server, or not PostgreSQL)', async () => {
      const port = await fake(async (p) => {
        await p.bytes(8);
        p.send('EFATAL: unsupported frontend protocol\0');
      });
      await refused(port, 'postgres', 'unexpected answer to SSLRequest: E');
    });
  });

  describe('mysql', () => {
    /** A protocol-10 initial handshake packet with these low capability bits. */
    const handshake = (capabilities: number) => {
      const payload = Buffer.concat([
        Buffer.from([10]),
        Buffer.from('8.0.36\0'),
        Buffer.from([1, 0, 0, 0]), // connection id
        Buffer.alloc(8, 0x61), // auth-plugin-data part 1
        Buffer.from([0]),
        Buffer.from([capabilities & 0xff, capabilities >> 8]),
        Buffer.from([0x21, 2, 0, 0xff, 0xc3, 21]),
        Buffer.alloc(10),
        Buffer.alloc(13, 0x62),
        Buffer.from('caching_sha2_password\0'),
      ]);
      return Buffer.concat([Buffer.from([payload.length & 0xff, payload.length >> 8, 0, 0]), payload]);
    };

    it('answers a handshake offering SSL with an SSLRequest packet', async () => {
      const port = await fake(async (p) => {
        p.send(handshake(0xffff));
        const request = await p.bytes(36);
        expect(request.readUIntLE(0, 3)).toBe(32);
        expect(request[3]).toBe(1); // sequence id
        expect(request.readUInt32LE(4) & 0x800).toBe(0x800); // CLIENT_SSL
        p.tls();
      });
      await negotiates(port, 'mysql');
    });

    it('a server without the SSL capability', async () => {
      const port = await fake(async (p) => p.send(handshake(0xffff & ~0x800)));
      await refused(port, 'mysql', 'the server does not offer SSL (handshake capabilities)');
    });

    it('a server that refuses the connection with an error packet', async () => {
      const port = await fake(async (p) => {
        const payload = Buffer.concat([Buffer.from([0xff, 0x6a, 0x04]), Buffer.from("#HY000Host '10.1.2.3' is not allowed to connect")]);
        p.send(Buffer.concat([Buffer.from([payload.length, 0, 0, 0]), payload]));
      });
      await refused(port, 'mysql', "the server refused the connection: 1130 Host '10.1.2.3' is not allowed to connect");
    });

    it('a handshake too short to hold capabilities', async () => {
      const port = await fake(async (p) => p.send(Buffer.from([3, 0, 0, 0, 10, 0x38, 0])));
      await refused(port, 'mysql', 'the server sent a truncated handshake');
    });
  });

  describe('xmpp', () => {
    const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='1' from='mail.example.test' version='1.0'>";

    it('opens a stream to the server name, asks for <starttls/> and starts TLS on <proceed/>', async () => {
      let opened = '';
      const port = await fake(async (p) => {
        opened = await p.upTo("version='1.0'>");
        p.send(header);
        await pause(20);
        p.send("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>");
        expect(await p.upTo('/>')).toBe("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        p.send("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        p.tls();
      });
      await negotiates(port, 'xmpp');
      expect(opened).toContain("to='mail.example.test'");
    });

    it('stream features without <starttls/>', async () => {
      const port = await fake(async (p) => {
        await p.upTo("version='1.0'>");
        p.send(`${header}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>`);
      });
      await refused(port, 'xmpp', 'the server does not offer STARTTLS (stream features)');
    });

    it('a stream error', async () => {
      const port = await fake(async (p) => {
        await p.upTo("version='1.0'>");
        p.send(`${header}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`);
      });
      await refused(port, 'xmpp', 'the server closed the stream: host-unknown');
    });
  });
});
