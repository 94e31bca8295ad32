/**
 * @peculiar/x509 issues and parses ECDSA, RSA and Ed25519 certificates on WebCrypto. It is loaded
 * only by the tls commands, with the metadata polyfill it needs first.
 */
export async function loadX509() {
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(globalThis.crypto);
  return x509;
}

export type X509 = Awaited<ReturnType<typeof loadX509>>;
