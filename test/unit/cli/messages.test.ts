import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { cliMessage, cliNotice } from '../../../src/cli/messages.js';
import { FailedError, KeysmithError, NotFoundError, systemError, type ErrorDetail, type NoticeDetail } from '../../../src/errors.js';
import { execWithSecrets } from '../../../src/exec/exec.js';
import { login, type LoginOptions } from '../../../src/oauth/login.js';
import type { ProviderConfig } from '../../../src/oauth/providers.js';
import { accessToken, writeTokens } from '../../../src/oauth/tokens.js';
import { resolvePaths } from '../../../src/paths.js';
import { refuseExisting, writeFileAtomic } from '../../../src/fs.js';
import { parseEnvFlag } from '../../../src/refs/env-file.js';
import { generateKey, keySize } from '../../../src/ssh/keys.js';
import { loadKey } from '../../../src/ssh/store.js';
import { caRecordName, createCa, loadCa, parseDays } from '../../../src/tls/ca.js';
import { loadIssued } from '../../../src/tls/issue.js';
import { keyAlgorithm } from '../../../src/tls/keys.js';
import { loadTrustStore } from '../../../src/tls/roots.js';
import { readOnlyVault } from '../../../src/vault/env.js';
import { missingIdentity } from '../../../src/vault/file.js';
import { generatePassword } from '../../../src/vault/generate.js';
import { keychainError } from '../../../src/vault/keychain.js';
import { chooseBackend } from '../../../src/vault/open.js';
import { openSession } from '../../../src/vault/session.js';
import { exportVault, migrateVault } from '../../../src/vault/transfer.js';
import type { SecretRecord, Vault } from '../../../src/vault/types.js';

const dir = mkdtempSync(join(tmpdir(), 'keysmith-messages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const existing = join(dir, 'existing');
writeFileSync(existing, 'x');

/** A vault of our own, in memory: enough for the lookups and the migration below. */
function memoryVault(records: Record<string, SecretRecord> = {}): Vault {
  const map = new Map(Object.entries(records));
  return {
    async get(name) {
      const r = map.get(name);
      if (!r) throw new NotFoundError(`no secret named ${name}`);
      return r;
    },
    async set(name, r) { map.set(name, r); },
    async delete(name) { return map.delete(name); },
    async list() { return [...map.keys()].sort().map((name) => ({ name, kind: 'secret', created: '', updated: '' })); },
    describe: () => ({ backend: 'file', location: 'memory', writable: true }),
  };
}
const record = (): SecretRecord => ({ kind: 'secret', value: 'v', fields: {}, created: '2020-01-01T00:00:00Z', updated: '2020-01-01T00:00:00Z' });

async function caught(f: () => unknown): Promise<KeysmithError> {
  try {
    await f();
  } catch (err) {
    if (err instanceof KeysmithError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

const ISSUER = 'https://login.test';
const server = { issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token` };
/** A fetch that answers every request with `status` (JSON invalid_client for a 401). */
const answering = (status: number) => (async () => status === 401 ? Response.json({ error: 'invalid_client' }, { status }) : new Response('', { status })) as unknown as typeof fetch;
const ccProvider = (extra: Partial<ProviderConfig> = {}): ProviderConfig => ({ issuer: ISSUER, clientId: 'ci', scope: 'api', grant: 'client-credentials', server, ...extra });
/** A client credentials grant the token endpoint refuses (401 invalid_client), with `secret` stored. */
async function refusedGrant(secret: string | undefined, provider = ccProvider()) {
  const vault = memoryVault();
  if (secret) await writeTokens(vault, 'ci', { clientSecret: secret }, new Date());
  return accessToken(vault, 'ci', provider, { minValidMs: 0, now: () => new Date(), paths: resolvePaths({ KEYSMITH_HOME: dir }), fetch: answering(401) });
}
const authCode: ProviderConfig = { issuer: ISSUER, clientId: 'cli', scope: 'openid', grant: 'auth-code', server };
const loginOptions = (o: Partial<LoginOptions> = {}): LoginOptions => ({ device: false, noBrowser: true, port: 0, timeoutMs: 500, now: () => new Date(), tell: () => undefined, env: {}, fetch: answering(200), ...o });
const execOptions = (secrets: Map<string, Buffer>, warn: (line: string, detail?: NoticeDetail) => void = () => undefined) =>
  ({ command: ['true'], env: {}, secrets, mask: false, stdout: new PassThrough(), stderr: new PassThrough(), warn });
const refusedValue = 'pass it as a file instead: --env-path V=… gives the command the path of a private (0600) file holding it';

interface Case {
  name: string;
  make: () => unknown;
  detail: ErrorDetail;
  /** What the CLI prints today: unchanged. */
  cli: { message: string; hint?: string };
  /** Another program's command line, which the library may name. */
  other?: string;
}

const cases: Case[] = [
  {
    name: 'generatePassword: a bad length',
    make: () => generatePassword(0, 'alnum'),
    detail: { kind: 'invalid-option', option: 'length', reason: 'expected a whole number from 1 to 4096', min: 1, max: 4096 },
    cli: { message: '--length: expected a whole number from 1 to 4096' },
  },
  {
    name: 'generatePassword: an unknown charset',
    make: () => generatePassword(8, 'emoji'),
    detail: { kind: 'invalid-option', option: 'charset', reason: 'unknown charset "emoji" (use alnum, ascii, hex, base64url)', allowed: ['alnum', 'ascii', 'hex', 'base64url'] },
    cli: { message: '--charset: unknown charset "emoji" (use alnum, ascii, hex, base64url)' },
  },
  {
    name: 'keySize: ed25519 bits',
    make: () => keySize('ed25519', 512),
    detail: { kind: 'invalid-option', option: 'bits', reason: 'ed25519 keys are always 256 bits', allowed: [256] },
    cli: { message: '-b: ed25519 keys are always 256 bits' },
  },
  {
    name: 'keySize: ecdsa bits',
    make: () => keySize('ecdsa', 300),
    detail: { kind: 'invalid-option', option: 'bits', reason: 'ecdsa keys are 256, 384 or 521 bits', allowed: [256, 384, 521] },
    cli: { message: '-b: ecdsa keys are 256, 384 or 521 bits' },
  },
  {
    name: 'generateKey: rsa bits',
    make: () => generateKey({ type: 'rsa', bits: 1024, comment: 'c' }),
    detail: { kind: 'invalid-option', option: 'bits', reason: 'rsa keys are 3072 to 16384 bits (smaller ones are no longer safe)', min: 3072, max: 16384 },
    cli: { message: '-b: rsa keys are 3072 to 16384 bits (smaller ones are no longer safe)' },
  },
  {
    name: 'generateKey: rounds',
    make: () => generateKey({ type: 'ed25519', comment: 'c', rounds: 0 }),
    detail: { kind: 'invalid-option', option: 'rounds', reason: 'a whole number from 1 to 1000', min: 1, max: 1000 },
    cli: { message: '--rounds: a whole number from 1 to 1000' },
  },
  {
    name: 'parseDays',
    make: () => parseDays('0'),
    detail: { kind: 'invalid-option', option: 'days', reason: 'expected a whole number of days from 1 to 36500', min: 1, max: 36_500 },
    cli: { message: '--days: expected a whole number of days from 1 to 36500' },
  },
  {
    name: 'keyAlgorithm: an unknown key type',
    make: () => keyAlgorithm('dsa'),
    detail: { kind: 'invalid-option', option: 'key', reason: 'unknown key type "dsa" (use ec:p256, ec:p384, rsa:2048, rsa:3072, rsa:4096 or ed25519)', allowed: ['ec:p256', 'ec:p384', 'rsa:2048', 'rsa:3072', 'rsa:4096', 'ed25519'] },
    cli: { message: '--key: unknown key type "dsa" (use ec:p256, ec:p384, rsa:2048, rsa:3072, rsa:4096 or ed25519)' },
  },
  {
    name: 'loadTrustStore: a CA file without certificates',
    make: () => loadTrustStore({}, existing),
    detail: { kind: 'invalid-option', option: 'caFile', reason: `no PEM certificate in ${existing}` },
    cli: { message: `--ca-file: no PEM certificate in ${existing}` },
  },
  {
    name: 'parseEnvFlag',
    make: () => parseEnvFlag('hunter2'),
    detail: { kind: 'invalid-option', option: 'env', reason: 'expected VAR=secret-name or VAR=ks://name (what was given is not shown)' },
    cli: { message: '--env: expected VAR=secret-name or VAR=ks://name (what was given is not shown)' },
  },
  {
    name: 'writeFileAtomic on an existing file',
    make: () => writeFileAtomic(existing, 'y'),
    detail: { kind: 'exists', what: 'file', names: [existing] },
    cli: { message: `${existing} already exists; pass --force to replace it` },
  },
  {
    name: 'refuseExisting on an existing file',
    make: () => refuseExisting([join(dir, 'absent'), existing], false),
    detail: { kind: 'exists', what: 'file', names: [existing] },
    cli: { message: `${existing} already exists; pass --force to replace it` },
  },
  {
    name: 'createCa over an existing CA',
    make: () => createCa(memoryVault({ [caRecordName('dev')]: record() }), 'dev', { now: new Date() }),
    detail: { kind: 'exists', what: 'ca', names: ['dev'] },
    cli: { message: 'a CA named dev already exists; pass --force to replace it (its certificates will no longer chain)' },
  },
  {
    name: 'chooseBackend: an unknown backend',
    make: () => chooseBackend({ backend: 'plaintext', env: {} } as never, {}),
    detail: { kind: 'invalid-option', option: 'backend', reason: 'unknown vault backend "plaintext" (use keychain, file, env)', allowed: ['keychain', 'file', 'env'] },
    cli: { message: '--vault: unknown vault backend "plaintext" (use keychain, file, env)' },
  },
  {
    name: 'migrateVault onto records that exist',
    make: () => migrateVault(memoryVault({ a: record() }), memoryVault({ a: record() })),
    detail: { kind: 'exists', what: 'records', names: ['a'] },
    cli: { message: '1 record(s) already exist in the target: a', hint: 'pass --force to replace them; nothing was changed' },
  },
  {
    name: 'exportVault with an empty passphrase',
    make: () => exportVault(memoryVault(), { passphrase: '' }),
    detail: { kind: 'empty-passphrase' },
    cli: { message: 'an empty passphrase protects nothing: give a passphrase (KEYSMITH_BACKUP_PASSPHRASE or the prompt), or --recipient' },
  },
  {
    name: 'a busy port',
    make: () => {
      throw systemError(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE', syscall: 'listen', address: '127.0.0.1', port: 8123 }));
    },
    detail: { kind: 'port-in-use', port: 8123, address: '127.0.0.1' },
    cli: { message: 'port 8123 on 127.0.0.1 is in use', hint: 'choose another --port, or leave --port out to use a free one' },
  },
  {
    name: 'loadKey: no such SSH key',
    make: () => loadKey(memoryVault(), 'work'),
    detail: { kind: 'no-ssh-key', name: 'work' },
    cli: { message: 'no SSH key named work', hint: 'see keysmith ssh list; create one with keysmith ssh keygen or ssh import' },
  },
  {
    name: 'loadCa: no such CA',
    make: () => loadCa(memoryVault(), 'dev'),
    detail: { kind: 'no-ca', name: 'dev' },
    cli: { message: 'no CA named dev', hint: 'create one: keysmith tls ca create dev' },
  },
  {
    name: 'loadIssued: no such certificate',
    make: () => loadIssued(memoryVault(), 'example.test'),
    detail: { kind: 'no-issued-certificate', name: 'example.test' },
    cli: { message: 'no issued certificate named example.test', hint: 'names are those of keysmith tls issue (e.g. example.test+2); see keysmith secret list tls/cert/' },
  },
  {
    name: 'a read-only vault',
    make: () => { throw readOnlyVault('env'); },
    detail: { kind: 'read-only-vault', backend: 'env' },
    cli: { message: 'the env vault is read-only', hint: 'choose a writable vault with --vault file or --vault keychain' },
  },
  {
    name: 'a locked keychain',
    make: () => { throw keychainError(new Error('Collection is locked'), 'list'); },
    detail: { kind: 'keychain', problem: 'locked' },
    other: 'gnome-keyring-daemon --unlock',
    cli: { message: 'the OS keychain is locked (list)', hint: 'unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock` with its password on stdin), or use --vault file' },
  },
  {
    name: 'an unavailable keychain',
    make: () => { throw keychainError(new Error('no D-Bus'), 'list'); },
    detail: { kind: 'keychain', problem: 'unavailable' },
    cli: {
      message: 'the OS keychain is not available (list): no D-Bus',
      hint: process.platform === 'linux' ? 'start a Secret Service (gnome-keyring, KeePassXC) in a D-Bus session, or use --vault file' : 'use --vault file',
    },
  },
  {
    name: 'a malformed session token',
    make: () => openSession(dir, 'nonsense', new Date()),
    detail: { kind: 'session', problem: 'malformed' },
    cli: { message: 'KEYSMITH_SESSION is not a keysmith session token', hint: 'set it from `keysmith vault unlock`' },
  },
  {
    name: 'a session that has ended',
    make: () => openSession(dir, `ks1.${'0'.repeat(24)}.a2V5`, new Date()),
    detail: { kind: 'session', problem: 'ended' },
    cli: { message: 'the KEYSMITH_SESSION session has ended (expired or locked)', hint: 'run `keysmith vault unlock` again' },
  },
  {
    name: 'a file vault without an identity',
    make: () => { throw missingIdentity('/v/vault.age'); },
    detail: { kind: 'no-identity', path: '/v/vault.age' },
    cli: { message: 'cannot open the file vault /v/vault.age: no identity', hint: 'set KEYSMITH_AGE_IDENTITY (an AGE-SECRET-KEY-1… or a file of them), or KEYSMITH_SESSION from `keysmith vault unlock`' },
  },
  {
    name: 'accessToken: a client the token endpoint refuses (client_secret_basic, a secret Basic form-encodes)',
    make: () => refusedGrant('s3cret+/'),
    detail: { kind: 'client-rejected', provider: 'ci', clientId: 'ci', method: 'client_secret_basic', formEncoded: true },
    cli: {
      message: `the provider refused the client credentials grant: HTTP 401 from the token endpoint (${ISSUER}/token): invalid_client`,
      hint: 'check the client secret; keysmith authenticated with client_secret_basic (the secret has characters HTTP Basic sends form-encoded, RFC 6749 §2.3.1, which some providers do not decode): if the client is registered for client_secret_post, add ci again with --auth-method post',
    },
  },
  {
    name: 'accessToken: a client the token endpoint refuses (client_secret_post configured)',
    make: () => refusedGrant('s3cret', ccProvider({ authMethod: 'client_secret_post' })),
    detail: { kind: 'client-rejected', provider: 'ci', clientId: 'ci', method: 'client_secret_post', formEncoded: false },
    cli: {
      message: `the provider refused the client credentials grant: HTTP 401 from the token endpoint (${ISSUER}/token): invalid_client`,
      hint: 'check the client secret; keysmith authenticated with client_secret_post: if the client is registered for client_secret_basic, add ci again with --auth-method basic',
    },
  },
  {
    name: 'accessToken: a client without a secret the token endpoint refuses',
    make: () => refusedGrant(undefined),
    detail: { kind: 'client-rejected', provider: 'ci', clientId: 'ci', method: 'none', formEncoded: false },
    cli: {
      message: `the provider refused the client credentials grant: HTTP 401 from the token endpoint (${ISSUER}/token): invalid_client`,
      hint: 'check that client ci is a public client at the provider, or add ci again with --client-secret-stdin',
    },
  },
  {
    name: 'login: no login before the timeout (any loopback port)',
    make: () => login(memoryVault(), 'corp', authCode, loginOptions()),
    detail: { kind: 'login-timeout', provider: 'corp', clientId: 'cli', redirectUri: 'http://127.0.0.1:PORT/callback', fixedPort: false },
    cli: {
      message: 'no login within 1 s',
      hint: 'try again, or --device. If the provider showed an error page instead of a login, it may accept only registered ports (RFC 8252 §7.3 unmet): register http://127.0.0.1:PORT/callback for client cli and add corp again with --redirect-port PORT',
    },
  },
  {
    name: 'login: the device flow of a provider without one',
    make: () => login(memoryVault(), 'corp', authCode, loginOptions({ device: true })),
    detail: { kind: 'no-device-flow', provider: 'corp' },
    cli: { message: 'this provider offers no device flow', hint: 'log in without --device' },
  },
  {
    name: 'login: a client credentials provider',
    make: () => login(memoryVault(), 'ci', ccProvider(), loginOptions()),
    detail: { kind: 'no-login', provider: 'ci' },
    cli: { message: 'ci uses client credentials: there is no login; keysmith oauth token ci fetches a token' },
  },
  {
    name: 'execWithSecrets: a value with a NUL byte',
    make: () => execWithSecrets(execOptions(new Map([['V', Buffer.from('a\0b')]]))),
    detail: { kind: 'env-value', variable: 'V' },
    cli: { message: 'V: the value contains a NUL byte and cannot be passed in an environment variable', hint: refusedValue },
  },
  {
    name: 'execWithSecrets: a value that is not UTF-8',
    make: () => execWithSecrets(execOptions(new Map([['V', Buffer.from([0x61, 0xff])]]))),
    detail: { kind: 'env-value', variable: 'V' },
    cli: { message: 'V: the value is not UTF-8 text and would be changed on its way into the environment', hint: refusedValue },
  },
];

/** A flag (`-b`, `--force`) or a keysmith command line. */
const CLI_WORDING = /(^|[\s(:'`])--?[a-z]|keysmith (secret|vault|ssh|tls|oauth|exec|inject|completion)\b/;

describe('the library speaks its own language', () => {
  it.each(cases)('$name: no flag or command in the message or hint, and typed fields', async ({ make, detail, other }) => {
    const err = await caught(make);
    expect(err.message).not.toMatch(CLI_WORDING);
    expect((err.hint ?? '').replace(other ?? '\0', '')).not.toMatch(CLI_WORDING);
    expect(err.detail).toEqual(detail);
  });
});

describe('cliMessage: the CLI words them with its flags and commands, as before', () => {
  it.each(cases)('$name', async ({ make, cli }) => {
    expect(cliMessage(await caught(make))).toEqual({ message: cli.message, hint: cli.hint });
  });

  it('a login with a fixed port: the redirect URI to register, no flag but --device', () => {
    const err = new FailedError('no login within 1 s', { detail: { kind: 'login-timeout', provider: 'corp', clientId: 'cli', redirectUri: 'http://127.0.0.1:8765/callback', fixedPort: true } });
    expect(cliMessage(err).hint).toBe('try again, or --device. If the provider showed an error page instead of a login, register the redirect URI http://127.0.0.1:8765/callback for client cli at the provider');
  });

  it('passes an error without detail through', () => {
    const err = new KeysmithError('usage', 'ERR_X', 'plain', { hint: 'do this' });
    expect(cliMessage(err)).toEqual({ message: 'plain', hint: 'do this' });
  });
});

interface NoticeCase {
  name: string;
  /** Runs the library, collecting what it gave its warn or tell callback. */
  make: (say: (line: string, detail?: NoticeDetail) => void) => Promise<unknown>;
  detail: NoticeDetail;
  /** The line the CLI prints today: unchanged. */
  cli: string;
}

const notices: NoticeCase[] = [
  {
    name: 'login: the provider answers the login request with an error (a redirect URI it refuses)',
    make: (tell) => login(memoryVault(), 'corp', authCode, loginOptions({ tell, fetch: answering(403) })),
    detail: { kind: 'redirect-refused', status: 403, provider: 'corp', clientId: 'cli', redirectUri: 'http://127.0.0.1:PORT/callback', fixedPort: false },
    cli: 'keysmith: the provider answered HTTP 403 to the login request, not a login page: it may accept only registered ports (RFC 8252 §7.3 unmet): register http://127.0.0.1:PORT/callback for client cli and add corp again with --redirect-port PORT',
  },
  {
    name: 'execWithSecrets: an environment larger than the system allows (E2BIG)',
    // Each value under the limit for one variable; together over ARG_MAX (2 MiB with the usual 8 MiB stack).
    make: (warn) => execWithSecrets({ ...execOptions(new Map(), warn), plain: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`V${i}`, 'x'.repeat(120 * 1024)])) }),
    detail: { kind: 'env-too-large', command: 'true' },
    cli: 'hint: pass large values as files: --env-path VAR=name',
  },
];

describe('notices (warn and tell lines) with a detail: the library says them in its words, the CLI in its own', () => {
  it.each(notices)('$name', async ({ make, detail, cli }) => {
    const said: Array<[string, NoticeDetail | undefined]> = [];
    await make((line, d) => void said.push([line, d])).catch(() => undefined);
    const notice = said.find(([, d]) => d !== undefined);
    expect(notice?.[1]).toEqual(detail);
    expect(notice![0]).not.toMatch(CLI_WORDING);
    expect(cliNotice(...notice!)).toBe(cli);
  });

  it('passes a line without detail through', () => {
    expect(cliNotice('warning: X is shorter than 6 characters and is not masked')).toBe('warning: X is shorter than 6 characters and is not masked');
  });
});
