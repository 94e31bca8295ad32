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
