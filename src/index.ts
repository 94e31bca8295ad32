/**
 * keysmith as a library: the vault and its backends, with no CLI behind them. Errors are
 * {@link KeysmithError}s (`kind`, `code`, typed `detail`), never advice for a command line.
 *
 * @example
 *   import { openVault, putSecret, resolvePaths } from 'keysmith';
 *   const { vault } = await openVault({ paths: resolvePaths(process.env), env: process.env, now: () => new Date(),
 *     notice: console.error, passphrase: async () => process.env.KEYSMITH_PASSPHRASE! });
 *   await putSecret(vault, 'db/password', 'hunter2', { kind: 'password', now: new Date() });
 *
 * @packageDocumentation
 */

/**
 * Errors: one class per exit code, each with `kind`, a stable `code` and, where a caller can act
 * on it, typed `detail`.
 *
 * @example
 *   try { await vault.get('db/password'); }
 *   catch (err) { if (err instanceof NotFoundError) console.error(err.code, err.message); else throw err; }
 */
export * from './errors.js';

/**
 * Where keysmith keeps its config and data (`KEYSMITH_HOME`, else the platform's folders), and
 * durations as the CLI reads them.
 *
 * @example
 *   const paths = resolvePaths(process.env); // { config: '~/.config/keysmith', data: '~/.local/share/keysmith' } on Linux
 *   parseDuration('90d', 'expires-in');       // 7776000000 (ms); the second argument names the value in errors
 */
export { resolvePaths, type KeysmithPaths } from './paths.js';
export { parseDuration } from './duration.js';

/**
 * The vault: one interface over the OS keychain, the age-encrypted file and the environment.
 * `openVault` picks the backend as the CLI does (`backend`, then `KEYSMITH_VAULT`, then the config
 * file, else the keychain when it answers, else the file).
 *
 * @example
 *   const { vault, backend } = await openVault({
 *     paths: resolvePaths(process.env), env: process.env, now: () => new Date(),
 *     notice: (line) => console.error(line), passphrase: async () => process.env.KEYSMITH_PASSPHRASE ?? '',
 *   });
 *   const record = await findSecret(vault, 'db/password'); // undefined when absent; vault.get throws NotFoundError
 *   console.log(backend, record?.value, (await vault.list('db/')).map((s) => s.name));
 *
 * @example
 *   // CI: secrets from KEYSMITH_SECRET_* variables, read-only.
 *   const { vault } = await openVault({ backend: 'env', paths: resolvePaths(process.env), env: process.env,
 *     now: () => new Date(), notice: () => {}, passphrase: async () => '' });
 *   envVarName(validateName('db/password')); // 'KEYSMITH_SECRET_DB_PASSWORD'
 */
export type { BackendName, SecretInfo, SecretRecord, Vault, VaultDescription } from './vault/types.js';
export { validateName, envVarName } from './vault/names.js';
export { newRecord, valueBytes } from './vault/record.js';
export { openVault, chooseBackend, createVault, type OpenedVault, type VaultOptions } from './vault/open.js';
export { EnvVault } from './vault/env.js';
export { FileVault } from './vault/file.js';
export { KeychainVault, probeKeychain } from './vault/keychain.js';
export { findSecret, putSecret } from './vault/secrets.js';
export { generatePassword, CHARSETS, type Charset } from './vault/generate.js';
export { migrateVault, exportVault, importVault, type MigrateResult } from './vault/transfer.js';
export { vaultStatus, initVault, unlockVault, lockVault, type VaultStatus } from './vault/manage.js';

/**
 * `ks://NAME` and `ks://NAME#field` references, env files and `{{ ks://… }}` templates. Every
 * reference is read before anything is written, so a missing one fails the whole render.
 *
 * @example
 *   const template = await readFile('config.tmpl');
 *   const values = await resolveReferences(vault, templateReferences(template));
 *   await writeFile('config.yml', renderTemplate(template, values), { mode: 0o600 });
 *
 * @example
 *   const entries = parseEnvFile(await readFile('.env.keysmith'), '.env.keysmith'); // [{ name, value, line }]
 *   const refs = entries.filter((e) => e.value.startsWith('ks://')).map((e) => parseReference(e.value));
 *   const values = await resolveReferences(vault, refs); // Map: 'ks://db/prod#user' → Buffer
 */
export { parseReference, resolveReferences, type Reference, type KindResolver } from './refs/references.js';
export { parseEnvFile, type EnvEntry } from './refs/env-file.js';
export { renderTemplate, templateReferences } from './refs/inject.js';
export { execWithSecrets, type ExecOptions, type ExecResult } from './exec/exec.js';
export { MaskingStream, Matcher, secretForms } from './exec/mask.js';

/**
 * TLS: a local CA kept in the vault, certificates it issues, inspection, expiry checks, and one
 * chain validator for files and live servers (STARTTLS included).
 *
 * @example
 *   const ca = await createCa(vault, 'dev', { now: new Date() }); // later: await loadCa(vault, 'dev')
 *   const { certificatePem, keyPem, notAfter } = await issueCertificate(ca, ['app.test', '127.0.0.1'], { now: new Date(), days: 30 });
 *   const [info] = await inspectBytes(Buffer.from(certificatePem), 'app.pem', new Date()); // { type: 'certificate', daysLeft: 29, … }
 *
 * @example
 *   const peer = await fetchChain(parseEndpoint('imap://mail.example.com'), { timeoutMs: 5000 });
 *   const verdict = await verifyServer(peer.chain.map((c) => new Cert(c)), await loadTrustStore(process.env),
 *     { at: new Date(), host: 'mail.example.com' });
 *   if (!verdict.trusted) console.error(verdict.trustError?.code, verdict.trustError?.message);
 */
export { createCa, loadCa, listCas, type CertificateAuthority, type CreateCaOptions } from './tls/ca.js';
export { issueCertificate, signRequest, type IssuedCertificate, type LeafOptions } from './tls/issue.js';
export { createRequest } from './tls/csr.js';
export { inspectBytes, type CertificateInfo, type RequestInfo } from './tls/inspect.js';
export { checkExpiry, overallStatus, parseThreshold, type CheckOptions, type CheckResult, type CheckStatus, type OcspResult, type Threshold } from './tls/check.js';
export { validateChain, verifyServer, matchesHost, Cert, TrustStore, parseCertificates, type TrustError, type TrustRule, type ValidateOptions, type Verdict, type ServerVerdict } from './tls/validate.js';
export { loadTrustStore } from './tls/roots.js';
export { fetchChain, parseEndpoint, type Endpoint, type PeerChain, type StartTlsProtocol } from './tls/remote.js';
export { checkOcsp, type OcspStatus } from './tls/ocsp.js';
export { toPkcs12, fromPkcs12 } from './tls/p12.js';
export { changeTrust } from './tls/trust.js';

/**
 * SSH: keys in OpenSSH's formats (made with Node's crypto), known_hosts and authorized_keys,
 * connections (ssh2, loaded only here), deployment and rotation of managed keys, signing, and an
 * ssh-agent over vault keys.
 *
 * @example
 *   const { privateKey, publicKey } = await generateKey({ type: 'ed25519', comment: 'me@laptop' });
 *   console.log(publicKeyLine(publicKey), fingerprintSha256(publicKey.blob)); // 'ssh-ed25519 AAAA… me@laptop' 'SHA256:…'
 *
 * @example
 *   const client = await connect(parseTarget('deploy@web1:2222'), { agent: process.env.SSH_AUTH_SOCK },
 *     { knownHostsPath: `${process.env.HOME}/.ssh/known_hosts`, acceptNew: false }); // refuses an unknown or changed host key
 *   client.end();
 */
export { generateKey, readPrivateKey, parsePublicKeyLine, publicKeyLine, fingerprintSha256, fingerprintMd5, randomArt, type GeneratedKey, type KeygenOptions, type KeyType, type PublicKey } from './ssh/keys.js';
export { bcryptPbkdf, bcryptPbkdfParallel } from './ssh/bcrypt-pbkdf.js';
export { verifyHostKey, checkHostCertificate } from './ssh/known-hosts.js';
export { signingKey, sshSign, type SigningKey, type RsaSignature } from './ssh/sign.js';
export { signCertificate, parseValidity, checkSourceAddress, renderCertificate, certificateInfo, DEFAULT_USER_EXTENSIONS, type CertificateInfo as SshCertificateInfo, type CertificateOption, type SignCertificateOptions } from './ssh/certificates.js';
export { createSshCa, loadSshCa, listSshCas, signWithCa, caTrustLine, certificatePath, type SshCa, type CreateSshCaOptions, type SignWithCaOptions, type SignWithCaResult, type TrustFormat } from './ssh/ca.js';
export { runAgent, agentStatus, stopAgent, forgetAgentKeys, agentKeySources, type AgentKeySource, type RunAgentOptions, type RunningAgent, type AgentStatus } from './ssh/agent/agent.js';
export { addKey, removeKey } from './ssh/authorized-keys.js';
export { connect, parseTarget, type ConnectOptions, type Target, type Credentials } from './ssh/connect.js';
export { deployKey, type RemoteVia } from './ssh/deploy.js';
export { rotateKey, successorOf, type RotateOptions, type RotateResult } from './ssh/rotate.js';
export { loadKey, listKeys, privateKeyPem, type ManagedKey } from './ssh/store.js';

/**
 * OAuth 2.0 / OIDC: providers (discovery, presets), login (PKCE loopback or device flow) and access
 * tokens kept in the vault, refreshed when they are about to expire.
 *
 * @example
 *   const paths = resolvePaths(process.env);
 *   const provider = await getProvider(paths, 'github'); // saved by saveProvider or `keysmith oauth add`
 *   await login(vault, 'github', provider, { device: true, noBrowser: true, port: 0, timeoutMs: 300_000,
 *     now: () => new Date(), tell: (line) => console.error(line), env: process.env });
 *   const { token } = await accessToken(vault, 'github', provider, { paths, now: () => new Date(), minValidMs: 60_000 });
 *   await fetch('https://api.github.com/user', { headers: { authorization: `Bearer ${token.accessToken}` } });
 */
export { accessToken, logout, readTokens, type StoredTokens, type TokenOptions } from './oauth/tokens.js';
export { login, type LoginOptions } from './oauth/login.js';
export { discover } from './oauth/client.js';
export { getProvider, listProviders, saveProvider, preset, type Grant, type ProviderConfig } from './oauth/providers.js';

/**
 * Team vaults on git: secrets shared by a team, one age file per secret encrypted to the SSH keys
 * (or age recipients) of the members who read its path; every change an SSH-signed commit, every
 * incoming commit checked against the member list before it. A team's vault is a {@link Vault}.
 *
 * @example
 *   const ctx = { paths: resolvePaths(process.env), env: process.env };
 *   await createTeam(ctx, 'acme', { member: 'alice', keyPath: `${process.env.HOME}/.ssh/id_ed25519`, remote: 'git@git.example.com:ops/secrets.git' });
 *   await addMember(ctx, 'acme', 'bob', 'ssh-ed25519 AAAA… bob@laptop', ['prod/']);
 *   const team = await openTeam(ctx, 'acme');
 *   await putSecret(team, 'prod/db', 'hunter2', { kind: 'password', now: new Date() });
 *   await syncTeam(ctx, 'acme'); // fetch, check each commit, rebase, push
 */
export { addMember, createTeam, joinTeam, openTeam, removeMember, resolveTeam, syncTeam, teamConflicts, teamMembers, teamStatus, theirSecret, type TeamContext } from './team/manage.js';
export type { TeamVault, TeamIdentity } from './team/vault.js';
export type { Member, TeamDocument } from './team/team.js';

/** git's credential helper protocol over a vault (`keysmith helper git`, git-credential-keysmith). */
export { parseCredential, formatCredential, credentialRecordName, getCredential, storeCredential, eraseCredential, type CredentialAttributes } from './helpers/git-credential.js';

/** The docker credential-helper protocol over a vault (`keysmith helper docker`, docker-credential-keysmith). */
export { storeRegistryCredential, getRegistryCredential, eraseRegistryCredential, listRegistryCredentials, registryRecordName, CREDENTIALS_NOT_FOUND, type RegistryCredential } from './helpers/docker-credential.js';

/** kubectl's exec credential plugin and the AWS credential_process, from vault records and OAuth tokens. */
export { execInfo, execCredential, kubeCredential, type ExecInfo, type ExecCredentialStatus } from './helpers/kube-exec-credential.js';
export { awsCredentialProcess } from './helpers/aws-credential-process.js';

/**
 * Plaintext credentials of other tools, and moving them into the vault (`keysmith scan`).
 * @example
 *   const findings = scan([homedir()]); // [{ kind, file, line, target, length, sha256?, advice, fixable }] — never a value
 *   const results = await fix(findings, { vault, now: new Date(), env: process.env, backupDir, accept: async () => true });
 */
export { scan, type ScanOptions } from './helpers/scan/scan.js';
export { fix, type FixOptions, type FixResult } from './helpers/scan/fix.js';
export type { Finding, FindingKind } from './helpers/scan/formats.js';

/**
 * Every credential's end date (`keysmith expiry`), renewal, and ACME certificates.
 * @example
 *   const items = await radar(vault, { warnMs: 30 * 86_400_000, critMs: 7 * 86_400_000, now: new Date() });
 *   await writeFile('keysmith.prom', prometheus(items));
 * @example
 *   await registerAcmeAccount(vault, { directory: DEFAULT_ACME_DIRECTORY, agreeTos: true, email: 'me@example.com', now: new Date() });
 *   const { certificatePem, chain, keyPem } = await issueAcme(vault, ['www.example.com'], { directory: DEFAULT_ACME_DIRECTORY, challenge: { type: 'http-01', webroot: '/var/www/html' }, env: process.env });
 */
export { radar, prometheus, worst, checkWatched, RADAR_KINDS, type RadarItem, type RadarKind, type RadarOptions } from './expiry/radar.js';
export { renewIssued, renewing, runDeployHook, type RenewResult } from './tls/renew.js';
export { register as registerAcmeAccount, issueAcme, DEFAULT_DIRECTORY as DEFAULT_ACME_DIRECTORY, type Challenge as AcmeChallenge, type AcmeIssued } from './tls/acme.js';
