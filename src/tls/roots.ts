import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { UsageError } from '../errors.js';
import { pemCertificates } from './pem.js';
import { TrustStore } from './validate.js';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * The roots keysmith trusts: Node's bundled store, the OS bundle, NODE_EXTRA_CA_CERTS and, when
 * given, `caFile` (a usage error when it cannot be read or holds no certificate).
 */
export async function loadTrustStore(env: NodeJS.ProcessEnv, caFile?: string): Promise<TrustStore> {
  const roots = rootCertificates.flatMap((pem) => pemCertificates(pem));
  for (const file of [...SYSTEM_BUNDLES, env.NODE_EXTRA_CA_CERTS].filter((f): f is string => !!f)) {
    roots.push(...pemCertificates(await readFile(file, 'latin1').catch(() => '')));
  }
  if (caFile) {
    const text = await readFile(caFile, 'latin1').catch((err: Error) => {
      throw new UsageError(`--ca-file: cannot read ${caFile}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    });
    const found = pemCertificates(text);
    if (found.length === 0) throw new UsageError(`--ca-file: no PEM certificate in ${caFile}`);
    roots.push(...found);
  }
  // The OS bundle and NODE_EXTRA_CA_CERTS often repeat Node's own: parse each root once.
  return new TrustStore([...new Set(roots)].map((base64) => Buffer.from(base64, 'base64')));
}
