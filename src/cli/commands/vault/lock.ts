import type { Command } from 'commander';
import { lockVault } from '../../../vault/manage.js';
import type { ContextFor } from '../../context.js';

export default function lockCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
Example:
  $ keysmith vault lock`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const ended = await lockVault(ctx.vaultOptions());
      if (ctx.flags.json) return ctx.json({ ended });
      await ctx.status(`ended ${ended} session(s)`);
    });
}
