import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { invalidOption, NotFoundError, UsageError } from '../errors.js';
import { findSecret } from '../vault/secrets.js';
import type { SecretRecord, Vault } from '../vault/types.js';
import { generateKeyPair, importPrivateKey, keyAlgorithm, privateKeyPem, type KeyAlgorithm } from './keys.js';
import { loadX509, type X509 } from './x509.js';

/** A CA as kept in the vault: its private key never leaves it, except in `vault export`. */
export interface CertificateAuthority {
  name: string;
  certificatePem: string;
  certificate: InstanceType<X509['X509Certificate']>;
  key: CryptoKey;
  algorithm: KeyAlgorithm;
  x509: X509;
}

export const caRecordName = (name: string) => `tls/ca/${name}`;
const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateCaName(name: string): string {
  if (!CA_NAME.test(name)) throw new UsageError(`invalid CA name ${JSON.stringify(name)}: letters, digits, . _ -`, undefined, 'ERR_TLS_BAD_CA_NAME');
  return name;
}

/** A validity in days, 1 to 36500; `option` is how the caller names the value in the error. */
export function parseDays(text: string | number, option = 'days'): number {
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw invalidOption(option, 'expected a whole number of days from 1 to 36500', { min: 1, max: 36_500 });
  return days;
}

/** A positive 128-bit serial number, as hex. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export interface CreateCaOptions {
  key?: string;
  days?: number;
  /** Permitted DNS subtrees: the CA can then only issue for these domains. */
  nameConstraints?: string[];
  force?: boolean;
  now: Date;
}

/**
 * Creates a local root CA (ECDSA P-256 unless said otherwise) and keeps it in the vault.
 * @example const ca = await createCa(vault, 'dev', { now: new Date() }); console.log(ca.certificatePem)
 */
export async function createCa(vault: Vault, name: string, options: CreateCaOptions): Promise<CertificateAuthority> {
  validateCaName(name);
  if (!options.force && (await findSecret(vault, caRecordName(name)))) {
    throw new UsageError(`a CA named ${name} already exists`, {
      hint: 'replacing it (the force option) means its certificates no longer chain',
      detail: { kind: 'exists', what: 'ca', names: [name] },
    }, 'ERR_TLS_CA_EXISTS');
  }
  const x509 = await loadX509();
  const algorithm = keyAlgorithm(options.key ?? 'ec:p256');
  const keys = await generateKeyPair(algorithm);
  const extensions: Array<InstanceType<X509['Extension']>> = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (options.nameConstraints?.length) extensions.push(await nameConstraints(options.nameConstraints));
  const notAfter = new Date(options.now.getTime() + (options.days ?? 3650) * 86_400_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=keysmith ${name} CA, O=keysmith local CA, OU=${safe(`${userInfo().username}@${hostname()}`)}`,
    notBefore: options.now,
    notAfter,
    keys,
    signingAlgorithm: algorithm.sign,
    extensions,
  });
  const certificatePem = certificate.toString('pem') + '\n';
  const at = options.now.toISOString();
  const record: SecretRecord = {
    kind: 'tls-ca',
    value: await privateKeyPem(keys.privateKey),
    fields: {},
    created: at,
    updated: at,
    meta: { certificate: certificatePem, key: algorithm.spec },
  };
  await vault.set(caRecordName(name), record);
  return { name, certificatePem, certificate, key: keys.privateKey, algorithm, x509 };
}

const safe = (s: string) => s.replace(/[,+=<>#;"\\]/g, '_');

async function nameConstraints(domains: string[]) {
  const [x509, asn1] = await Promise.all([loadX509(), Promise.all([import('@peculiar/asn1-x509'), import('@peculiar/asn1-schema')])]);
  const [asnX509, schema] = asn1;
  const permitted = new asnX509.GeneralSubtrees(domains.map((d) => new asnX509.GeneralSubtree({ base: new asnX509.GeneralName({ dNSName: d.replace(/^\*?\./, '') }) })));
  const der = schema.AsnConvert.serialize(new asnX509.NameConstraints({ permittedSubtrees: permitted }));
  return new x509.Extension('2.5.29.30', true, der);
}

/** Loads a CA from the vault. */
export async function loadCa(vault: Vault, name: string): Promise<CertificateAuthority> {
  validateCaName(name);
  const record = await findSecret(vault, caRecordName(name));
  if (!record) throw new NotFoundError(`no CA named ${name}`, { hint: 'create it first (createCa)', detail: { kind: 'no-ca', name } }, 'ERR_TLS_NO_CA');
  const meta = record.meta as { certificate?: string; key?: string } | undefined;
  if (record.kind !== 'tls-ca' || !meta?.certificate || !meta.key) {
    throw new UsageError(`${caRecordName(name)} is not a keysmith CA record`, undefined, 'ERR_TLS_BAD_CA');
  }
  const x509 = await loadX509();
  const algorithm = keyAlgorithm(meta.key);
  return {
    name,
    certificatePem: meta.certificate,
    certificate: new x509.X509Certificate(meta.certificate),
    key: await importPrivateKey(record.value, algorithm),
    algorithm,
    x509,
  };
}

/** The CAs in the vault, by name. */
export async function listCas(vault: Vault): Promise<string[]> {
  return (await vault.list('tls/ca/')).filter((i) => i.kind === 'tls-ca').map((i) => i.name.slice('tls/ca/'.length));
}
