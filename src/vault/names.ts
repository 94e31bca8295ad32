import { createHash } from 'node:crypto';
import { UsageError } from '../errors.js';

const NAME = /^(@[A-Za-z0-9][A-Za-z0-9._-]{0,63}\/)?[A-Za-z0-9][A-Za-z0-9._/-]*$/;
export const MAX_NAME_LENGTH = 128;

/** A team's secret, `@acme/db/password`: the team and the name in its vault. */
export function teamName(name: string): { team: string; name: string } | undefined {
  const m = /^@([^/]+)\/(.*)$/s.exec(name);
  return m ? { team: m[1]!, name: m[2]! } : undefined;
}

/** Secret names look like `db/prod/password`, or `@team/db/prod/password` in a team's vault. A bad name is a usage error (exit 2). */
export function validateName(name: string): string {
  if (!NAME.test(name) || name.length > MAX_NAME_LENGTH || name.includes('//') || name.endsWith('/') || name.split('/').some((part) => part === '.' || part === '..')) {
    throw new UsageError(
      `invalid secret name ${JSON.stringify(name.slice(0, MAX_NAME_LENGTH + 8))}: use letters, digits and . _ / - (no . or .. part), ` +
        `starting with a letter or digit, at most ${MAX_NAME_LENGTH} characters (e.g. db/prod/password)`,
      undefined,
      'ERR_VAULT_BAD_NAME',
    );
  }
  return name;
}

/** The environment backend's variable for a name: `db/prod-1.pw` → `KEYSMITH_SECRET_DB_PROD_1_PW`. */
export function envVarName(name: string): string {
  return `KEYSMITH_SECRET_${name.toUpperCase().replace(/[/.-]/g, '_')}`;
}

export function matchesPrefix(name: string, prefix: string | undefined): boolean {
  return prefix === undefined || prefix === '' || name.startsWith(prefix);
}

/**
 * Outside text (a host, a path segment) as one part of a record name, injectively: letters,
 * digits, `.` and `-` stay, every other byte is `_` and two hex digits (`_` itself too), an empty
 * text is `_`, and `.` and `..` are escaped — so two texts never share a part, and any text makes
 * a valid part.
 * @example namePart('127.0.0.1:8443') // '127.0.0.1_3a8443'
 */
export function namePart(text: string): string {
  if (text === '') return '_';
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2e || b === 0x2d ? String.fromCharCode(b) : `_${b.toString(16).padStart(2, '0')}`;
  return out === '.' || out === '..' ? out.replace(/\./g, '_2e') : out;
}

/**
 * `prefix/part/part…` from outside texts, each part namePart'ed; a name longer than names may be
 * becomes `prefix/<first part, cut>/_<sha256 of all parts>`, still one name per text (callers keep the texts in
 * the record and compare them).
 */
export function nameOf(prefix: string, parts: string[]): string {
  const name = [prefix, ...parts.map(namePart)].join('/');
  if (name.length <= MAX_NAME_LENGTH) return name;
  const digest = createHash('sha256').update(parts.join('\0')).digest('hex');
  return [prefix, namePart(parts[0]!).slice(0, 40), `_${digest.slice(0, 48)}`].join('/');
}
