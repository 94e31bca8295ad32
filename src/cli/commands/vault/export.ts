import type { Command } from 'commander';
import { UsageError } from '../../../errors.js';
import { checkOutputs, writeFileAtomic } from '../../../fs.js';
import { exportVault } from '../../../vault/transfer.js';
import { repeatable } from '../../options.js';
import type { ContextFor } from '../../context.js';

export default function exportCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .requiredOption('--out <file>', 'backup file to write')
    .addOption(repeatable('--recipient <age1…>', 'encrypt to this age recipient (repeatable)'))
    .option('--passphrase', 'encrypt with a passphrase (KEYSMITH_BACKUP_PASSPHRASE or a prompt)', false)
    .option('-f, --force', 'replace an existing file', false)
    .option('--team <name>', "a team vault's secrets (those you read) instead of your vault's")
    .addHelpText('after', `
The backup is a standard age file: \`age -d -i key.txt backup.age\` (or \`age -d backup.age\` for a
passphrase) prints the records as JSON, and \`keysmith vault import\` reads it back.

Examples:
  $ keysmith vault export --out backup.age --recipient age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
  $ keysmith vault export --out backup.age --passphrase
  $ keysmith vault export --team acme --out acme.age --recipient age1…`)
    .action(async (flags: { out: string; recipient: string[]; passphrase: boolean; force: boolean; team?: string }, command: Command) => {
      const ctx = contextFor(command);
      if (flags.passphrase === flags.recipient.length > 0) {
        throw new UsageError('choose how to encrypt the backup: --recipient age1… or --passphrase');
      }
      await checkOutputs([flags.out], flags.force);
      const vault = flags.team ? await (await import('../../../team/manage.js')).openTeam(ctx.vaultOptions(), flags.team) : (await ctx.openVault()).vault;
      const to = flags.passphrase
        ? { passphrase: ctx.env.KEYSMITH_BACKUP_PASSPHRASE ?? (await ctx.askSecret('Backup passphrase', { confirm: true, instead: 'KEYSMITH_BACKUP_PASSPHRASE' })) }
        : { recipients: flags.recipient };
      const { bytes, count } = await exportVault(vault, to);
      await writeFileAtomic(flags.out, bytes, { overwrite: flags.force });
      if (ctx.flags.json) return ctx.json({ out: flags.out, records: count });
      await ctx.status(`wrote ${count} record(s) to ${flags.out}`);
    });
}
