import type { Command } from 'commander';
import { UsageError } from '../../../errors.js';
import { readUserFile } from '../../../fs.js';
import { parseIdentities, type AgeKey } from '../../../vault/age.js';
import { loadVaultIdentity } from '../../../vault/manage.js';
import { importVault, isPassphraseEncrypted } from '../../../vault/transfer.js';
import type { Context, ContextFor } from '../../context.js';

export default function importCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<file>', 'age-encrypted backup')
    .option('--identity <file>', 'age identity file for a backup encrypted to a recipient')
    .option('-f, --force', 'replace records that already exist', false)
    .addHelpText('after', `
Nothing is written when a record already exists, unless --force. A passphrase backup asks for its
passphrase (or reads KEYSMITH_BACKUP_PASSPHRASE); a recipient backup is opened with --identity,
KEYSMITH_AGE_IDENTITY or the file vault's own identity.

Examples:
  $ keysmith vault import backup.age --identity key.txt
  $ KEYSMITH_BACKUP_PASSPHRASE=… keysmith vault import backup.age`)
    .action(async (file: string, flags: { identity?: string; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const bytes = await readUserFile(file);
      const key = await backupKey(ctx, bytes, flags.identity);
      const { vault, backend } = await ctx.openVault();
      const { imported } = await importVault(vault, bytes, key, { force: flags.force, what: file });
      if (ctx.flags.json) return ctx.json({ file, imported });
      await ctx.status(`imported ${imported.length} record(s) into the ${backend} vault`);
    });
}

async function backupKey(ctx: Context, bytes: Uint8Array, identityPath: string | undefined): Promise<AgeKey> {
  if (isPassphraseEncrypted(bytes)) {
    return { passphrase: ctx.env.KEYSMITH_BACKUP_PASSPHRASE ?? (await ctx.askSecret('Backup passphrase', { instead: 'KEYSMITH_BACKUP_PASSPHRASE' })) };
  }
  if (identityPath) return { identities: parseIdentities((await readUserFile(identityPath)).toString('utf8')) };
  const loaded = await loadVaultIdentity(ctx.vaultOptions());
  if (!loaded) throw new UsageError('no identity to open the backup with', { hint: 'pass --identity FILE or set KEYSMITH_AGE_IDENTITY' }, 'ERR_IDENTITY_MISSING');
  return { identities: loaded.identities };
}
