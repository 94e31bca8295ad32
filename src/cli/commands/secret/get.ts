import type { Command } from 'commander';
import { NotFoundError, UsageError } from '../../../errors.js';
import { teamName, validateName } from '../../../vault/names.js';
import { valueBytes } from '../../../vault/record.js';
import type { Context, ContextFor } from '../../context.js';

export default function getCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'secret name')
    .option('--field <key>', 'print one field of a multi-field record instead of the value')
    .option('--theirs', "a team's secret (@team/…) as the other side has it, after a sync stopped on a conflict", false)
    .addHelpText('after', `
Examples:
  $ keysmith secret get db/password
  $ psql "postgres://app:$(keysmith secret get db/password)@db1/app"
  $ keysmith secret get db/prod --field user
  $ keysmith secret get db/password --json     # {name, kind, value, fields, created, updated}`)
    .action(async (name: string, flags: { field?: string; theirs: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const record = flags.theirs ? await theirs(ctx, name) : await (await ctx.openVault()).vault.get(name);
      if (ctx.flags.json) {
        const { kind, value, encoding, fields, created, updated } = record;
        await ctx.json({ name, kind, value, ...(encoding ? { encoding } : {}), fields, created, updated });
        return;
      }
      let bytes: Uint8Array;
      if (flags.field !== undefined) {
        const field = record.fields[flags.field];
        if (field === undefined) {
          throw new NotFoundError(`${name} has no field ${JSON.stringify(flags.field)} (fields: ${Object.keys(record.fields).join(', ') || 'none'})`, undefined, 'ERR_VAULT_NO_FIELD');
        }
        bytes = Buffer.from(field);
      } else bytes = valueBytes(record);
      await ctx.out(bytes);
      if (ctx.io.isTTY.stdout && bytes[bytes.length - 1] !== 0x0a) await ctx.out('\n');
    });
}

async function theirs(ctx: Context, name: string) {
  const team = teamName(validateName(name));
  if (!team) throw new UsageError(`--theirs reads a team's secret (@team/${name})`, undefined, 'ERR_USAGE');
  const { theirSecret } = await import('../../../team/manage.js');
  return theirSecret(ctx.vaultOptions(), team.team, team.name);
}
