import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { invalidOption } from '../errors.js';
import { readUserFile } from '../fs.js';
import { MAX_PEM_BYTES, pemCertificates } from './pem.js';
import { TrustStore } from './validate.js';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * The roots keysmith trusts: Node's bundled store, the OS bundle, NODE_EXTRA_CA_CERTS and, when
 * given, `caFile` (a usage error when it cannot be read or holds no certificate).
 */
export async function loadTrustStore(env: NodeJS.ProcessEnv, caFile?: string): Promise<TrustStore> {
  const roots = rootCertificates.flatMap((pem) => pemCertificates(pem));
  for (const file of [...SYSTEM_BUNDLES, env.NODE_EXTRA_CA_CERTS].filter((f): f is string => !!f)) {
    try {
      roots.push(...pemCertificates(await readFile(file, 'latin1')));
    } catch {
      // Missing on this OS, or damaged: Node's own roots remain, and OpenSSL would skip it too.
    }
  }
  if (caFile) {
    const text = (await readUserFile(caFile, { maxBytes: MAX_PEM_BYTES }).catch((err: Error) => {
      throw invalidOption('caFile', err.message);
    })).toString('latin1');
    let found: string[];
    try {
      found = pemCertificates(text);
    } catch (err) {
      throw invalidOption('caFile', `${caFile}: ${(err as Error).message}`);
    }
    if (found.length === 0) throw invalidOption('caFile', `no PEM certificate in ${caFile}`);
    roots.push(...found);
  }
  // The OS bundle and NODE_EXTRA_CA_CERTS often repeat Node's own: parse each root once.
  return new TrustStore([...new Set(roots)].map((base64) => Buffer.from(base64, 'base64')));
}
