/**
 * Typed errors. Each carries a `kind`; the CLI maps kinds to exit codes in exactly one place
 * (src/cli/main.ts). Messages never contain secret values.
 */
export type ErrorKind = 'failed' | 'usage' | 'not-found' | 'auth' | 'unavailable' | 'cancelled';

export class KeysmithError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  /** A next step for the user, printed under the message. */
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, code: string, message: string, options: { cause?: unknown; hint?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.hint = options.hint;
  }
}

type Options = { cause?: unknown; hint?: string };

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
