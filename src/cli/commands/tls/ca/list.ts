import type { Command } from 'commander';
import { listCas, loadCa } from '../../../../tls/ca.js';
import { inspectBytes, type CertificateInfo } from '../../../../tls/inspect.js';
import { table } from '../../../output.js';
import type { ContextFor } from '../../../context.js';

export default function caListCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
Example:
  $ keysmith tls ca list --json     # [{name, subject, key, notAfter, daysLeft}]`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const rows = [];
      for (const name of await listCas(vault)) {
        const [info] = (await inspectBytes(Buffer.from((await loadCa(vault, name)).certificatePem), name, ctx.now())) as CertificateInfo[];
        rows.push({ name, subject: info!.subject, key: info!.key, notAfter: info!.notAfter, daysLeft: info!.daysLeft });
      }
      if (ctx.flags.json) return ctx.json(rows);
      if (rows.length === 0) return ctx.status('no CAs yet: keysmith tls ca create');
      await ctx.out(table(['NAME', 'KEY', 'EXPIRES', 'DAYS LEFT'], rows.map((r) => [r.name, `${r.key.type} ${r.key.bits ?? ''}`.trim(), r.notAfter, String(r.daysLeft)])));
    });
}
