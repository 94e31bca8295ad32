import type { X509Certificate } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect, type SecureContext } from 'node:tls';
import { UnavailableError, UsageError } from '../errors.js';
import { knownSchemes, negotiate, PROTOCOLS, startTlsProtocol, urlScheme, type StartTlsProtocol } from './starttls.js';
import { isIP } from './names.js';

export type { StartTlsProtocol } from './starttls.js';

export interface Endpoint {
  host: string;
  port: number;
  servername?: string;
  /** The plaintext protocol to speak before the TLS handshake, if any. */
  starttls?: StartTlsProtocol;
}

/**
 * A host to connect to: `host`, `host:port`, `[::1]:443`, or a URL whose scheme says how — `https://`,
 * the STARTTLS ones (`smtp://`, `imap://`, `pop3://`, `ftp://`, `ldap://`, `postgres://`,
 * `postgresql://`, `mysql://`, `xmpp://`) and the implicit-TLS ones (`smtps://`, `imaps://`,
 * `pop3s://`, `ftps://`, `ldaps://`, `xmpps://`), each with its usual port. `starttls` names a
 * protocol for a bare host, whose port then defaults to that protocol's. Port 443 otherwise.
 * @example parseEndpoint('smtp://mail.example.com:587') // { host: 'mail.example.com', port: 587, starttls: 'smtp' }
 * @example parseEndpoint('db.example.com', 'postgres')   // { host: 'db.example.com', port: 5432, starttls: 'postgres' }
 */
export function parseEndpoint(target: string, starttls?: string): Endpoint {
  const bad = (message: string) => new UsageError(message, undefined, 'ERR_TLS_BAD_TARGET');
  let protocol: StartTlsProtocol | undefined;
  if (starttls !== undefined) {
    protocol = startTlsProtocol(starttls);
    if (!protocol) throw bad(`unknown STARTTLS protocol ${JSON.stringify(starttls)}; supported: ${Object.keys(PROTOCOLS).join(', ')}`);
  }
  let host: string;
  let port: number;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(target)?.[1];
  if (scheme) {
    const known = urlScheme(scheme);
    if (!known) throw bad(`unknown scheme ${scheme}:// in ${JSON.stringify(target)}; supported: ${knownSchemes().join(', ')}`);
    if (protocol && protocol !== known.starttls) throw bad(`STARTTLS protocol ${protocol} contradicts the scheme of ${JSON.stringify(target)}`);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw bad(`not a valid URL: ${JSON.stringify(target)}`);
    }
    host = url.hostname.replace(/^\[|\]$/g, '');
    port = url.port ? Number(url.port) : known.port;
    protocol = known.starttls;
  } else {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(target) ?? /^([^:]+)(?::(\d+))?$/.exec(target);
    if (!m) throw bad(`not a file or host[:port]: ${JSON.stringify(target)}`);
    host = m[1]!;
    port = m[2] ? Number(m[2]) : protocol ? PROTOCOLS[protocol].port : 443;
  }
  if (!host) throw bad(`no host in ${JSON.stringify(target)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad(`bad port in ${JSON.stringify(target)}`);
  return { host, port, ...(protocol ? { starttls: protocol } : {}) };
}

export interface PeerChain {
  /** Leaf first, as the server sent them. */
  chain: X509Certificate[];
  /** The DER OCSP response the server stapled, when asked for with `requestOcsp`. */
  ocspResponse?: Uint8Array;
}

/**
 * An OpenSSL error as one line for people: `…:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert
 * handshake failure:../ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n` becomes `TLS handshake
 * failed: sslv3 alert handshake failure (alert 40)`.
 */
function oneLine(err: Error): string {
  const ssl = /error:[0-9A-F]+:SSL routines:[^:]*:([^:\n]+)/.exec(err.message);
  if (!ssl) return err.message.split('\n')[0]!.trim();
  const alert = /SSL alert number (\d+)/.exec(err.message);
  return `TLS handshake failed: ${ssl[1]}${alert ? ` (alert ${alert[1]})` : ''}`;
}

/**
 * Connects with SNI (after the STARTTLS exchange when `endpoint.starttls` is set), reads the
 * certificate chain the server sends (and its stapled OCSP response, with `requestOcsp`). Never
 * hangs: `timeoutMs` covers connect, STARTTLS and handshake together.
 * A server that will not start TLS is an UnavailableError with code `ERR_TLS_STARTTLS`.
 * @example const { chain } = await fetchChain(parseEndpoint('imap://mail.example.com'), { timeoutMs: 10_000 });
 */
export function fetchChain(endpoint: Endpoint, options: { timeoutMs: number; secureContext?: SecureContext; requestOcsp?: boolean }): Promise<PeerChain> {
  // SNI carries host names only (RFC 6066 §3): an IP is not sent (Node warns, DEP0123).
  const name = endpoint.servername ?? endpoint.host;
  const servername = isIP(name.replace(/^\[|\]$/g, '')) ? undefined : name;
  const where = `${endpoint.host}:${endpoint.port}`;
  return new Promise((resolve, reject) => {
    // The outermost socket: the TLS one once it wraps the plaintext one. Destroying the inner one
    // as well, after TLS took over its handle, crashes Node 20 (SIGSEGV).
    let outer: Socket | undefined;
    let stage = () => '';
    let settled = false;
    const settle = (err: Error | undefined, result?: PeerChain) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outer?.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const timer = setTimeout(() => {
      settle(new UnavailableError(`${where}: no TLS handshake within ${options.timeoutMs} ms${stage()}`, undefined, 'ERR_TLS_TIMEOUT'));
    }, options.timeoutMs);
    const onError = (err: Error) => settle(new UnavailableError(`${where}: ${oneLine(err)}`, { cause: err }, 'ERR_TLS_CONNECT'));

    const handshake = (transport: { port: number } | { socket: Socket }) => {
      // `host` also names the peer for the identity check when there is no servername (an IP).
      const socket = connect({
        host: endpoint.host,
        ...transport,
        ...(servername ? { servername } : {}),
        rejectUnauthorized: false,
        ...(options.secureContext ? { secureContext: options.secureContext } : {}),
        ...(options.requestOcsp ? { requestOCSP: true } : {}),
      });
      outer = socket;
      socket.on('error', onError);
      let staple: Buffer | undefined;
      socket.once('OCSPResponse', (response: Buffer) => (staple = response));
      socket.once('secureConnect', () => {
        // getPeerX509Certificate is native and cheap; getPeerCertificate(true) builds JS objects for the whole chain.
        const chain: X509Certificate[] = [];
        for (let c = socket.getPeerX509Certificate(); c && chain.length < 10 && !chain.some((k) => k.fingerprint256 === c!.fingerprint256); c = c.issuerCertificate) {
          chain.push(c);
        }
        // Trust is judged by src/tls/validate.ts, as for files: Node's own verdict is not read.
        const result: PeerChain = { chain };
        if (staple?.length) result.ocspResponse = staple;
        settle(undefined, result);
      });
    };

    const protocol = endpoint.starttls;
    if (!protocol) return handshake({ port: endpoint.port });
    const plain = connectTcp({ host: endpoint.host, port: endpoint.port });
    outer = plain;
    plain.on('error', onError);
    stage = () => ` (${protocol}: connecting)`;
    plain.once('connect', () => {
      const { done, waitingFor } = negotiate(plain, protocol, where, servername ?? endpoint.host);
      stage = () => ` (${protocol}: waiting for ${waitingFor()})`;
      done.then(
        () => {
          if (settled) return;
          stage = () => ` (after ${protocol} STARTTLS)`;
          handshake({ socket: plain });
        },
        (err: Error) => settle(err),
      );
    });
  });
}
