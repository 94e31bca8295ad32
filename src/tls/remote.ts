import type { X509Certificate } from 'node:crypto';
import { connect, type SecureContext } from 'node:tls';
import { UnavailableError, UsageError } from '../errors.js';

export interface Endpoint {
  host: string;
  port: number;
  servername?: string;
}

/** `host`, `host:port`, `[::1]:443` or `https://host[:port]/…`; port 443 by default. */
export function parseEndpoint(target: string): Endpoint {
  let host = target;
  let port = 443;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const url = new URL(target);
    host = url.hostname.replace(/^\[|\]$/g, '');
    port = url.port ? Number(url.port) : 443;
  } else {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(target) ?? /^([^:]+)(?::(\d+))?$/.exec(target);
    if (!m) throw new UsageError(`not a file or host[:port]: ${JSON.stringify(target)}`, undefined, 'ERR_TLS_BAD_TARGET');
    host = m[1]!;
    if (m[2]) port = Number(m[2]);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`bad port in ${JSON.stringify(target)}`, undefined, 'ERR_TLS_BAD_TARGET');
  return { host, port };
}

export interface PeerChain {
  /** Leaf first, as the server sent them. */
  chain: X509Certificate[];
  /** Whether Node's trust store (plus the extra CAs) accepted the chain for this name. */
  trusted: boolean;
  trustError?: string;
}

/**
 * Connects with SNI, reads the certificate chain the server sends, and says whether it is trusted.
 * Never hangs: the timeout covers connect and handshake.
 */
export function fetchChain(endpoint: Endpoint, options: { timeoutMs: number; secureContext?: SecureContext }): Promise<PeerChain> {
  const servername = endpoint.servername ?? (/^[\d.:]+$/.test(endpoint.host) ? undefined : endpoint.host);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: false,
      ...(options.secureContext ? { secureContext: options.secureContext } : {}),
    });
    const where = `${endpoint.host}:${endpoint.port}`;
    socket.setTimeout(options.timeoutMs, () => {
      socket.destroy();
      reject(new UnavailableError(`${where}: no TLS handshake within ${options.timeoutMs} ms`, undefined, 'ERR_TLS_TIMEOUT'));
    });
    socket.once('error', (err) => reject(new UnavailableError(`${where}: ${err.message}`, { cause: err }, 'ERR_TLS_CONNECT')));
    socket.once('secureConnect', () => {
      // getPeerX509Certificate is native and cheap; getPeerCertificate(true) builds JS objects for the whole chain.
      const chain: X509Certificate[] = [];
      for (let c = socket.getPeerX509Certificate(); c && chain.length < 10 && !chain.some((k) => k.fingerprint256 === c!.fingerprint256); c = c.issuerCertificate) {
        chain.push(c);
      }
      const result: PeerChain = { chain, trusted: socket.authorized };
      if (socket.authorizationError) result.trustError = String(socket.authorizationError);
      socket.destroy();
      resolve(result);
    });
  });
}
