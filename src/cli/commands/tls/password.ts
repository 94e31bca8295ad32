import { UsageError } from '../../../errors.js';
import type { Context } from '../../context.js';

/**
 * A PKCS#12 password: from stdin with `fromStdin` (one line, newline dropped), else a hidden prompt.
 * Writing (`forWriting`, asked twice) refuses an empty one; reading takes it, as RFC 7292 and
 * `openssl pkcs12 -passin pass:` do.
 */
export async function p12Password(ctx: Context, fromStdin: boolean, flag: string, forWriting: boolean): Promise<string> {
  const password = await ctx.secretInput(fromStdin, 'PKCS#12 password', { confirm: forWriting, instead: flag });
  if (password === '' && forWriting) throw new UsageError(`the PKCS#12 password is empty (give it on stdin with ${flag})`, undefined, 'ERR_TLS_P12_PASSWORD');
  return password;
}
