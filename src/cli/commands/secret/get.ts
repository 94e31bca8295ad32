import type { Command } from 'commander';
import { NotFoundError, UsageError } from '../../../errors.js';
import { awsCredentialProcess } from '../../../helpers/aws-credential-process.js';
import { execCredential, execInfo, kubeCredential } from '../../../helpers/kube-exec-credential.js';
import { teamName, validateName } from '../../../vault/names.js';
import { valueBytes } from '../../../vault/record.js';
import type { Context, ContextFor } from '../../context.js';

export default function getCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'secret name')
    .option('--field <key>', 'print one field of a multi-field record instead of the value')
    .option('--aws-credential-process', "print the record as AWS credential_process JSON (its value the secret access key, the field aws_access_key_id)", false)
    .option('--exec-credential', "print the record as a Kubernetes ExecCredential (kubectl's exec plugin): its value the token, or the fields clientCertificateData and clientKeyData", false)
    .option('--theirs', "a team's secret (@team/…) as the other side has it, after a sync stopped on a conflict", false)
    .addHelpText('after', `
Examples:
  $ keysmith secret get db/password
  $ psql "postgres://app:$(keysmith secret get db/password)@db1/app"
  $ keysmith secret get db/prod --field user
  $ keysmith secret get db/password --json     # {name, kind, value, fields, created, updated}
  # ~/.aws/config: credential_process = keysmith secret get aws/prod --aws-credential-process
  # kubeconfig users[].user.exec: {command: keysmith, args: [secret, get, kube/ci, --exec-credential], …}`)
    .action(async (name: string, flags: { field?: string; theirs: boolean; awsCredentialProcess: boolean; execCredential: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const format = flags.awsCredentialProcess ? '--aws-credential-process' : flags.execCredential ? '--exec-credential' : undefined;
      if (format && (flags.field !== undefined || ctx.flags.json || (flags.awsCredentialProcess && flags.execCredential))) throw new UsageError(`${format} prints its own JSON: leave out --field, --json and the other format`);
      const kube = flags.execCredential ? execInfo(ctx.env) : undefined;
      const record = flags.theirs ? await theirs(ctx, name) : await (await ctx.openVault()).vault.get(name);
      if (flags.awsCredentialProcess) return ctx.out(awsCredentialProcess(name, record, ctx.now()));
      if (kube) return ctx.out(execCredential(kube.apiVersion, kubeCredential(name, record)));
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
