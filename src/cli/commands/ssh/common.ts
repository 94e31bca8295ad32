import { UsageError } from '../../../errors.js';
import { knownHostsPath } from '../../../ssh/store.js';
import type { ConnectOptions } from '../../../ssh/connect.js';
import type { Context } from '../../context.js';

export function connectOptions(ctx: Context, flags: { acceptNew?: boolean; knownHosts?: string }): ConnectOptions {
  return { knownHostsPath: flags.knownHosts ?? knownHostsPath(ctx.env), acceptNew: flags.acceptNew ?? false, now: ctx.now };
}

export function positiveInt(text: string, flag: string, max = 1000): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag}: a whole number from 1 to ${max}`);
  return n;
}

/** Whole days from `iso` to `now`. */
export const ageDays = (iso: string, now: Date) => Math.floor((now.getTime() - new Date(iso).getTime()) / 86_400_000);
