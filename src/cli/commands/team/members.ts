import type { Command } from 'commander';
import { teamMembers } from '../../../team/manage.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../context.js';

export default function membersCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .addHelpText('after', `
Example:
  $ keysmith team members acme --json   # [{name, recipient, paths, writes}]`)
    .action(async (team: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const members = await teamMembers(ctx.vaultOptions(), team);
      if (ctx.flags.json) return ctx.json(members);
      await ctx.out(table(['NAME', 'READS', 'WRITES', 'KEY'], members.map((m) => [m.name, m.paths.map((p) => p || '(all)').join(' '), m.writes ? 'yes' : 'no', m.recipient.split(/\s+/).slice(0, 2).join(' ').slice(0, 40)])));
    });
}
