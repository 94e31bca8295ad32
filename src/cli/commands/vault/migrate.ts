import { type Command, Option } from 'commander';
import { updateConfig } from '../../../config.js';
import { UsageError } from '../../../errors.js';
import { createVault } from '../../../vault/open.js';
import { migrateVault } from '../../../vault/transfer.js';
import type { BackendName } from '../../../vault/types.js';
import type { ContextFor } from '../../context.js';

export default function migrateCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addOption(new Option('--to <backend>', 'target backend').choices(['file', 'keychain']).makeOptionMandatory())
    .option('-f, --force', 'replace records that already exist in the target', false)
    .addHelpText('after', `
Examples:
  $ keysmith vault migrate --to file                   # from the current vault
  $ keysmith --vault file vault migrate --to keychain`)
    .action(async (flags: { to: BackendName; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const source = await ctx.openVault();
      if (source.backend === flags.to) throw new UsageError(`the ${flags.to} vault is already the one in use`, { hint: 'choose the source with --vault' });
      const target = createVault(flags.to, ctx.vaultOptions(flags.to), source.config);
      const { moved } = await migrateVault(source.vault, target, { force: flags.force });
      await updateConfig(ctx.paths, { vault: flags.to });
      if (ctx.flags.json) return ctx.json({ from: source.backend, to: flags.to, moved });
      await ctx.status(`moved ${moved.length} record(s) from the ${source.backend} vault to the ${flags.to} vault; it is now the default`);
    });
}
