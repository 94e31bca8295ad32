import type { Command } from 'commander';
import { syncTeam } from '../../../team/manage.js';
import type { ContextFor } from '../../context.js';

export default function syncCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .addHelpText('after', `
Fetches, checks each new commit's signature against the members before it (a commit that fails is
refused, exit 4, and nothing of it applied), rebases your changes on top and pushes.

Example:
  $ keysmith team sync acme`)
    .action(async (team: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { received, sent } = await syncTeam(ctx.vaultOptions(), team);
      if (ctx.flags.json) return ctx.json({ team, received, sent });
      await ctx.status(`${team}: ${received} change(s) received, ${sent} sent`);
    });
}
