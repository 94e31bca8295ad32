import { invalidOption } from '../errors.js';

/** `ec:p256`, `ec:p384`, `rsa:2048|3072|4096`, `ed25519`. */
export type KeySpec = string;

export interface KeyAlgorithm {
  spec: KeySpec;
  generate: EcKeyGenParams | RsaHashedKeyGenParams | Algorithm;
  /** How certificates and CSRs are signed with it. */
  sign: Algorithm | EcdsaParams;
  /** RSA keys also encipher (TLS 1.2 RSA key exchange). */
  rsa: boolean;
}

const e65537 = new Uint8Array([1, 0, 1]);

/** Parses a key spec (a usage error names the accepted ones). */
export function keyAlgorithm(spec: KeySpec): KeyAlgorithm {
  switch (spec) {
    case 'ec:p256':
      return { spec, generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams, rsa: false };
    case 'ec:p384':
      return { spec, generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams, rsa: false };
    case 'ed25519':
      return { spec, generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' }, rsa: false };
    case 'rsa:2048':
    case 'rsa:3072':
    case 'rsa:4096': {
      const modulusLength = Number(spec.slice(4));
      return {
        spec,
        generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: e65537, hash: 'SHA-256' } as RsaHashedKeyGenParams,
        sign: { name: 'RSASSA-PKCS1-v1_5' },
        rsa: true,
      };
    }
    default:
      throw invalidOption('key', `unknown key type ${JSON.stringify(spec)} (use ec:p256, ec:p384, rsa:2048, rsa:3072, rsa:4096 or ed25519)`, { allowed: ['ec:p256', 'ec:p384', 'rsa:2048', 'rsa:3072', 'rsa:4096', 'ed25519'] }, 'ERR_TLS_KEY_TYPE');
  }
}

export async function generateKeyPair(alg: KeyAlgorithm): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(alg.generate, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  return pem('PRIVATE KEY', new Uint8Array(await crypto.subtle.exportKey('pkcs8', key)));
}

/** Imports a PKCS#8 private key of a known spec, with its public half (for SKI and signing). */
export async function importPrivateKey(pemText: string, alg: KeyAlgorithm): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', pemBody(pemText), alg.generate, true, ['sign']);
}

export function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

export function pemBody(text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}
