import { type Command, Option } from 'commander';
import { updateConfig } from '../../../config.js';
import { UsageError } from '../../../errors.js';
import { createVault } from '../../../vault/open.js';
import { migrateVault } from '../../../vault/transfer.js';
import type { BackendName } from '../../../vault/types.js';
import type { ContextFor } from '../../context.js';

export default function migrateCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addOption(new Option('--to <backend>', 'target backend').choices(['file', 'keychain']))
    .option('--team <name>', 'move the records into this team vault instead (as @name/…; a signed commit, pushed by team sync)')
    .option('-f, --force', 'replace records that already exist in the target', false)
    .addHelpText('after', `
Examples:
  $ keysmith vault migrate --to file                   # from the current vault
  $ keysmith --vault file vault migrate --to keychain
  $ keysmith vault migrate --team acme && keysmith team sync acme`)
    .action(async (flags: { to?: BackendName; team?: string; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (!flags.to === !flags.team) throw new UsageError('choose the target: --to file|keychain or --team NAME', undefined, 'ERR_USAGE');
      const source = await ctx.openVault();
      if (flags.team) {
        const team = await (await import('../../../team/manage.js')).openTeam(ctx.vaultOptions(), flags.team);
        const { moved } = await migrateVault(source.vault, team, { force: flags.force });
        if (ctx.flags.json) return ctx.json({ from: source.backend, to: `@${flags.team}`, moved });
        return ctx.status(`moved ${moved.length} record(s) from the ${source.backend} vault to the team vault ${flags.team} (@${flags.team}/…); run keysmith team sync ${flags.team}`);
      }
      const to = flags.to!;
      if (source.backend === to) throw new UsageError(`the ${to} vault is already the one in use`, { hint: 'choose the source with --vault' });
      const target = createVault(to, ctx.vaultOptions(to), source.config);
      const { moved } = await migrateVault(source.vault, target, { force: flags.force });
      await updateConfig(ctx.paths, { vault: to });
      if (ctx.flags.json) return ctx.json({ from: source.backend, to, moved });
      await ctx.status(`moved ${moved.length} record(s) from the ${source.backend} vault to the ${to} vault; it is now the default`);
    });
}
