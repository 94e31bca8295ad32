import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Client, ConnectConfig, SFTPWrapper } from 'ssh2';
import { userInfo } from 'node:os';
import { childEnvironment } from '../child-env.js';
import { AuthError, KeysmithError, UnavailableError, UsageError } from '../errors.js';
import { describeBlob, fingerprintSha256 } from './keys.js';
import { fingerprintLines } from './fingerprint.js';
import { addKnownHost, caEntries, checkHostCertificate, keysFor, readKnownHosts, verifyHostKey } from './known-hosts.js';

export interface Target {
  user: string;
  host: string;
  port: number;
}

/** `user@host`, `user@host:2222`, `user@[::1]:2222`, `host` (user: the local one). */
export function parseTarget(text: string, defaultUser = userInfo().username): Target {
  const m = /^(?:([^@\s]+)@)?(?:\[([^\]]+)\]|([^:@\s[\]]+))(?::(\d+))?$/.exec(text.trim());
  const port = m?.[4] ? Number(m[4]) : 22;
  if (!m || port < 1 || port > 65535) throw new UsageError(`not a host: ${JSON.stringify(text)} (expected user@host[:port])`, undefined, 'ERR_SSH_BAD_HOST');
  return { user: m[1] ?? defaultUser, host: m[2] ?? m[3]!, port };
}

export const targetName = (t: Target) => `${t.user}@${t.host.includes(':') ? `[${t.host}]` : t.host}${t.port === 22 ? '' : `:${t.port}`}`;

export interface Credentials {
  /** An ssh-agent socket (SSH_AUTH_SOCK). */
  agent?: string;
  privateKey?: string;
  passphrase?: string;
  password?: string;
}

export interface ConnectOptions {
  knownHostsPath: string;
  /** Record an unknown host's key instead of refusing it (StrictHostKeyChecking=accept-new). */
  acceptNew: boolean;
  timeoutMs?: number;
  /** The clock host certificates are checked against. */
  now?: () => Date;
}

const HOST_KEY_ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Opens an SSH connection whose host key is checked against known_hosts: a changed or revoked key
 * is refused (exit 4) with its fingerprint; an unknown host is refused unless `acceptNew`.
 */
export async function connect(target: Target, credentials: Credentials, options: ConnectOptions): Promise<Client> {
  // require, not import(): on Node 22, import() of this CommonJS module from the bundle gave an empty
  // module.exports (the same as @napi-rs/keyring's, see src/vault/keychain.ts).
  const { Client } = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');
  const known = await readKnownHosts(options.knownHostsPath);
  const entries = keysFor(known, target.host, target.port);
  const where = targetName(target);
  // A host known only through @cert-authority: its certificate vouches for the key it must present.
  const byCa = !entries.some((k) => !k.marker) && caEntries(known, target.host, target.port).some((k) => k.marker === '@cert-authority');
  const certified = byCa ? await certifiedHostKeys(target, known, options) : undefined;
  // Ask for a host key of a type we already know, so a host with several keys is not "changed".
  const knownTypes = [...new Set((certified ? certified.keys.map((key) => ({ type: describeBlob(key).algorithm })) : entries.filter((k) => !k.marker)).flatMap((k) => HOST_KEY_ALGORITHMS[k.type] ?? []))];
  let refusal: Error | undefined;
  let accepted: Buffer | undefined;
  const config: ConnectConfig = {
    host: target.host,
    port: target.port,
    username: target.user,
    readyTimeout: options.timeoutMs ?? 20_000,
    ...(credentials.agent ? { agent: credentials.agent } : {}),
    ...(credentials.privateKey ? { privateKey: credentials.privateKey, ...(credentials.passphrase ? { passphrase: credentials.passphrase } : {}) } : {}),
    ...(credentials.password ? { password: credentials.password } : {}),
    ...(knownTypes.length ? { algorithms: { serverHostKey: knownTypes as never } } : {}),
    hostVerifier: (key: Buffer) => {
      const fp = fingerprintSha256(key);
      if (certified) {
        if (certified.keys.some((k) => k.equals(key))) return true;
        const why = certified.keys.length ? `the host presents ${fp}, which its certificate does not certify` : certified.why.length ? `its host certificate does not pass: ${certified.why.join('; ')}` : 'it presents no host certificate';
        refusal = new AuthError(`${where}: known_hosts trusts a certificate authority for it, and ${why}`, undefined, 'ERR_SSH_HOST_CERTIFICATE');
        return false;
      }
      const verdict = verifyHostKey(known, target.host, target.port, key);
      if (verdict.status === 'match') return true;
      if (verdict.status === 'revoked') refusal = new AuthError(`${where}: the host key ${fp} is revoked in ${options.knownHostsPath}`, undefined, 'ERR_SSH_HOST_REVOKED');
      else if (verdict.status === 'mismatch') {
        refusal = new AuthError(`${where}: HOST KEY CHANGED — it now presents ${fp}, known_hosts has ${verdict.known.join(', ')}`, {
          hint: `if the host was really reinstalled, remove its line: ssh-keygen -R '${target.port === 22 ? target.host : `[${target.host}]:${target.port}`}' -f ${options.knownHostsPath}`,
        }, 'ERR_SSH_HOST_KEY_CHANGED');
      } else if (!options.acceptNew) {
        refusal = new AuthError(`${where}: unknown host (key ${fp})`, { hint: 'check the fingerprint, then connect with acceptNew to record it in known_hosts', detail: { kind: 'unknown-host', host: target.host, port: target.port, fingerprint: fp } }, 'ERR_SSH_HOST_UNKNOWN');
      } else {
        accepted = key;
        return true;
      }
      return false;
    },
  };
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    // on, not once: ssh2 can emit a second error (a timeout, then "Connection lost before
    // handshake"), and an error event without a listener would end the process.
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (refusal) return reject(refusal);
      if (err.level === 'client-authentication') {
        return reject(new AuthError(`${where}: authentication failed (${err.message})`, { hint: 'is the key deployed there? for a first deploy, log in with another private key, the ssh-agent or a password', detail: { kind: 'ssh-auth-failed', host: target.host, port: target.port } }, 'ERR_SSH_AUTH'));
      }
      if (err.level === 'client-timeout') return reject(new UnavailableError(`${where}: timed out`, undefined, 'ERR_SSH_TIMEOUT'));
      reject(new UnavailableError(`${where}: ${err.message}`, { cause: err }, 'ERR_SSH_CONNECT'));
    });
    client.connect(config);
  });
  if (accepted) await addKnownHost(options.knownHostsPath, target.host, target.port, describeBlob(accepted).algorithm, accepted);
  return client;
}

/**
 * The host keys a host's certificates certify, each checked against known_hosts' @cert-authority
 * lines, and why the others fail. ssh2 cannot negotiate certificate host keys, so the certificates
 * come from `ssh-keyscan -c` (which checks nothing: keysmith checks them); the connection then asks
 * for the plain key and accepts only a certified one, which the key exchange proves the host
 * holds. A host that cannot be reached gives no certificate here and fails to connect after.
 */
async function certifiedHostKeys(target: Target, known: string, options: ConnectOptions): Promise<{ keys: Buffer[]; why: string[] }> {
  const where = targetName(target);
  const seconds = Math.min(10, Math.ceil((options.timeoutMs ?? 20_000) / 1000));
  const out = await new Promise<string>((resolve, reject) => {
    execFile('ssh-keyscan', ['-c', '-T', String(seconds), '-p', String(target.port), '--', target.host], { encoding: 'utf8', timeout: (seconds + 5) * 1000, env: childEnvironment(process.env) }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') reject(new UnavailableError(`${where} is known only by its certificate authority, and reading host certificates needs ssh-keyscan (OpenSSH's client), which is not installed`, undefined, 'ERR_SSH_NO_KEYSCAN'));
      else resolve(stdout ?? '');
    });
  });
  const now = options.now?.() ?? new Date();
  const keys: Buffer[] = [];
  const why = new Set<string>();
  for (const k of fingerprintLines(out)) {
    if (!k.certificate) continue;
    const verdict = checkHostCertificate(known, target.host, target.port, k.certificate.blob, now);
    if ('key' in verdict) keys.push(verdict.key);
    else why.add(verdict.error);
  }
  return { keys, why: [...why] };
}

/**
 * Whether `err`, from ssh2's `client.sftp()`, says the server has no sftp subsystem (sshd_config
 * without `Subsystem sftp`): the server answered the subsystem request with CHANNEL_FAILURE, which
 * ssh2 1.x turns into a plain Error with exactly this message (lib/client.js, reqSubsystem) and no
 * code. Any other failure — a subsystem program that cannot start ("Received exit code 127 while
 * establishing SFTP session"), a refused channel, a closed connection — is not this.
 */
export function isNoSftpSubsystem(err: unknown): boolean {
  return err instanceof Error && !(err instanceof KeysmithError) && err.message === 'Unable to start subsystem: sftp';
}

/** The code of the error `sftp()` throws for a host without an sftp subsystem (the remote shell can do the job). */
export const NO_SFTP = 'ERR_SSH_NO_SFTP';

/**
 * The SFTP channel of a connection, with promise-returning file operations. A host without an
 * sftp subsystem is an UnavailableError with code `NO_SFTP`; other errors are passed on as they come.
 */
export async function sftp(client: Client) {
  const s = await new Promise<SFTPWrapper>((resolve, reject) =>
    client.sftp((err, w) => {
      if (!err) return resolve(w);
      reject(isNoSftpSubsystem(err) ? new UnavailableError('the host has no SFTP subsystem', { cause: err }, NO_SFTP) : err);
    }));
  const call = <T>(fn: (cb: (err: Error | null | undefined, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
  return {
    async read(path: string): Promise<string | undefined> {
      try {
        return (await call<Buffer>((cb) => s.readFile(path, cb))).toString('utf8');
      } catch (err) {
        if ((err as { code?: number }).code === 2) return undefined; // NO_SUCH_FILE
        throw err;
      }
    },
    async ensureDir(path: string): Promise<void> {
      try {
        await call((cb) => s.mkdir(path, { mode: 0o700 }, cb));
      } catch {
        /* exists already */
      }
    },
    /** Writes a temp file beside `path` (0600), then renames it over `path`: never a half-written file. */
    async writeAtomic(path: string, data: string): Promise<void> {
      const tmp = `${path}.keysmith-${process.pid}-${Date.now()}`;
      await call((cb) => s.writeFile(tmp, data, { mode: 0o600 }, cb));
      await call((cb) => s.chmod(tmp, 0o600, cb));
      try {
        await call((cb) => s.ext_openssh_rename(tmp, path, cb));
      } catch {
        // Servers without posix-rename@openssh.com: remove, then rename.
        await call((cb) => s.unlink(path, cb)).catch(() => undefined);
        await call((cb) => s.rename(tmp, path, cb));
      }
    },
    end: () => s.end(),
  };
}
