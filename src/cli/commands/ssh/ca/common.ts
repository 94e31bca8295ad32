import { KeysmithError, NotFoundError, UsageError } from '../../../../errors.js';

/** A library error about one option, worded with its flag: `validity: …` becomes `--valid: …`. */
export function withFlag<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KeysmithError && err.detail?.kind === 'invalid-option') {
      throw new UsageError(`${flag}: ${err.detail.reason}`, { cause: err }, err.code);
    }
    throw err;
  }
}

/** The CLI's words for a CA that is not there (the library's hint names its function). */
export async function withCaHint<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KeysmithError && err.code === 'ERR_SSH_NO_CA') {
      throw new NotFoundError(err.message, { cause: err, hint: `create it: keysmith ssh ca create ${name} (keysmith ssh ca list shows those there are)` }, err.code);
    }
    throw err;
  }
}
