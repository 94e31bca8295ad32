import { Option, type Command } from 'commander';
import { resolveTeam } from '../../../team/manage.js';
import type { ContextFor } from '../../context.js';

export default function resolveCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .addOption(new Option('--keep <side>', 'which version of each conflicting secret to keep').choices(['mine', 'theirs']).makeOptionMandatory())
    .addHelpText('after', `
After a sync stopped on a conflict: your unpushed changes become one commit on top of the other
side's, with the conflicting secrets as you keep them. Read the other side first with
keysmith secret get @TEAM/NAME --theirs; then sync.

Example:
  $ keysmith team resolve acme --keep theirs && keysmith team sync acme`)
    .action(async (team: string, flags: { keep: 'mine' | 'theirs' }, command: Command) => {
      const ctx = contextFor(command);
      const { resolved } = await resolveTeam(ctx.vaultOptions(), team, flags.keep);
      if (ctx.flags.json) return ctx.json({ team, keep: flags.keep, resolved: resolved.map((n) => `@${team}/${n}`) });
      await ctx.status(`${team}: kept ${flags.keep} for ${resolved.map((n) => `@${team}/${n}`).join(', ')}; run keysmith team sync ${team}`);
    });
}
