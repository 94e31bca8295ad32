import { teamName } from '../vault/names.js';
/** Plain aligned columns for people; `--json` is the format for machines. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Dates for people: ISO-8601 to the second, UTC. */
export const shortDate = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

export { printable } from '../text.js';

/** Which vault a name is in, in words: a team's (`@acme/…`) or the backend in use. */
export function vaultOf(name: string, backend: string): string {
  const team = teamName(name);
  return team ? `the team vault ${team.team}` : `the ${backend} vault`;
}
