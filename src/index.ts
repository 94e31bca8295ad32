/**
 * keysmith as a library: the vault and its backends, with no CLI behind them.
 *
 * @example
 *   import { openVault, putSecret, resolvePaths } from 'keysmith';
 *   const { vault } = await openVault({ paths: resolvePaths(process.env), env: process.env, now: () => new Date(),
 *     notice: console.error, passphrase: async () => process.env.KEYSMITH_PASSPHRASE! });
 *   await putSecret(vault, 'db/password', 'hunter2', { kind: 'password', now: new Date() });
 */
export * from './errors.js';
export { resolvePaths, type KeysmithPaths } from './paths.js';
export { parseDuration } from './duration.js';
export type { BackendName, SecretInfo, SecretRecord, Vault, VaultDescription } from './vault/types.js';
export { validateName, envVarName } from './vault/names.js';
export { newRecord, valueBytes } from './vault/record.js';
export { openVault, chooseBackend, createVault, type OpenedVault, type VaultOptions } from './vault/open.js';
export { EnvVault } from './vault/env.js';
export { FileVault } from './vault/file.js';
export { KeychainVault, probeKeychain } from './vault/keychain.js';
export { findSecret, putSecret } from './vault/secrets.js';
export { generatePassword, CHARSETS, type Charset } from './vault/generate.js';
export { migrateVault, exportVault, importVault } from './vault/transfer.js';
export { vaultStatus, initVault, unlockVault, lockVault, type VaultStatus } from './vault/manage.js';
export { parseReference, resolveReferences, type Reference, type KindResolver } from './refs/references.js';
export { parseEnvFile } from './refs/env-file.js';
export { renderTemplate, templateReferences } from './refs/inject.js';
export { execWithSecrets, type ExecOptions, type ExecResult } from './exec/exec.js';
export { MaskingStream, Matcher, secretForms } from './exec/mask.js';
export { createCa, loadCa, listCas, type CertificateAuthority } from './tls/ca.js';
export { issueCertificate, signRequest } from './tls/issue.js';
export { createRequest } from './tls/csr.js';
export { inspectBytes, type CertificateInfo, type RequestInfo } from './tls/inspect.js';
export { checkExpiry, overallStatus, parseThreshold, type CheckResult, type CheckStatus, type OcspResult } from './tls/check.js';
export { validateChain, verifyServer, matchesHost, Cert, TrustStore, parseCertificates, type TrustError, type TrustRule, type Verdict, type ServerVerdict } from './tls/validate.js';
export { loadTrustStore } from './tls/roots.js';
export { fetchChain, parseEndpoint, type Endpoint, type PeerChain } from './tls/remote.js';
export { checkOcsp, type OcspStatus } from './tls/ocsp.js';
export { toPkcs12, fromPkcs12 } from './tls/p12.js';
export { changeTrust } from './tls/trust.js';
export { generateKey, readPrivateKey, parsePublicKeyLine, publicKeyLine, fingerprintSha256, fingerprintMd5, randomArt, type PublicKey } from './ssh/keys.js';
export { bcryptPbkdf } from './ssh/bcrypt-pbkdf.js';
export { verifyHostKey } from './ssh/known-hosts.js';
export { addKey, removeKey } from './ssh/authorized-keys.js';
export { connect, parseTarget, type Target, type Credentials } from './ssh/connect.js';
export { deployKey } from './ssh/deploy.js';
export { rotateKey, type RotateResult } from './ssh/rotate.js';
export { loadKey, listKeys, type ManagedKey } from './ssh/store.js';
export { accessToken, logout, readTokens, type StoredTokens } from './oauth/tokens.js';
export { login } from './oauth/login.js';
export { discover } from './oauth/client.js';
export { getProvider, listProviders, saveProvider, preset, type ProviderConfig } from './oauth/providers.js';
