import { X509Certificate as NodeCertificate, createPublicKey } from 'node:crypto';
import { UsageError } from '../errors.js';
import { pemBlocks } from './pem.js';
import { loadX509, type X509 } from './x509.js';

export interface KeyInfo {
  type: 'EC' | 'RSA' | 'Ed25519' | 'Ed448' | 'unknown';
  /** Bits: modulus for RSA, curve size for EC. */
  bits?: number;
  curve?: string;
}

export interface CertificateInfo {
  type: 'certificate';
  subject: string;
  issuer: string;
  sans: Array<{ type: string; value: string }>;
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  status: 'valid' | 'expired' | 'not-yet-valid';
  serial: string;
  key: KeyInfo;
  signatureAlgorithm: string;
  fingerprints: { sha256: string; sha1: string };
  keyUsage: string[];
  extKeyUsage: string[];
  basicConstraints: { ca: boolean; pathLength?: number } | null;
  selfSigned: boolean;
  ocsp: string[];
  caIssuers: string[];
  crl: string[];
  pem: string;
}

export interface RequestInfo {
  type: 'csr';
  subject: string;
  sans: Array<{ type: string; value: string }>;
  key: KeyInfo;
  signatureAlgorithm: string;
  signatureValid: boolean;
  pem: string;
}

const EKU: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

const KEY_USAGE = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];

/** OpenSSL's names for signature algorithms, so our output reads like `openssl x509 -text`. */
function signatureName(alg: Algorithm & { hash?: Algorithm | string }): string {
  const hash = (typeof alg.hash === 'string' ? alg.hash : alg.hash?.name ?? '').replace('-', '');
  switch (alg.name.toUpperCase()) {
    case 'ECDSA':
      return `ecdsa-with-${hash}`;
    case 'RSASSA-PKCS1-V1_5':
      return `${hash.toLowerCase()}WithRSAEncryption`;
    case 'RSA-PSS':
      return 'rsassaPss';
    case 'ED25519':
    case 'EDDSA':
      return 'ED25519';
    default:
      return alg.name;
  }
}

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

function keyInfo(spki: Uint8Array): KeyInfo {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
      return { type: 'RSA', bits: d.modulusLength };
    case 'ec':
      return { type: 'EC', curve: d.namedCurve, bits: CURVE_BITS[d.namedCurve ?? ''] };
    case 'ed25519':
      return { type: 'Ed25519', bits: 256 };
    case 'ed448':
      return { type: 'Ed448', bits: 456 };
    default:
      return { type: 'unknown' };
  }
}

export function describeCertificate(x509: X509, cert: InstanceType<X509['X509Certificate']>, now: Date): CertificateInfo {
  const node = new NodeCertificate(Buffer.from(cert.rawData));
  const ext = (id: string) => cert.extensions.find((e) => e.type === id);
  const san = ext('2.5.29.17');
  const ku = ext('2.5.29.15');
  const eku = ext('2.5.29.37');
  const bc = ext('2.5.29.19');
  const crl = ext('2.5.29.31');
  const usages = ku ? new x509.KeyUsagesExtension(ku.rawData).usages : 0;
  const basic = bc ? new x509.BasicConstraintsExtension(bc.rawData) : null;
  const aia = (node.infoAccess ?? '').split('\n');
  const notAfter = cert.notAfter;
  const status = now > notAfter ? 'expired' : now < cert.notBefore ? 'not-yet-valid' : 'valid';
  return {
    type: 'certificate',
    subject: cert.subject,
    issuer: cert.issuer,
    sans: san ? new x509.SubjectAlternativeNameExtension(san.rawData).names.toJSON() : [],
    notBefore: cert.notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
    status,
    serial: cert.serialNumber.toUpperCase(),
    key: keyInfo(new Uint8Array(cert.publicKey.rawData)),
    signatureAlgorithm: signatureName(cert.signatureAlgorithm),
    fingerprints: { sha256: node.fingerprint256, sha1: node.fingerprint },
    keyUsage: KEY_USAGE.filter((_, i) => usages & (1 << i)),
    extKeyUsage: eku ? new x509.ExtendedKeyUsageExtension(eku.rawData).usages.map((u) => EKU[String(u)] ?? String(u)) : [],
    basicConstraints: basic ? { ca: basic.ca, ...(basic.pathLength !== undefined ? { pathLength: basic.pathLength } : {}) } : null,
    selfSigned: node.checkIssued(node) && node.verify(node.publicKey),
    ocsp: aia.filter((l) => l.startsWith('OCSP - URI:')).map((l) => l.slice('OCSP - URI:'.length)),
    caIssuers: aia.filter((l) => l.startsWith('CA Issuers - URI:')).map((l) => l.slice('CA Issuers - URI:'.length)),
    crl: crl ? [...Buffer.from(crl.value).toString('latin1').matchAll(/(https?|ldap):\/\/[\x21-\x7e]+/g)].map((m) => m[0]) : [],
    pem: cert.toString('pem') + '\n',
  };
}


/**
 * Everything inspectable in a file's bytes: PEM (any number of certificates and requests), or a
 * DER certificate or request.
 */
export async function inspectBytes(bytes: Uint8Array, where: string, now: Date): Promise<Array<CertificateInfo | RequestInfo>> {
  const x509 = await loadX509();
  const text = Buffer.from(bytes).toString('latin1');
  const items: Array<CertificateInfo | RequestInfo> = [];
  const fromDer = async (bytesIn: Uint8Array, label: string) => {
    const der = new Uint8Array(bytesIn); // an ArrayBuffer-backed copy, as the ASN.1 parser wants
    if (label === 'CERTIFICATE' || label === 'X509 CERTIFICATE' || label === 'TRUSTED CERTIFICATE') {
      const cert = new x509.X509Certificate(der);
      items.push(describeCertificate(x509, cert, now));
    } else if (label === 'CERTIFICATE REQUEST' || label === 'NEW CERTIFICATE REQUEST') {
      const csr = new x509.Pkcs10CertificateRequest(der);
      const ext = csr.getExtension('2.5.29.17');
      items.push({
        type: 'csr',
        subject: csr.subject,
        sans: ext ? new x509.SubjectAlternativeNameExtension(ext.rawData).names.toJSON() : [],
        key: keyInfo(new Uint8Array(csr.publicKey.rawData)),
        signatureAlgorithm: signatureName(csr.signatureAlgorithm),
        signatureValid: await csr.verify(),
        pem: csr.toString('pem') + '\n',
      });
    }
  };
  try {
    const blocks = pemBlocks(text);
    if (blocks.length > 0) {
      for (const { label, base64 } of blocks) await fromDer(Buffer.from(base64, 'base64'), label);
    } else if (bytes.length > 0 && !text.includes('-----BEGIN')) {
      try {
        await fromDer(bytes, 'CERTIFICATE');
      } catch {
        await fromDer(bytes, 'CERTIFICATE REQUEST');
      }
    }
  } catch (cause) {
    throw new UsageError(`${where}: malformed certificate or request (${(cause as Error).message})`, { cause }, 'ERR_TLS_MALFORMED');
  }
  if (items.length === 0) throw new UsageError(`${where}: no certificate or certificate request found (PEM or DER)`, undefined, 'ERR_TLS_MALFORMED');
  return items;
}
