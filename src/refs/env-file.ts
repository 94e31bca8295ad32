import { invalidOption, UsageError } from '../errors.js';

export interface EnvEntry {
  name: string;
  /** A `ks://…` reference, or a plain value that passes through. */
  value: string;
  line: number;
}

const VAR = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses an env file: `VAR=value` lines, `#` comments, blank lines, an optional `export ` prefix,
 * and values in single quotes (taken literally) or double quotes (with \n, \" and \\ escapes).
 */
export function parseEnvFile(content: string | Uint8Array, where: string): EnvEntry[] {
  const text = typeof content === 'string' ? content : utf8(content, where);
  const entries: EnvEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    const name = eq < 0 ? '' : body.slice(0, eq).trim();
    if (!VAR.test(name)) throw new UsageError(`${where}:${i + 1}: expected NAME=value`, undefined, 'ERR_ENV_FILE');
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    else if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\([n"\\])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    // No environment variable can carry a NUL byte: refused here, before any command starts (exit 2).
    if (value.includes('\0')) throw new UsageError(`${where}:${i + 1}: the value of ${name} has a NUL byte, which no environment variable can carry`, undefined, 'ERR_ENV_FILE');
    entries.push({ name, value, line: i + 1 });
  });
  return entries;
}

/** The file's text; bytes that are not UTF-8 would reach the command changed (U+FFFD), so they are refused. */
function utf8(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const line = Buffer.from(bytes).toString('latin1').split('\n').findIndex((l) => !Buffer.from(Buffer.from(l, 'latin1').toString('utf8')).equals(Buffer.from(l, 'latin1'))) + 1;
    throw new UsageError(`${where}:${line}: not UTF-8 text, which an environment variable would not carry unchanged`, undefined, 'ERR_ENV_FILE');
  }
}

/** Parses `--env VAR=ref` flags. */
export function parseEnvFlag(flag: string): EnvEntry {
  const eq = flag.indexOf('=');
  const name = eq < 0 ? '' : flag.slice(0, eq);
  // What was typed is not shown: a value typed in place of a name would end up in logs.
  if (!VAR.test(name) || eq === flag.length - 1) throw invalidOption('env', 'expected VAR=secret-name or VAR=ks://name (what was given is not shown)', {}, 'ERR_ENV_FLAG');
  return { name, value: flag.slice(eq + 1), line: 0 };
}
