import { Command } from 'commander';
import { lockVault } from '../../../vault/manage.js';
import type { ContextFor } from '../../context.js';

export function lockCommand(contextFor: ContextFor): Command {
  return new Command('lock')
    .description('end every unlock session')
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
