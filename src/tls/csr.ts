import { UsageError } from '../errors.js';
import { generateKeyPair, keyAlgorithm, privateKeyPem } from './keys.js';
import { parseSan } from './names.js';
import { loadX509 } from './x509.js';

/**
 * A new key and a PKCS#10 request for names, for a CA elsewhere (or `keysmith tls sign`).
 * @example const { csrPem, keyPem } = await createRequest(['example.test'], {})
 */
export async function createRequest(names: string[], options: { key?: string }): Promise<{ csrPem: string; keyPem: string }> {
  if (names.length === 0) throw new UsageError('name at least one host name, IP address, email address or URI');
  const sans = names.map(parseSan);
  const x509 = await loadX509();
  const algorithm = keyAlgorithm(options.key ?? 'ec:p256');
  const keys = await generateKeyPair(algorithm);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${names[0]!.replace(/[,+=<>#;"\\]/g, '\\$&')}`,
    keys,
    signingAlgorithm: algorithm.sign,
    extensions: [new x509.SubjectAlternativeNameExtension(sans.map((s) => ({ type: s.type, value: s.value })))],
  });
  return { csrPem: csr.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}
