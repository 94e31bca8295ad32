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
      const { exposed, rotated, skipped } = await removeMember(ctx.vaultOptions(), team, member, { rotate: flags.rotate, now: ctx.now() });
      const named = (names: string[]) => names.map((n) => `@${team}/${n}`);
      if (ctx.flags.json) return ctx.json({ team, member, exposed: named(exposed), rotated: named(rotated), skipped: named(skipped) });
      if (skipped.length) await ctx.status(`not re-encrypted, left as they are: ${named(skipped).join(', ')} (your key does not open them as records; the removed member may still read them)`);
      await ctx.status(`removed ${member} from ${team}; they could read ${exposed.length} secret(s), listed on stdout${rotated.length ? `; ${rotated.length} generated one(s) rotated` : ''}: change the others`);
      await ctx.out(exposed.map((n) => `@${team}/${n}\n`).join(''));
    });
}
