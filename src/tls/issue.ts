import { invalidOption, NotFoundError, UsageError } from '../errors.js';
import type { SecretRecord, Vault } from '../vault/types.js';
import { randomSerial, type CertificateAuthority } from './ca.js';
import { generateKeyPair, keyAlgorithm, privateKeyPem } from './keys.js';
import { parseSan, type San } from './names.js';
import { pemBlocks } from './pem.js';

export interface LeafOptions {
  days?: number;
  /** Add clientAuth to the extended key usage (mutual TLS). */
  client?: boolean;
  now: Date;
}

export interface IssuedCertificate {
  certificatePem: string;
  /** Absent when signing a CSR: the requester keeps the key. */
  keyPem?: string;
  names: San[];
  notAfter: Date;
}

async function leafExtensions(ca: CertificateAuthority, publicKey: CryptoKey, sans: San[], rsa: boolean, client: boolean) {
  const { x509 } = ca;
  const usage = x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  const eku = [x509.ExtendedKeyUsage.serverAuth, ...(client ? [x509.ExtendedKeyUsage.clientAuth] : [])];
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(usage, true),
    new x509.ExtendedKeyUsageExtension(eku),
    new x509.SubjectAlternativeNameExtension(sans.map((s) => ({ type: s.type, value: s.value }))),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(await ca.certificate.publicKey.export()),
  ];
}

async function sign(ca: CertificateAuthority, subject: string, publicKey: CryptoKey, sans: San[], rsa: boolean, options: LeafOptions) {
  const notAfter = new Date(options.now.getTime() + (options.days ?? 397) * 86_400_000);
  if (notAfter > ca.certificate.notAfter) {
    throw invalidOption('days', `the certificate would outlive its CA (valid until ${ca.certificate.notAfter.toISOString()})`, {}, 'ERR_TLS_OUTLIVES_CA');
  }
  const certificate = await ca.x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca.certificate.subject,
    notBefore: options.now,
    notAfter,
    publicKey,
    signingKey: ca.key,
    signingAlgorithm: ca.algorithm.sign,
    extensions: await leafExtensions(ca, publicKey, sans, rsa, options.client ?? false),
  });
  return { certificatePem: certificate.toString('pem') + '\n', notAfter };
}

const cn = (s: string) => `CN=${s.replace(/[,+=<>#;"\\]/g, '\\$&')}`;

/**
 * Issues a leaf certificate for names (DNS, IP, email, URI) with a new key (ECDSA P-256 unless
 * said otherwise), signed by the CA.
 * @example const { certificatePem, keyPem } = await issueCertificate(ca, ['example.test', '127.0.0.1'], { now: new Date() })
 */
export async function issueCertificate(ca: CertificateAuthority, names: string[], options: LeafOptions & { key?: string }): Promise<IssuedCertificate> {
  if (names.length === 0) throw new UsageError('name at least one host name, IP address, email address or URI');
  const sans = names.map(parseSan);
  const algorithm = keyAlgorithm(options.key ?? 'ec:p256');
  const keys = await generateKeyPair(algorithm);
  const { certificatePem, notAfter } = await sign(ca, cn(names[0]!), keys.publicKey, sans, algorithm.rsa, options);
  return { certificatePem, keyPem: await privateKeyPem(keys.privateKey), names: sans, notAfter };
}

/**
 * Signs a PKCS#10 request: its signature is checked, and only its subject, key and requested names
 * are taken (the CA decides usages and lifetime).
 */
const REQUEST_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

export async function signRequest(ca: CertificateAuthority, request: Uint8Array, options: LeafOptions): Promise<IssuedCertificate> {
  const { x509 } = ca;
  const text = Buffer.from(request).toString('latin1');
  let csr: InstanceType<typeof x509.Pkcs10CertificateRequest>;
  try {
    // PEM is read by its label (RFC 7468 §7), as openssl req does: a certificate or a key is not a request.
    const pem = text.includes('-----BEGIN') ? pemBlocks(text).find((b) => REQUEST_LABELS.includes(b.label)) : undefined;
    if (text.includes('-----BEGIN') && !pem) throw new Error('no CERTIFICATE REQUEST block');
    csr = new x509.Pkcs10CertificateRequest(pem ? Buffer.from(pem.base64, 'base64') : new Uint8Array(request));
  } catch (cause) {
    throw new UsageError('not a PKCS#10 certificate request (PEM or DER)', { cause }, 'ERR_TLS_BAD_CSR');
  }
  const invalid = new UsageError('the request signature does not verify; nothing was signed', undefined, 'ERR_TLS_BAD_CSR');
  if (!(await csr.verify().catch(() => false))) throw invalid;
  const ext = csr.getExtension('2.5.29.17');
  const requested = ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined;
  let sans: San[] = (requested?.names.toJSON() ?? [])
    .filter((n) => ['dns', 'ip', 'email', 'url'].includes(n.type))
    .map((n) => ({ type: n.type as San['type'], value: n.value }));
  if (sans.length === 0) {
    const common = csr.subjectName.getField('CN')[0];
    if (!common) throw new UsageError('the request names no host (no subjectAltName and no CN)', undefined, 'ERR_TLS_BAD_CSR');
    sans = [parseSan(common)];
  }
  const publicKey = await csr.publicKey.export();
  const rsa = publicKey.algorithm.name.startsWith('RSA');
  const { certificatePem, notAfter } = await sign(ca, csr.subject, publicKey, sans, rsa, options);
  return { certificatePem, names: sans, notAfter };
}

/** The vault name of an issued certificate: its file stem, `+` (not allowed in names) as `_`. */
export const certRecordName = (stem: string) => `tls/cert/${stem.replace(/\+/g, '_')}`;

/** How a certificate was issued and where it was written: what `tls renew` needs to do it again. */
export interface IssueParameters {
  files: { certificate: string; key: string };
  key: string;
  /** A local CA's certificate: its lifetime and usages. */
  days?: number;
  client?: boolean;
  /** An ACME CA's: the directory and the challenge answered. */
  acme?: { directory: string; challenge: import('./acme.js').Challenge };
}

/** Keeps an issued certificate, its key and its CA chain in the vault, for `keysmith tls export` (and, with how it was issued, `tls renew`). */
export async function recordIssued(vault: Vault, stem: string, issuer: { name: string; chain: string[] }, issued: IssuedCertificate, now: Date, issuedWith?: IssueParameters): Promise<void> {
  const at = now.toISOString();
  const record: SecretRecord = {
    kind: 'tls-cert',
    value: issued.keyPem!,
    fields: {},
    created: at,
    updated: at,
    meta: { certificate: issued.certificatePem, chain: issuer.chain, ca: issuer.name, names: issued.names, notAfter: issued.notAfter.toISOString(), ...issuedWith },
  };
  await vault.set(certRecordName(stem), record);
}

/** An issued certificate kept in the vault: key, certificate, chain. */
export async function loadIssued(vault: Vault, stem: string): Promise<{ keyPem: string; certificatePem: string; chain: string[] }> {
  let record: SecretRecord;
  try {
    record = await vault.get(certRecordName(stem));
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`no issued certificate named ${stem}`, { hint: 'names are those issued certificates are kept under (e.g. example.test+2), in the vault as tls/cert/…', detail: { kind: 'no-issued-certificate', name: stem } }, 'ERR_TLS_NO_CERT');
    throw err;
  }
  const meta = record.meta as { certificate?: string; chain?: string[] } | undefined;
  if (record.kind !== 'tls-cert' || !meta?.certificate) throw new UsageError(`${certRecordName(stem)} is not an issued certificate`, undefined, 'ERR_TLS_NO_CERT');
  return { keyPem: record.value, certificatePem: meta.certificate, chain: meta.chain ?? [] };
}
