import type { Command } from 'commander';
import { readConfig } from '../../config.js';
import { parseDuration, parseTime } from '../../duration.js';
import { UsageError } from '../../errors.js';
import { checkWatched, prometheus, radar, RADAR_KINDS, worst, type RadarItem, type RadarKind } from '../../expiry/radar.js';
import { exists, writeFileAtomic } from '../../fs.js';
import { STATUS_CODES } from '../../tls/check.js';
import { renewIssued, renewing, runDeployHook } from '../../tls/renew.js';
import type { Vault } from '../../vault/types.js';
import { printable, table } from '../output.js';
import { action, withErrorCodes } from '../action.js';
import type { Context, ContextFor } from '../context.js';
import { connectOptions } from './ssh/common.js';

interface ExpiryFlags {
  warn: string;
  crit: string;
  kind?: string;
  prometheus?: string;
  at?: string;
  renew: boolean;
  dryRun: boolean;
  timeout: string;
  deployHook?: string;
}

export default function expiryCommand(command: Command, contextFor: ContextFor): Command {
  command
    .option('--warn <duration>', 'WARNING when it ends within this', '30d')
    .option('--crit <duration>', 'CRITICAL when it ends within this', '7d')
    .option('--kind <kinds>', `only these, comma-separated: ${RADAR_KINDS.join(', ')}`)
    .option('--prometheus <file>', 'also write the node_exporter textfile-collector format to FILE (atomically)')
    .option('--at <time>', 'judge as at this time (ISO 8601) instead of now')
    .option('--renew', 'first renew what keysmith can renew without a person and is due (within --warn), then report', false)
    .option('--dry-run', 'with --renew: say what would be renewed', false)
    .option('--deploy-hook <command>', 'with --renew: run this (sh -c) once after any certificate is renewed, as tls renew does')
    .option('--timeout <duration>', 'per watched endpoint', '10s')
    .addHelpText('after', `
Lists, soonest first: certificates keysmith issued and its CAs, watched files and endpoints
(keysmith tls watch add), SSH keys against their --rotate-every, OAuth refresh tokens that carry an
end, and secrets with --expires or --rotate-every. Exit status as a monitoring plugin: 0 OK,
1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Examples:
  $ keysmith expiry
  $ keysmith expiry --kind tls,ssh --json
  $ keysmith expiry --renew --prometheus /var/lib/node_exporter/textfile/keysmith.prom   # from cron`)
    .action(action(async (flags: ExpiryFlags, command: Command) => {
      const ctx = contextFor(command);
      const warnMs = parseDuration(flags.warn, '--warn');
      const critMs = parseDuration(flags.crit, '--crit');
      if (critMs > warnMs) throw new UsageError('--crit must not be longer than --warn');
      const kinds = flags.kind?.split(',').map((k) => k.trim()) as RadarKind[] | undefined;
      const unknown = kinds?.filter((k) => !RADAR_KINDS.includes(k));
      if (unknown?.length) throw new UsageError(`--kind: ${unknown.join(', ')} is not one of ${RADAR_KINDS.join(', ')}`);
      if ((flags.dryRun || flags.deployHook !== undefined) && !flags.renew) throw new UsageError('--dry-run and --deploy-hook go with --renew');
      if (flags.renew && flags.at !== undefined) throw new UsageError('--renew renews now: leave out --at');
      const at = flags.at === undefined ? undefined : parseTime(flags.at, '--at');
      const now = () => at ?? ctx.now();
      const timeoutMs = parseDuration(flags.timeout, '--timeout');
      const { vault } = await ctx.openVault();
      const watch = (await readConfig(ctx.paths)).watch ?? [];
      const look = () => radar(vault, {
        warnMs, critMs, now: now(), ...(kinds ? { kinds } : {}),
        ...(watch.length ? { watched: () => checkWatched(watch, { warn: { ms: warnMs }, crit: { ms: critMs }, concurrency: 16, timeoutMs, now }, ctx.env) } : {}),
      });
      let items = await look();
      // Under the renewal lock, looking again: a run that waited finds what the other renewed.
      const renewals = flags.renew ? await renewing(ctx.paths.data, async () => {
        if (!flags.dryRun) items = await look();
        return renew(ctx, vault, items.filter((i) => i.automatic && i.status !== 'OK'), { now, warnMs, dryRun: flags.dryRun });
      }) : undefined;
      if (renewals && !flags.dryRun && renewals.some((r) => r.result === 'renewed')) items = await look();
      const certificates = (renewals ?? []).filter((r) => r.result === 'renewed' && r.file).map((r) => r.file!);
      const hook = flags.deployHook && certificates.length > 0 ? await runDeployHook(flags.deployHook, certificates, ctx.env) : undefined;
      if (hook) renewals!.push({ type: 'deploy-hook', name: flags.deployHook!, result: 'failed', detail: hook });
      const status = worst(items);
      if (flags.prometheus) await writeFileAtomic(flags.prometheus, prometheus(items), { overwrite: true, mode: 0o644 });
      if (ctx.flags.json) await ctx.json({ status, at: now().toISOString(), items, ...(renewals ? { renewals } : {}) });
      else {
        for (const r of renewals ?? []) await ctx.status(`${r.result}: ${r.type} ${r.name}${r.detail ? ` (${printable(r.detail)})` : ''}`);
        if (items.length > 0) await ctx.out(table(['STATUS', 'KIND', 'NAME', 'ENDS', 'DETAIL', 'RENEW WITH'], items.map((i) => [i.status, printable(i.type), printable(i.name), i.ends?.slice(0, 10) ?? '-', printable(i.message), printable(i.renew)])));
        await ctx.status(`${status}: ${items.length} on the radar${items.length ? `, ${items.filter((i) => i.status !== 'OK').length} need attention` : ''}`);
      }
      return { exitCode: STATUS_CODES[status] };
    }));
  // A monitoring plugin: a failure of its own (bad usage, a locked vault) is UNKNOWN, never 2 (CRITICAL).
  return withErrorCodes(command, () => STATUS_CODES.UNKNOWN);
}

interface Renewal {
  type: string;
  name: string;
  result: 'renewed' | 'would renew' | 'failed';
  detail?: string;
  /** A renewed certificate's file, for the deploy hook. */
  file?: string;
}

/** Renews each due item keysmith can renew alone; a failure of one does not stop the others. */
async function renew(ctx: Context, vault: Vault, due: RadarItem[], o: { now: () => Date; warnMs: number; dryRun: boolean }): Promise<Renewal[]> {
  const out: Renewal[] = [];
  for (const item of due) {
    try {
      if (o.dryRun) {
        out.push({ type: item.type, name: item.name, result: 'would renew', detail: item.renew });
      } else if (item.type === 'tls-cert') {
        const r = await renewIssued(vault, item.name, { now: o.now(), beforeMs: o.warnMs, env: ctx.env });
        out.push({ type: item.type, name: item.name, result: r.status === 'renewed' ? 'renewed' : 'failed', ...(r.reason ? { detail: r.reason } : { detail: `until ${r.notAfter}` }), ...(r.file ? { file: r.file } : {}) });
      } else if (item.type === 'oauth-refresh-token') {
        // A refresh now, whatever the access token's end: a provider that rotates refresh tokens gives a new one.
        const [{ getProvider }, { accessToken }] = await Promise.all([import('../../oauth/providers.js'), import('../../oauth/tokens.js')]);
        const { token, refreshed } = await accessToken(vault, item.name, await getProvider(ctx.paths, item.name), { minValidMs: Number.MAX_SAFE_INTEGER, now: o.now, paths: ctx.paths });
        out.push({ type: item.type, name: item.name, result: refreshed ? 'renewed' : 'failed', detail: refreshed ? `refreshed${token.expiresAt ? `; the access token until ${token.expiresAt}` : ''}` : 'the provider gave the access token no lifetime: nothing to refresh by; log in again' });
      } else if (item.type === 'ssh-key') {
        const { journalPath, rotateKey } = await import('../../ssh/rotate.js');
        // A rotation cut short (a host down) is finished, not started again.
        const resume = await exists(journalPath(ctx.paths.data, item.name));
        const r = await rotateKey(vault, item.name, {
          concurrency: 16, resume, dryRun: false, passphrase: async () => undefined,
          connect: connectOptions(ctx, {}), dataDir: ctx.paths.data, now: o.now,
        });
        out.push({ type: item.type, name: item.name, result: r.status === 'rotated' ? 'renewed' : 'failed', detail: r.status === 'rotated' ? `${r.oldFingerprint} → ${r.newFingerprint} on ${r.hosts.length} host(s)` : r.reason ?? `${r.status}: keysmith ssh rotate ${item.name} --resume` });
      }
    } catch (err) {
      out.push({ type: item.type, name: item.name, result: 'failed', detail: (err as Error).message.split('\n')[0] });
    }
  }
  return out;
}
