import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { createCa, type CertificateAuthority } from '../../src/tls/ca.js';
import { issueCertificate } from '../../src/tls/issue.js';
import type { SecretRecord, Vault } from '../../src/vault/types.js';
import { NotFoundError } from '../../src/errors.js';

/** An in-memory vault: a fake of our own seam, for making test CAs. */
export function memoryVault(): Vault {
  const records = new Map<string, SecretRecord>();
  return {
    get: async (name) => {
      const r = records.get(name);
      if (!r) throw new NotFoundError(name);
      return r;
    },
    set: async (name, record) => void records.set(name, record),
    delete: async (name) => records.delete(name),
    list: async () => [],
    describe: () => ({ backend: 'file', location: 'memory', writable: true }),
  };
}

export async function testCa(name: string): Promise<CertificateAuthority> {
  return createCa(memoryVault(), name, { now: new Date(Date.now() - 1000 * 86_400_000), days: 3650 });
}

/** A certificate for `names` from `ca`, valid from `start` for `days`: what a server sends. */
export async function serverCredentials(ca: CertificateAuthority, names: string[], options: { start?: Date; days?: number } = {}) {
  const issued = await issueCertificate(ca, names, { now: options.start ?? new Date(), days: options.days ?? 90 });
  return { cert: issued.certificatePem + ca.certificatePem, key: issued.keyPem! };
}

/** A TLS server on 127.0.0.1 with these credentials. */
export async function serve(credentials: { cert: string; key: string }): Promise<{ port: number; server: Server }> {
  const server = createServer(credentials, (s) => s.end());
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

export async function tlsServer(ca: CertificateAuthority, names: string[], options: { start?: Date; days?: number } = {}) {
  return serve(await serverCredentials(ca, names, options));
}

/** Accepts TCP connections and never answers: a TLS client must time out. */
export async function silentServer(): Promise<{ port: number; server: NetServer }> {
  const server = createNetServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

/**
 * An address where nothing listens, ever: tests only listen on 127.0.0.1, so 127.0.0.2 (also
 * loopback) refuses every connection — no other test can take the port meanwhile.
 */
let nextClosed = 40_000;
export function closedTarget(): string {
  return `127.0.0.2:${nextClosed++}`;
}
