import type { Command } from 'commander';
import { teamStatus } from '../../../team/manage.js';
import type { ContextFor } from '../../context.js';

export default function statusCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .addHelpText('after', `
Example:
  $ keysmith team status acme --json   # {team, dir, root, remote, lastSync, members, you, unpushed, unpulled, conflicts}`)
    .action(async (team: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const status = await teamStatus(ctx.vaultOptions(), team);
      if (ctx.flags.json) return ctx.json(status);
      await ctx.out(Object.entries(status).map(([k, v]) => `${`${k}:`.padEnd(10)}${Array.isArray(v) ? v.join(' ') || '-' : (v ?? '-')}\n`).join(''));
    });
}
