import { spawn } from 'node:child_process';
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, lstat, mkdir, rm, writeFile } from 'node:fs/promises';
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
/**
 * acme-client (and axios under it), only when an ACME command runs. Every request, redirects and
 * the URLs a directory lists included, is https (RFC 8555 §6.1); each has 15 s and 1 MiB at most,
 * and a failed one is tried once more, 1 s later (acme-client's own: 5 times, 5 to 25 s apart),
 * so a CA that stalls or floods cannot hold a renewal (and its lock) for long.
 */
const acme = () => (loaded ??= import('acme-client').then((m) => {
  const lib = ((m as { default?: AcmeModule }).default ?? m) as AcmeModule;
  Object.assign(lib.axios.defaults, {
    timeout: 15_000, maxContentLength: 1 << 20, maxBodyLength: 1 << 20, maxRedirects: 5,
    beforeRedirect: (options: { protocol?: string; href?: string }) => {
      if (options.protocol !== 'https:') throw new Error(`the CA redirected to ${String(options.href ?? options.protocol)}: not https`);
    },
  });
  Object.assign((lib.axios.defaults as unknown as { acmeSettings: Record<string, number> }).acmeSettings, { retryMaxAttempts: 1, retryDefaultDelay: 1 });
  lib.axios.interceptors.request.use((config) => {
    if (!/^https:\/\//i.test(String(config.url))) throw new Error(`the CA sent a URL that is not https: ${String(config.url).slice(0, 100)}`);
    return config;
  });
  return lib;
}));

/** What went wrong at the CA, in one line: its problem document's detail when it sent one. */
function acmeError(err: unknown, action: string, directory: string): Error {
  const e = err as Error & { code?: string; response?: { status?: number; data?: unknown } };
  if (e instanceof UsageError || e instanceof FailedError || e instanceof AuthError || e instanceof UnavailableError) return e;
  const message = (e.message ?? String(e)).split('\n')[0]!.slice(0, 300);
  // acme-client's retry handler turns any failure without a response (refused, reset, timed out)
  // into this TypeError, losing the cause: it still means the CA could not be reached.
  if ((e.code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|EAI_AGAIN|ECONNABORTED)$/.test(e.code)) || /reading 'config'/.test(message)) {
    return new UnavailableError(`${action}: no answer from ${directory} (refused, reset, or nothing within 15 s)`, { cause: err }, 'ERR_ACME_UNREACHABLE');
  }
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

/**
 * The certificate is what was ordered: for the new key, and for exactly the names asked (a CA
 * that sends another one would have keysmith write a pair that cannot be served, or for others).
 */
function checkIssued(cert: X509Certificate, keyPem: string, sans: San[]): void {
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!spki(cert.publicKey).equals(spki(createPublicKey(keyPem)))) throw new FailedError('the CA sent a certificate for another key', undefined, 'ERR_ACME_WRONG_CERTIFICATE');
  // An IP address compared in one form (node writes IPv6 expanded): the URL parser's.
  const ip = (v: string) => (v.includes(':') ? new URL(`http://[${v}]`).hostname : v);
  const got = new Set((cert.subjectAltName ?? '').split(', ').filter(Boolean).map((n) => (n.startsWith('IP Address:') ? `ip:${ip(n.slice(11))}` : n.replace(/^DNS:/, 'dns:').toLowerCase())));
  const want = new Set(sans.map((n) => (n.type === 'ip' ? `ip:${ip(n.value)}` : `${n.type}:${n.value.toLowerCase()}`)));
  if (got.size !== want.size || [...want].some((n) => !got.has(n))) throw new FailedError(`the CA sent a certificate for other names (${[...got].join(', ').slice(0, 200)})`, undefined, 'ERR_ACME_WRONG_CERTIFICATE');
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
  // What the CA may ask about: the names ordered (a wildcard's authorization names its base, RFC 8555 §7.1.4, or, from some CAs, the wildcard).
  const ordered = new Set(names.flatMap((n) => [n.toLowerCase(), n.toLowerCase().replace(/^\*\./, '')]));
  const base = (host: string) => host.replace(/^\*\./, '');
  // Hooks one at a time: a hook that edits a zone file must not race itself.
  let hooks: Promise<unknown> = Promise.resolve();
  const oneAtATime = (run: () => Promise<void>) => (hooks = hooks.then(run, run));
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
        if (!ordered.has(host.toLowerCase()) || !/^(\*\.)?[A-Za-z0-9.:-]+$/.test(host)) throw new FailedError(`the CA asked about ${JSON.stringify(host.slice(0, 80))}, which was not ordered`, undefined, 'ERR_ACME_REFUSED');
        if (challenge.type !== c.type) throw new FailedError(`the CA offers no ${c.type} challenge for ${host} (it offers ${authz.challenges.map((x) => x.type).join(', ')})`, undefined, 'ERR_ACME_NO_CHALLENGE');
        o.tell?.(`${c.type} for ${host}`);
        if (c.type === 'http-01') {
          const token = (challenge as { token: string }).token;
          // A token is base64url (RFC 8555 §8.1): anything else is no file name to write.
          if (!/^[A-Za-z0-9_-]{1,256}$/.test(String(token))) throw new FailedError('the CA sent a challenge token that is not base64url', undefined, 'ERR_ACME_REFUSED');
          answers.set(token, keyAuthorization);
          if (c.webroot) {
            // Readable by the web server whatever the umask: folders keysmith makes 0755, the answer
            // 0644. Never through a link (a planted one would have it write, or chmod, elsewhere).
            let dir = c.webroot;
            for (const part of ['.well-known', 'acme-challenge']) {
              dir = join(dir, part);
              const st = await lstat(dir).catch(() => undefined);
              if (st?.isSymbolicLink() || (st && !st.isDirectory())) throw new UsageError(`--webroot: ${dir} is ${st.isSymbolicLink() ? 'a link' : 'not a folder'}: keysmith will not write through it`, undefined, 'ERR_ACME_WEBROOT');
              if (!st) {
                await mkdir(dir);
                await chmod(dir, 0o755);
              }
            }
            await writeFile(join(dir, token), keyAuthorization, { mode: 0o644, flag: 'wx' });
            await chmod(join(dir, token), 0o644);
          }
        } else if (c.type === 'dns-01') {
          await oneAtATime(() => runHook(c.hook, ['present', `_acme-challenge.${base(host)}.`, keyAuthorization], o.env));
        } else {
          const [key, cert] = await lib.crypto.createAlpnCertificate(authz, keyAuthorization);
          alpn.set(host.toLowerCase(), { key: key.toString(), cert: cert.toString() });
        }
      },
      challengeRemoveFn: async (authz, challenge, keyAuthorization) => {
        if (c.type === 'http-01') {
          const token = (challenge as { token: string }).token;
          if (!answers.delete(token)) return;
          if (c.webroot) await rm(join(c.webroot, '.well-known', 'acme-challenge', token), { force: true });
        } else if (c.type === 'dns-01') {
          if (!ordered.has(authz.identifier.value.toLowerCase())) return;
          await oneAtATime(() => runHook(c.hook, ['cleanup', `_acme-challenge.${base(authz.identifier.value)}.`, keyAuthorization], o.env));
        } else alpn.delete(authz.identifier.value.toLowerCase());
      },
    });
    const [leaf, ...chain] = lib.crypto.splitPemChain(chainPem);
    if (!leaf) throw new FailedError('the CA sent no certificate', undefined, 'ERR_ACME_REFUSED');
    checkIssued(new X509Certificate(leaf), keyPem, sans);
    return { certificatePem: leaf.endsWith('\n') ? leaf : `${leaf}\n`, chain: chain.map((p) => (p.endsWith('\n') ? p : `${p}\n`)), keyPem, names: sans, notAfter: new Date(new X509Certificate(leaf).validTo) };
  } catch (err) {
    throw acmeError(err, `the order for ${names.join(', ')}`, o.directory);
  } finally {
    await stop?.();
  }
}
