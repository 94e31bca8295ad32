import type { Command } from 'commander';
import { checkOutputs, readUserFile, writeFileAtomic } from '../../../fs.js';
import { parseDays } from '../../../tls/ca.js';
import { signRequest } from '../../../tls/issue.js';
import type { ContextFor } from '../../context.js';
import { caFor } from './issue.js';

export default function signCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<csr>', 'PKCS#10 request file (PEM or DER)')
    .option('--ca <name>', 'CA to sign with (default: dev)')
    .option('--days <n>', 'lifetime in days', '397')
    .option('--client', 'also for client authentication', false)
    .option('--out <file>', 'write the certificate here instead of stdout')
    .option('-f, --force', 'replace an existing file', false)
    .addHelpText('after', `
Only the request's subject, key and names are used; the CA sets usages and lifetime.

Example:
  $ keysmith tls sign req.csr --ca dev --days 90 --out server.pem`)
    .action(async (file: string, flags: { ca?: string; days: string; client: boolean; out?: string; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const days = parseDays(flags.days);
      if (flags.out) await checkOutputs([flags.out], flags.force);
      const request = await readUserFile(file);
      const { vault } = await ctx.openVault();
      const ca = await caFor(ctx, vault, flags.ca);
      const issued = await signRequest(ca, request, { days, client: flags.client, now: ctx.now() });
      if (!flags.out) return ctx.out(issued.certificatePem);
      await writeFileAtomic(flags.out, issued.certificatePem, { mode: 0o644, overwrite: flags.force });
      await ctx.status(`wrote ${flags.out} (CA ${ca.name}, valid until ${issued.notAfter.toISOString()})`);
    });
}
