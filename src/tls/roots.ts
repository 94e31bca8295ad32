import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { UsageError } from '../errors.js';
import { TrustStore } from './validate.js';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The roots keysmith trusts: Node's bundled store, the OS bundle, NODE_EXTRA_CA_CERTS and, when
 * given, `caFile` (a usage error when it cannot be read or holds no certificate).
 */
export async function loadTrustStore(env: NodeJS.ProcessEnv, caFile?: string): Promise<TrustStore> {
  const roots = [...rootCertificates];
  for (const file of [...SYSTEM_BUNDLES, env.NODE_EXTRA_CA_CERTS].filter((f): f is string => !!f)) {
    roots.push(...((await readFile(file, 'utf8').catch(() => '')).match(PEM_CERT) ?? []));
  }
  if (caFile) {
    const text = await readFile(caFile, 'utf8').catch((err: Error) => {
      throw new UsageError(`--ca-file: cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
    const pems = text.match(PEM_CERT);
    if (!pems) throw new UsageError(`--ca-file: no PEM certificate in ${caFile}`);
    roots.push(...pems);
  }
  // The OS bundle and NODE_EXTRA_CA_CERTS often repeat Node's own, laid out differently: parse each root once.
  const unique = new Set(roots.map((pem) => pem.replace(/-----[^-]+-----|\s+/g, '')));
  return new TrustStore([...unique].map((base64) => Buffer.from(base64, 'base64')));
}
