import type { Command } from 'commander';
import { listProviders } from '../../../oauth/providers.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../context.js';

export default function listCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
Example:
  $ keysmith oauth list --json   # [{name, issuer, clientId, grant, scope}]`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const rows = Object.entries(await listProviders(ctx.paths)).map(([name, p]) => ({ name, issuer: p.issuer, clientId: p.clientId, grant: p.grant, scope: p.scope }));
      if (ctx.flags.json) return ctx.json(rows);
      if (rows.length === 0) return ctx.status('no providers: keysmith oauth add NAME --issuer URL --client-id ID');
      await ctx.out(table(['NAME', 'GRANT', 'ISSUER', 'CLIENT'], rows.map((r) => [r.name, r.grant, r.issuer, r.clientId])));
    });
}
