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

/**
 * An ISO 8601 date or time (`2027-03-01`, `2027-03-01T12:00`, `2027-03-01T12:00:00+02:00`). Without
 * a zone it is UTC, a date alone included, so the same text means the same instant on every
 * machine. A day that does not exist (`2027-02-30`) is refused, not rolled over.
 */
export function parseTime(text: string, flag: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text.trim());
  const bad = () => new UsageError(`${flag}: expected an ISO 8601 time such as 2027-01-01 or 2027-01-01T00:00:00Z, got ${JSON.stringify(text.slice(0, 40))}`);
  if (!m) throw bad();
  const [, y, mo, d, h = '00', mi = '00', sec = '00', frac = '', zone = 'Z'] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCFullYear() !== Number(y) || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) throw bad();
  const at = new Date(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac}${zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone}`);
  if (Number.isNaN(at.getTime())) throw bad();
  return at;
}
