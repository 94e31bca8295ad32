import type { Command } from 'commander';
import { getProvider } from '../../../oauth/providers.js';
import { logout } from '../../../oauth/tokens.js';
import type { ContextFor } from '../../context.js';

export default function logoutCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'provider name')
    .addHelpText('after', `
Example:
  $ keysmith oauth logout corp --json   # {revoked: [...], notRevoked: [{token, why}]}`)
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const provider = await getProvider(ctx.paths, name);
      const { vault } = await ctx.openVault();
      const result = await logout(vault, name, provider, ctx.now());
      if (ctx.flags.json) return ctx.json(result);
      await ctx.status(`logged out of ${name}${result.revoked.length ? `; revoked ${result.revoked.join(', ')}` : ''}`);
      for (const n of result.notRevoked) await ctx.status(`not revoked: ${n.token} (${n.why}); deleted locally`);
    });
}
