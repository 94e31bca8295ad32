import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { childEnvironment } from '../child-env.js';
import { AuthError, FailedError, NotFoundError, UnavailableError, UsageError } from '../errors.js';
import { nameOf } from '../vault/names.js';
import { findSecret } from '../vault/secrets.js';
import type { Vault } from '../vault/types.js';
import { createRequest } from './csr.js';
import { parseSan, type San } from './names.js';

/**
 * ACME (RFC 8555) through acme-client: an account key kept in the vault per directory, External
 * Account Binding, and the three challenges — http-01 (a one-shot listener or a webroot), dns-01
 * (a hook command that sets the TXT record) and tls-alpn-01 (RFC 8737, a one-shot TLS listener).
 */

export const DEFAULT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';

export type Challenge =
  | { type: 'http-01'; webroot?: string; listen?: string }
  | { type: 'dns-01'; hook: string }
  | { type: 'tls-alpn-01'; listen: string };

export const accountRecordName = (directory: string) => nameOf('acme', [directory]);

type AcmeModule = typeof import('acme-client');
let loaded: Promise<AcmeModule> | undefined;
/** acme-client (and axios under it) only when an ACME command runs. */
const acme = () => (loaded ??= import('acme-client').then((m) => ((m as { default?: AcmeModule }).default ?? m) as AcmeModule));

/** What went wrong at the CA, in one line: its problem document's detail when it sent one. */
function acmeError(err: unknown, action: string, directory: string): Error {
  const e = err as Error & { code?: string; response?: { status?: number; data?: unknown } };
  if (e instanceof UsageError || e instanceof FailedError || e instanceof AuthError || e instanceof UnavailableError) return e;
  const message = (e.message ?? String(e)).split('\n')[0]!.slice(0, 300);
  if (e.code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN)$/.test(e.code)) return new UnavailableError(`${action}: cannot reach ${directory} (${e.code})`, { cause: err }, 'ERR_ACME_UNREACHABLE');
  if (/directory|Unexpected token|not valid JSON|Invalid URL|resource/i.test(message) && !/urn:ietf/.test(message)) {
    return new UsageError(`${directory} is not an ACME directory (${message})`, { cause: err }, 'ERR_ACME_NOT_A_DIRECTORY');
  }
  return new FailedError(`${action}: the CA said: ${message}`, { cause: err }, 'ERR_ACME_REFUSED');
}

export interface AccountOptions {
  directory: string;
  email?: string;
  agreeTos: boolean;
  eab?: { kid: string; hmacKey: string };
  now: Date;
}

/** Registers an account at the directory (or finds the one this key has), its key kept in the vault. */
export async function register(vault: Vault, o: AccountOptions): Promise<{ accountUrl: string; created: boolean }> {
  const name = accountRecordName(o.directory);
  const existing = await findSecret(vault, name);
  if (existing) return { accountUrl: String(existing.meta?.accountUrl), created: false };
  if (!o.agreeTos) throw new UsageError("registering an account means agreeing to the CA's terms of service", { hint: 'read them, then add --agree-tos' }, 'ERR_ACME_TOS');
  const lib = await acme();
  const accountKey = await lib.crypto.createPrivateEcdsaKey('P-256');
  const client = new lib.Client({ directoryUrl: o.directory, accountKey, ...(o.eab ? { externalAccountBinding: o.eab } : {}) });
  try {
    await client.createAccount({ termsOfServiceAgreed: true, ...(o.email ? { contact: [`mailto:${o.email}`] } : {}) });
  } catch (err) {
    throw acmeError(err, 'registering the account', o.directory);
  }
  const at = o.now.toISOString();
  const accountUrl = client.getAccountUrl();
  await vault.set(name, { kind: 'acme-account', value: accountKey.toString('utf8'), fields: {}, created: at, updated: at, meta: { directory: o.directory, accountUrl, ...(o.email ? { email: o.email } : {}) } });
  return { accountUrl, created: true };
}

export interface AcmeIssued {
  certificatePem: string;
  chain: string[];
  keyPem: string;
  names: San[];
  notAfter: Date;
}

/** A one-shot listener on `host:port` (`:80` is every address). */
function listenOn(server: { listen: (port: number, host: string | undefined, cb: () => void) => void; once: (e: 'error', cb: (err: Error) => void) => void }, address: string): Promise<void> {
  const m = /^(?:\[?([^\]]*)\]?)?:(\d+)$/.exec(address);
  if (!m) throw new UsageError(`--listen: expected [HOST]:PORT, got ${JSON.stringify(address)}`);
  return new Promise((resolve, reject) => {
    server.once('error', (err: Error & { code?: string }) => reject(err.code === 'EADDRINUSE' ? new UnavailableError(`--listen ${address}: the port is in use`, undefined, 'ERR_ACME_PORT_IN_USE') : err.code === 'EACCES' ? new UnavailableError(`--listen ${address}: not allowed to listen there (below 1024 needs root or CAP_NET_BIND_SERVICE)`, undefined, 'ERR_ACME_PORT_DENIED') : err));
    server.listen(Number(m[2]), m[1] || undefined, resolve);
  });
}

/** Runs `hook present|cleanup FQDN VALUE`; its failure is the issue's failure. */
function runHook(hook: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(hook, args, { stdio: ['ignore', 2, 'pipe'], env: childEnvironment(env) });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => reject(new UsageError(`--dns-hook ${hook}: ${err.message}`, undefined, 'ERR_ACME_HOOK')));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new FailedError(`--dns-hook ${args[0]} ${args[1]} failed (exit ${code})${stderr.trim() ? `: ${stderr.trim().split('\n').pop()!.slice(0, 200)}` : ''}`, undefined, 'ERR_ACME_HOOK'))));
  });
}

/**
 * Orders a certificate for names from the directory with the account in the vault, answering the
 * chosen challenge, and returns the leaf, its chain and the new key. Nothing is written here.
 */
export async function issueAcme(vault: Vault, names: string[], o: { directory: string; challenge: Challenge; key?: string; env: NodeJS.ProcessEnv; tell?: (line: string) => void }): Promise<AcmeIssued> {
  const sans = names.map(parseSan);
  if (sans.some((s) => s.type !== 'dns' && s.type !== 'ip')) throw new UsageError('an ACME CA certifies host names and IP addresses only', undefined, 'ERR_ACME_NAMES');
  const account = await findSecret(vault, accountRecordName(o.directory));
  if (!account) throw new NotFoundError(`no ACME account for ${o.directory}`, { hint: `register one: keysmith tls acme register --directory ${o.directory} --agree-tos` }, 'ERR_ACME_NO_ACCOUNT');
  const lib = await acme();
  // Polls from 0.5 s, doubling to 10 s (acme-client's own first wait is 5 s: most CAs decide in less).
  const client = new lib.Client({ directoryUrl: o.directory, accountKey: account.value, accountUrl: String(account.meta?.accountUrl), backoffMin: 500, backoffMax: 10_000, backoffAttempts: 12 });
  const { csrPem, keyPem } = await createRequest(names, { key: o.key ?? 'ec:p256' });
  const c = o.challenge;
  /** http-01: token → key authorization; tls-alpn-01: name → its challenge certificate. */
  const answers = new Map<string, string>();
  const alpn = new Map<string, { key: string; cert: string }>();
  let stop: (() => Promise<void>) | undefined;
  if (c.type === 'http-01' && c.listen) {
    const { createServer } = process.getBuiltinModule('node:http');
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
      const answer = token ? answers.get(token) : undefined;
      res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ?? 'not found\n');
    });
    await listenOn(server, c.listen);
    stop = () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  } else if (c.type === 'tls-alpn-01') {
    const { createServer, createSecureContext } = process.getBuiltinModule('node:tls');
    const server = createServer({
      ALPNProtocols: ['acme-tls/1'],
      SNICallback: (servername: string, cb: (err: Error | null, ctx?: import('node:tls').SecureContext) => void) => {
        const pair = alpn.get(servername.toLowerCase());
        cb(pair ? null : new Error('no challenge for this name'), pair ? createSecureContext(pair) : undefined);
      },
    }, (socket) => socket.end());
    await listenOn(server, c.listen);
    stop = () => new Promise((r) => server.close(() => r()));
  }
  try {
    const chainPem = await client.auto({
      csr: csrPem,
      termsOfServiceAgreed: true,
      // keysmith cannot see the name from where the CA looks (a split view, a mock DNS): the CA checks.
      skipChallengeVerification: true,
      challengePriority: [c.type],
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        const host = authz.identifier.value;
        if (challenge.type !== c.type) throw new FailedError(`the CA offers no ${c.type} challenge for ${host} (it offers ${authz.challenges.map((x) => x.type).join(', ')})`, undefined, 'ERR_ACME_NO_CHALLENGE');
        o.tell?.(`${c.type} for ${host}`);
        if (c.type === 'http-01') {
          const token = (challenge as { token: string }).token;
          answers.set(token, keyAuthorization);
          if (c.webroot) {
            const dir = join(c.webroot, '.well-known', 'acme-challenge');
            await mkdir(dir, { recursive: true });
            await writeFile(join(dir, token), keyAuthorization, { mode: 0o644 });
          }
        } else if (c.type === 'dns-01') {
          await runHook(c.hook, ['present', `_acme-challenge.${host}.`, keyAuthorization], o.env);
        } else {
          const [key, cert] = await lib.crypto.createAlpnCertificate(authz, keyAuthorization);
          alpn.set(host.toLowerCase(), { key: key.toString(), cert: cert.toString() });
        }
      },
      challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
        if (c.type === 'http-01') {
          const token = (challenge as { token: string }).token;
          answers.delete(token);
          if (c.webroot) await rm(join(c.webroot, '.well-known', 'acme-challenge', token), { force: true });
        } else if (c.type === 'dns-01') {
          await runHook(c.hook, ['cleanup', `_acme-challenge.${authz.identifier.value}.`, keyAuthorization], o.env);
        } else alpn.delete(authz.identifier.value.toLowerCase());
      },
    });
    const [leaf, ...chain] = lib.crypto.splitPemChain(chainPem);
    if (!leaf) throw new FailedError('the CA sent no certificate', undefined, 'ERR_ACME_REFUSED');
    return { certificatePem: leaf.endsWith('\n') ? leaf : `${leaf}\n`, chain: chain.map((p) => (p.endsWith('\n') ? p : `${p}\n`)), keyPem, names: sans, notAfter: new Date(new X509Certificate(leaf).validTo) };
  } catch (err) {
    throw acmeError(err, `the order for ${names.join(', ')}`, o.directory);
  } finally {
    await stop?.();
  }
}
