import { type Command, Option } from 'commander';
import { initVault } from '../../../vault/manage.js';
import type { ContextFor } from '../../context.js';

export default function initCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addOption(new Option('--backend <backend>', 'keychain or file (default: keychain when usable)').choices(['file', 'keychain']))
    .option('--passphrase', 'file vault: protect its identity with a passphrase even when a keychain is available', false)
    .addHelpText('after', `
The file vault's age identity is kept, in this order: nowhere when KEYSMITH_AGE_IDENTITY is set
(CI), in the OS keychain when it is usable, else in identity.age under a passphrase
(KEYSMITH_PASSPHRASE or a prompt).

Examples:
  $ keysmith vault init                                # keychain if usable, else file
  $ keysmith vault init --backend file --passphrase    # headless server
  $ KEYSMITH_AGE_IDENTITY="$(cat ci-identity.txt)" keysmith vault init --backend file`)
    .action(async (flags: { backend?: 'file' | 'keychain'; passphrase: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const result = await initVault(ctx.vaultOptions(), { backend: flags.backend, passphrase: flags.passphrase });
      if (ctx.flags.json) return ctx.json(result);
      const what = result.created ? 'created' : 'using the existing';
      await ctx.status(`${what} ${result.backend} vault at ${result.location}${result.identity ? ` (identity: ${result.identity})` : ''}; it is now the default`);
    });
}
