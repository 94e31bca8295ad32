import type { Command } from 'commander';
import { getProvider, listProviders } from '../../../oauth/providers.js';
import { readTokens } from '../../../oauth/tokens.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../context.js';

export default function statusCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('[name]', 'provider name (default: all)')
    .addHelpText('after', `
Example:
  $ keysmith oauth status --json   # [{name, issuer, grant, loggedIn, subject, scope, accessTokenExpiresAt, refreshToken, storedIn}]`)
    .action(async (name: string | undefined, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const providers = name ? { [name]: await getProvider(ctx.paths, name) } : await listProviders(ctx.paths);
      const { vault, backend } = await ctx.openVault();
      const rows = [];
      for (const [n, p] of Object.entries(providers)) {
        const t = await readTokens(vault, n);
        rows.push({
          name: n, issuer: p.issuer, grant: p.grant, loggedIn: !!t.accessToken, subject: t.subject ?? null, scope: t.scope ?? null,
          accessTokenExpiresAt: t.expiresAt ?? null, refreshToken: !!t.refreshToken, storedIn: `${backend} vault, oauth/${n}`,
        });
      }
      if (ctx.flags.json) return ctx.json(rows);
      const now = ctx.now().getTime();
      await ctx.out(table(['NAME', 'LOGGED IN', 'SUBJECT', 'ACCESS TOKEN', 'REFRESH', 'SCOPE'], rows.map((r) => [
        r.name, r.loggedIn ? 'yes' : 'no', r.subject ?? '-',
        r.accessTokenExpiresAt ? (new Date(r.accessTokenExpiresAt).getTime() > now ? `valid until ${r.accessTokenExpiresAt}` : 'expired') : r.loggedIn ? 'no expiry given' : '-',
        r.refreshToken ? 'yes' : 'no', r.scope ?? '-',
      ])));
    });
}
