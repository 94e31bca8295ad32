import type { Command } from 'commander';
import { removeMember } from '../../../team/manage.js';
import type { ContextFor } from '../../context.js';

export default function removeCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .argument('<member>', 'the member to remove')
    .option('--rotate', 'also give the secrets keysmith generated among them new values (same length and charset)', false)
    .addHelpText('after', `
Re-encrypts every secret they could read without them, in one signed commit, and lists those
secrets: they saw the values, so change them (--rotate does it for the generated ones).

Example:
  $ keysmith team remove acme bob && keysmith team sync acme`)
    .action(async (team: string, member: string, flags: { rotate: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const { exposed, rotated, dropped } = await removeMember(ctx.vaultOptions(), team, member, { rotate: flags.rotate, now: ctx.now() });
      const named = (names: string[]) => names.map((n) => `@${team}/${n}`);
      if (ctx.flags.json) return ctx.json({ team, member, exposed: named(exposed), rotated: named(rotated), dropped: named(dropped) });
      if (dropped.length) await ctx.status(`deleted ${named(dropped).join(', ')}: not encrypted to your key, so not written for the team`);
      await ctx.status(`removed ${member} from ${team}; they could read ${exposed.length} secret(s), listed on stdout${rotated.length ? `; ${rotated.length} generated one(s) rotated` : ''}: change the others`);
      await ctx.out(exposed.map((n) => `@${team}/${n}\n`).join(''));
    });
}
