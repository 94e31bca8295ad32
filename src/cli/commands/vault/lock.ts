import type { Command } from 'commander';
import { forgetAgentKeys } from '../../../ssh/agent/agent.js';
import { lockVault } from '../../../vault/manage.js';
import type { ContextFor } from '../../context.js';

export default function lockCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
It ends every unlock session, and a running keysmith SSH agent forgets its keys.

Example:
  $ keysmith vault lock`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const ended = await lockVault(ctx.vaultOptions());
      // The SSH agent holds vault keys in memory: they go too.
      const agentForgot = await forgetAgentKeys(ctx.paths.data);
      if (ctx.flags.json) return ctx.json({ ended, agentForgot });
      await ctx.status(`ended ${ended} session(s)${agentForgot ? '; the SSH agent forgot its keys' : ''}`);
    });
}
