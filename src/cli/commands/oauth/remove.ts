import type { Command } from 'commander';
import { getProvider, saveProvider } from '../../../oauth/providers.js';
import { tokenRecordName } from '../../../oauth/tokens.js';
import type { ContextFor } from '../../context.js';

export default function removeCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'provider name')
    .addHelpText('after', `
Example:
  $ keysmith oauth logout corp && keysmith oauth remove corp`)
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      await getProvider(ctx.paths, name);
      const { vault } = await ctx.openVault();
      await vault.delete(tokenRecordName(name));
      await saveProvider(ctx.paths, name, undefined);
      await ctx.status(`removed ${name}`);
    });
}
