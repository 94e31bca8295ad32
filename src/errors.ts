import { dirname } from 'node:path';
import type { ClientAuthMethod } from './oauth/provider-config.js';

/**
 * Typed errors. Each carries a `kind`; the CLI maps kinds to exit codes in exactly one place
 * (src/cli/main.ts). Messages never contain secret values.
 */
export type ErrorKind = 'failed' | 'usage' | 'not-found' | 'auth' | 'unavailable' | 'cancelled';

/**
 * What went wrong, as data, for a caller that acts on it. Messages and hints speak the library's
 * language (option names such as `length` or `force`, function names); the CLI words the same
 * detail with its flags and commands (src/cli/messages.ts). `option` is the name of the field or
 * parameter of the function that was called.
 */
export type ErrorDetail =
  /** An option's value is out of range or unknown; the message is `${option}: ${reason}`. */
  | { kind: 'invalid-option'; option: string; reason: string; min?: number; max?: number; allowed?: ReadonlyArray<string | number> }
  /** Something to be created exists, and the caller did not ask to replace it (`force` / `overwrite`). */
  | { kind: 'exists'; what: 'file' | 'ca' | 'records'; names: string[] }
  /** A port to listen on is taken by another process. */
  | { kind: 'port-in-use'; port: number; address: string }
  /** An SSH key rotation was interrupted: resume it (`resume: true`) before starting another. */
  | { kind: 'rotation-in-progress'; key: string }
  /** An SSH key has no hosts recorded to act on. */
  | { kind: 'no-hosts'; key: string }
  | { kind: 'no-ssh-key'; name: string }
  /** An encrypted PEM private key: its public half cannot be read without the passphrase. */
  | { kind: 'encrypted-pem'; path: string }
  /** A host key not in known_hosts, refused because `acceptNew` was not set. */
  | { kind: 'unknown-host'; host: string; port: number; fingerprint: string }
  /** The host refused every credential offered. */
  | { kind: 'ssh-auth-failed'; host: string; port: number }
  | { kind: 'no-ca'; name: string }
  | { kind: 'no-issued-certificate'; name: string }
  /** No trust store of the chosen kind exists on this system. */
  | { kind: 'no-trust-store'; store: string }
  /** The OS keychain cannot be used; the file backend can. */
  | { kind: 'keychain'; problem: 'not-loaded' | 'locked' | 'unavailable' | 'unusable' | 'too-large' }
  | { kind: 'read-only-vault'; backend: string }
  /** A KEYSMITH_SESSION token that is malformed, ended or does not match: unlock the vault again. */
  | { kind: 'session'; problem: 'malformed' | 'ended' | 'mismatch' }
  /** A file vault exists but no identity to open it was found. */
  | { kind: 'no-identity'; path: string }
  /** There is no file vault yet (initVault creates one). */
  | { kind: 'no-file-vault' }
  /** A backup asked for with an empty passphrase. */
  | { kind: 'empty-passphrase' }
  /** OAuth: no usable tokens for `provider` (never logged in, or the refresh token is gone). */
  | { kind: 'login-needed'; provider: string }
  /** OAuth: no provider configured under `provider`. */
  | { kind: 'no-provider'; provider: string }
  /**
   * OAuth: the token endpoint refused the client's credentials. `method` is how keysmith
   * authenticated (`none`: it has no client secret); `formEncoded`, that HTTP Basic sent the secret
   * form-encoded (RFC 6749 §2.3.1), which some providers do not decode.
   */
  | { kind: 'client-rejected'; provider: string; clientId: string; method: ClientAuthMethod; formEncoded: boolean }
  /** OAuth: no login came back before the timeout; the provider may refuse the redirect URI. */
  | ({ kind: 'login-timeout' } & RedirectDetail)
  /** OAuth: the provider offers no device flow: log in without it (`device: false`). */
  | { kind: 'no-device-flow'; provider: string }
  /** OAuth: a client credentials provider has no login; accessToken fetches its tokens. */
  | { kind: 'no-login'; provider: string }
  /** exec: a value an environment variable cannot carry exactly (a NUL byte, not UTF-8, too large): pass it in `files`. */
  | { kind: 'env-value'; variable: string }
  /** Team vault: your unpushed changes and upstream both changed `secrets`; read theirs (theirSecret), then resolveTeam. */
  | { kind: 'team-conflict'; team: string; secrets: string[] }
  /** Team vault: no clone of `team` here (createTeam or joinTeam makes one). */
  | { kind: 'no-team'; team: string };

/**
 * OAuth: a redirect URI that `clientId` may need registered at the provider: the one a login used
 * when its port is fixed (`fixedPort`), else with `PORT` for a port to choose, and to save as
 * `provider`'s `redirectPort`.
 */
export interface RedirectDetail { provider: string; clientId: string; redirectUri: string; fixedPort: boolean }

/**
 * What a line given to a `warn` or `tell` callback says, as data, for a caller that words it its
 * own way (the CLI: src/cli/messages.ts). Lines without one are for people only.
 */
export type NoticeDetail =
  /** OAuth: the login request was answered `status`, not a login page: most often a redirect URI the provider refuses. */
  | ({ kind: 'redirect-refused'; status: number } & RedirectDetail)
  /** exec: the command could not start, its environment larger than the system allows (E2BIG): pass large values in `files`. */
  | { kind: 'env-too-large'; command: string };

export class KeysmithError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  /** A next step for the user, printed under the message. */
  readonly hint: string | undefined;
  /** What went wrong as typed fields, when a caller can act on it. */
  readonly detail: ErrorDetail | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: Options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
    this.detail = options.detail;
  }
}

type Options = { cause?: unknown; hint?: string; detail?: ErrorDetail };

/** Bad input or a missing answer (exit 2). */
export class UsageError extends KeysmithError {
  constructor(message: string, options?: Options, code = 'ERR_USAGE') {
    super('usage', code, message, options);
  }
}

/** A named thing does not exist (exit 3). */
export class NotFoundError extends KeysmithError {
  constructor(message: string, options?: Options, code = 'ERR_NOT_FOUND') {
    super('not-found', code, message, options);
  }
}

/** Wrong passphrase or identity, locked keychain, rejected credential (exit 4). */
export class AuthError extends KeysmithError {
  constructor(message: string, options?: Options, code = 'ERR_AUTH') {
    super('auth', code, message, options);
  }
}

/** A backend, network or remote host cannot be reached or used (exit 5). */
export class UnavailableError extends KeysmithError {
  constructor(message: string, options?: Options, code = 'ERR_UNAVAILABLE') {
    super('unavailable', code, message, options);
  }
}

/**
 * A bad value for one of a function's options: `${option}: ${reason}`, with the option's name and
 * limits as `detail`.
 *
 * @example
 * throw invalidOption('length', 'expected a whole number from 1 to 4096', { min: 1, max: 4096 });
 */
export function invalidOption(
  option: string,
  reason: string,
  limits: { min?: number; max?: number; allowed?: ReadonlyArray<string | number> } = {},
  code = 'ERR_USAGE',
): UsageError {
  return new UsageError(`${option}: ${reason}`, { detail: { kind: 'invalid-option', option, reason, ...limits } }, code);
}

/** The user cancelled a prompt (exit 130). */
export class CancelledError extends KeysmithError {
  constructor(message = 'cancelled') {
    super('cancelled', 'ERR_CANCELLED', message);
  }
}

/** Anything else that went wrong, e.g. a damaged vault file (exit 1). */
export class FailedError extends KeysmithError {
  constructor(message: string, options?: Options, code = 'ERR_FAILED') {
    super('failed', code, message, options);
  }
}

/** What Node's system error codes mean to a user: a wrong path is bad input, a refusing system a failure. */
const SYSTEM_ERRORS: Record<string, { kind: 'usage' | 'failed'; reason: string; hint: string }> = {
  ENOENT: { kind: 'usage', reason: 'no such file or folder', hint: 'check the path' },
  ENOTDIR: { kind: 'usage', reason: 'a part of the path is not a folder', hint: 'check the path' },
  EISDIR: { kind: 'usage', reason: 'it is a folder', hint: 'name a file, not a folder' },
  ENAMETOOLONG: { kind: 'usage', reason: 'the name is too long', hint: 'choose a shorter path' },
  EACCES: { kind: 'failed', reason: 'permission denied', hint: 'check the permissions of the folder, or choose another path' },
  EPERM: { kind: 'failed', reason: 'permission denied', hint: 'check the permissions of the folder, or choose another path' },
  EROFS: { kind: 'failed', reason: 'read-only file system', hint: 'choose a path on a writable file system' },
  ENOSPC: { kind: 'failed', reason: 'no space left on device', hint: 'free some space, or choose another path' },
  EDQUOT: { kind: 'failed', reason: 'disk quota exceeded', hint: 'free some space, or choose another path' },
  EMFILE: { kind: 'failed', reason: 'too many open files', hint: 'raise the limit (ulimit -n), or run fewer processes at once' },
  ENFILE: { kind: 'failed', reason: 'too many open files', hint: 'raise the limit (ulimit -n), or run fewer processes at once' },
};

/** The verb for a syscall, when the caller did not say what it was doing. */
const VERBS: Record<string, string> = { open: 'open', write: 'write', rename: 'write', mkdir: 'create', unlink: 'remove', rmdir: 'remove', chmod: 'change' };

type SystemErrorFields = NodeJS.ErrnoException & { address?: string; port?: number };

/**
 * A Node system error (ENOENT, ENOSPC, EADDRINUSE …) as a one-line KeysmithError naming the path —
 * paths are not secrets, and the raw text may name a temp file instead of the user's. `path` and
 * `action` say what the user asked for; without them the error's own path and syscall are used.
 * Undefined for anything else (ours, or an error this table does not know). The raw error is the cause,
 * shown with --debug.
 *
 * @example
 * throw systemError(err, '/out/key', 'write') ?? err; // "cannot write /out/key: no space left on device"
 */
export function systemError(err: unknown, path?: string, action?: 'read' | 'write'): KeysmithError | undefined {
  if (err instanceof KeysmithError || !(err instanceof Error)) return undefined;
  const e = err as SystemErrorFields;
  if (e.code === 'EADDRINUSE') {
    return new UnavailableError(`port ${e.port} on ${e.address} is in use`, {
      cause: err,
      hint: 'choose another port, or port 0 for a free one',
      detail: { kind: 'port-in-use', port: e.port!, address: e.address! },
    }, 'ERR_PORT_IN_USE');
  }
  const known = e.code ? SYSTEM_ERRORS[e.code] : undefined;
  if (!known) return undefined;
  const where = path ?? e.path ?? (e.port !== undefined ? `port ${e.port} on ${e.address}` : undefined);
  const verb = action ?? VERBS[e.syscall ?? ''] ?? (e.port !== undefined ? 'use' : 'read');
  let { reason, hint } = known;
  // Writing creates the file: only its folder can be missing.
  if (e.code === 'ENOENT' && action === 'write' && path) [reason, hint] = ['no such folder', `create ${dirname(path)} first, or choose another path`];
  const Kind = known.kind === 'usage' ? UsageError : FailedError;
  return new Kind(`cannot ${verb}${where ? ` ${where}` : ''}: ${reason}`, { cause: err, hint }, `ERR_SYSTEM_${e.code}`);
}
