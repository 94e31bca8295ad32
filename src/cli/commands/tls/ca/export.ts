import type { Command } from 'commander';
import { checkOutputs, writeFileAtomic } from '../../../../fs.js';
import { loadCa } from '../../../../tls/ca.js';
import type { ContextFor } from '../../../context.js';

export default function caExportCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('[name]', 'CA name', 'dev')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('-f, --force', 'replace an existing file', false)
    .addHelpText('after', `
Examples:
  $ keysmith tls ca export dev --out ca.pem
  $ openssl verify -CAfile <(keysmith tls ca export) example.test.pem`)
    .action(async (name: string, flags: { out?: string; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (flags.out) await checkOutputs([flags.out], flags.force);
      const { vault } = await ctx.openVault();
      const { certificatePem } = await loadCa(vault, name);
      if (!flags.out) return ctx.out(certificatePem);
      await writeFileAtomic(flags.out, certificatePem, { mode: 0o644, overwrite: flags.force });
      await ctx.status(`wrote ${flags.out}`);
    });
}
