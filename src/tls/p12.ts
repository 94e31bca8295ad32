import { createHash } from 'node:crypto';
import type forge from 'node-forge';
import { AuthError, UsageError } from '../errors.js';
import { pem, pemBody } from './keys.js';

/**
 * PKCS#12 with node-forge. forge's own writer handles RSA keys only, so the bags are built here with
 * its ASN.1 and PBES2 pieces for any PKCS#8 key: the key shrouded with AES-256-CBC and
 * PBKDF2-HMAC-SHA256 (OpenSSL 3 reads it without -legacy), the certificates in the clear, an
 * HMAC-SHA1 integrity MAC, as `openssl pkcs12 -export` writes them.
 */
const loadForge = async () => (await import('node-forge')).default;

export async function toPkcs12(keyPem: string, certificatePems: string[], password: string, friendlyName?: string): Promise<Buffer> {
  const forge = await loadForge();
  const { asn1, pki } = forge;
  const seq = (items: unknown[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items as forge.asn1.Asn1[]);
  const oid = (id: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
  const octets = (bytes: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
  const explicit0 = (inner: forge.asn1.Asn1) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [inner]);
  const binary = (b: Uint8Array) => Buffer.from(b).toString('binary');

  const certDers = certificatePems.map((c) => pemBody(c));
  const localKeyId = createHash('sha1').update(certDers[0]!).digest();
  const attrs = [seq([oid(pki.oids.localKeyId!), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [octets(binary(localKeyId))])])];
  if (friendlyName) {
    attrs.push(seq([oid(pki.oids.friendlyName!), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, friendlyName)])]));
  }
  const bagAttrs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, attrs);
  const dataContent = (inner: forge.asn1.Asn1) => seq([oid(pki.oids.data!), explicit0(octets(asn1.toDer(inner).getBytes()))]);

  const certBags = certDers.map((der, i) =>
    seq([oid(pki.oids.certBag!), explicit0(seq([oid(pki.oids.x509Certificate!), explicit0(octets(binary(der)))])), ...(i === 0 ? [bagAttrs] : [])]),
  );
  const keyInfo = asn1.fromDer(binary(pemBody(keyPem)));
  // PBES2 keys its PBKDF2 with the password's UTF-8 bytes (RFC 8018 leaves the encoding open; OpenSSL 3
  // uses UTF-8), while the MAC's PKCS#12 KDF takes it as a BMPString: forge's string APIs take the
  // first as a byte string, so a non-ASCII password must be encoded for it, or OpenSSL cannot read the key.
  const shrouded = pki.encryptPrivateKeyInfo(keyInfo, forge.util.encodeUtf8(password), { algorithm: 'aes256', prfAlgorithm: 'sha256', count: 2048, saltSize: 16 } as never);
  const keyBag = seq([oid(pki.oids.pkcs8ShroudedKeyBag!), explicit0(shrouded), bagAttrs]);
  const safe = seq([dataContent(seq(certBags)), dataContent(seq([keyBag]))]);

  const macSalt = forge.random.getBytesSync(16);
  const macKey = forge.pkcs12.generateKey(password, forge.util.createBuffer(macSalt), 3, 2048, 20);
  const hmac = forge.hmac.create();
  hmac.start('sha1', macKey);
  hmac.update(asn1.toDer(safe).getBytes());
  const macData = seq([
    seq([seq([oid(pki.oids.sha1!), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]), octets(hmac.digest().getBytes())]),
    octets(macSalt),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2048).getBytes()),
  ]);
  const pfx = seq([
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(3).getBytes()),
    dataContent(safe),
    macData,
  ]);
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary');
}

/** The certificates (PEM, leaf first as stored) and key (PKCS#8 PEM) of a PKCS#12 file, legacy RC2/3DES ones included. */
export async function fromPkcs12(der: Uint8Array, password: string, where: string): Promise<{ certificates: string[]; key?: string }> {
  const forge = await loadForge();
  const { asn1, pki } = forge;
  let p12: forge.pkcs12.Pkcs12Pfx;
  // PBES2 (OpenSSL 3's default) derives its key from the password's UTF-8 bytes, the MAC and the legacy
  // PKCS#12 PBEs from its BMPString: forge passes one string to both, so PBES2 gets it UTF-8 encoded
  // here (pkcs12FromAsn1 is synchronous: the wrapper is in place for this call only).
  const pbe = (pki as unknown as { pbe: { getCipherForPBES2: (oid: string, params: unknown, password: string) => unknown } }).pbe;
  const pbes2 = pbe.getCipherForPBES2;
  pbe.getCipherForPBES2 = (oid, params, pw) => pbes2(oid, params, forge.util.encodeUtf8(pw));
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1.fromDer(Buffer.from(der).toString('binary')), password);
  } catch (err) {
    const message = (err as Error).message;
    if (/MAC could not be verified|wrong password|Invalid password/i.test(message)) {
      throw new AuthError(`wrong password for ${where}`, undefined, 'ERR_TLS_P12_PASSWORD');
    }
    throw new UsageError(`${where}: not a readable PKCS#12 file (${message})`, { cause: err }, 'ERR_TLS_MALFORMED');
  } finally {
    pbe.getCipherForPBES2 = pbes2;
  }
  const toDer = (a: forge.asn1.Asn1) => Buffer.from(asn1.toDer(a).getBytes(), 'binary');
  const certificates: string[] = [];
  let key: string | undefined;
  for (const safeContents of p12.safeContents) {
    for (const bag of safeContents.safeBags) {
      const raw = (bag as { asn1?: forge.asn1.Asn1 }).asn1;
      if (bag.type === pki.oids.certBag) {
        certificates.push(pem('CERTIFICATE', bag.cert ? toDer(pki.certificateToAsn1(bag.cert)) : toDer(raw!)));
      } else if (bag.type === pki.oids.pkcs8ShroudedKeyBag || bag.type === pki.oids.keyBag) {
        key = pem('PRIVATE KEY', bag.key ? toDer(pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(bag.key))) : toDer(raw!));
      }
    }
  }
  return key ? { certificates, key } : { certificates };
}

/** Whether bytes look like a PKCS#12 file (DER SEQUENCE starting with version 3). */
export function looksLikePkcs12(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes);
  if (b[0] !== 0x30) return false;
  const lenBytes = b[1]! & 0x80 ? b[1]! & 0x7f : 0;
  const at = 2 + lenBytes;
  return b[at] === 0x02 && b[at + 1] === 0x01 && b[at + 2] === 0x03;
}
