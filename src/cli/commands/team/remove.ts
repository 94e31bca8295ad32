import type { Command } from 'commander';
import { removeMember } from '../../../team/manage.js';
import type { ContextFor } from '../../context.js';

export default function removeCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .argument('<member>', 'the member to remove')
    .addHelpText('after', `
Re-encrypts every secret they could read without them, in one signed commit, and lists those
secrets: they saw the values, so change them.

Example:
  $ keysmith team remove acme bob && keysmith team sync acme`)
    .action(async (team: string, member: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { exposed } = await removeMember(ctx.vaultOptions(), team, member);
      if (ctx.flags.json) return ctx.json({ team, member, exposed: exposed.map((n) => `@${team}/${n}`) });
      await ctx.status(`removed ${member} from ${team}; they could read ${exposed.length} secret(s), listed on stdout: change them`);
      await ctx.out(exposed.map((n) => `@${team}/${n}\n`).join(''));
    });
}
