import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `12h`, `90d`, `2w` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!match) throw new UsageError(`${flag}: expected a duration like 30s, 15m, 12h, 90d or 2w, got ${JSON.stringify(text)}`);
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  // Beyond this a date overflows (Date's range) or means "never": neither is a time to live.
  if (ms > MAX_MS) throw new UsageError(`${flag}: at most 100 years`);
  return ms;
}

const MAX_MS = 100 * 365.25 * 86_400_000;

/** An ISO 8601 date or time (`2027-03-01`, `2027-03-01T12:00:00Z`); a date alone is midnight UTC. */
export function parseTime(text: string, flag: string): Date {
  const at = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim()) ? new Date(text.trim()) : new Date(NaN);
  if (Number.isNaN(at.getTime())) throw new UsageError(`${flag}: expected an ISO 8601 time such as 2027-01-01T00:00:00Z`);
  return at;
}
