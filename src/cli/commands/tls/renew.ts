import type { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { UsageError } from '../../../errors.js';
import { renewIssued, renewing, runDeployHook, type RenewResult } from '../../../tls/renew.js';
import { printable, table } from '../../output.js';
import { action } from '../../action.js';
import type { ContextFor } from '../../context.js';

interface RenewFlags {
  all: boolean;
  before: string;
  force: boolean;
  dryRun: boolean;
  deployHook?: string;
}

export default function renewCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('[names...]', 'issued certificates, by name (e.g. example.test+1)')
    .option('--all', 'every certificate keysmith issued', false)
    .option('--before <duration>', 'renew what ends within this', '30d')
    .option('-f, --force', 'renew now, whatever the end date', false)
    .option('--dry-run', 'say what would be renewed; write nothing', false)
    .option('--deploy-hook <command>', 'run this (sh -c) once after any renewal; RENEWED_CERTIFICATES holds the certificate files, one a line')
    .addHelpText('after', `
Renews certificates made by keysmith tls issue: the same names, CA, key type and lifetime, a new
key, written over the same files. Exit 1 when one cannot be renewed or the hook fails.

Examples:
  $ keysmith tls renew --all
  $ keysmith tls renew example.test+1 --before 60d --deploy-hook 'systemctl reload nginx'`)
    .action(action(async (names: string[], flags: RenewFlags, command: Command) => {
      const ctx = contextFor(command);
      if (!flags.all && names.length === 0) throw new UsageError('name the certificates to renew, or --all');
      if (flags.all && names.length > 0) throw new UsageError('--all or names, not both');
      const beforeMs = parseDuration(flags.before, '--before');
      const { vault } = await ctx.openVault();
      const stems = flags.all ? (await vault.list('tls/cert/')).filter((i) => i.kind === 'tls-cert').map((i) => i.name.slice('tls/cert/'.length)) : names.map((n) => n.replace(/\+/g, '_'));
      const results: RenewResult[] = [];
      await renewing(ctx.paths.data, async () => {
        for (const stem of stems) {
          // One that cannot be renewed (its CA ends too soon, the CA refuses) does not stop the others.
          try {
            results.push(await renewIssued(vault, stem, { now: ctx.now(), beforeMs, force: flags.force, dryRun: flags.dryRun, env: ctx.env }));
          } catch (err) {
            results.push({ name: stem, status: 'cannot', notAfter: '', reason: (err as Error).message.split('\n')[0]! });
          }
        }
      });
      const renewed = results.filter((r) => r.status === 'renewed');
      let hook: string | undefined;
      if (flags.deployHook && renewed.length > 0 && !flags.dryRun) hook = await runDeployHook(flags.deployHook, renewed.map((r) => r.file ?? r.name), ctx.env);
      if (ctx.flags.json) await ctx.json({ results, hook: flags.deployHook && renewed.length > 0 && !flags.dryRun ? { command: flags.deployHook, error: hook ?? null } : null });
      else if (results.length > 0) await ctx.out(table(['NAME', 'RESULT', 'ENDS', 'DETAIL'], results.map((r) => [r.name, r.status, r.notAfter, printable(r.reason ?? '')])));
      else await ctx.status('no certificates issued by keysmith');
      if (hook) await ctx.status(`deploy hook failed: ${hook}`);
      return { exitCode: results.some((r) => r.status === 'cannot') || hook ? 1 : 0 };
    }));
}
