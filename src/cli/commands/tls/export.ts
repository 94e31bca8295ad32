import { type Command, Option } from 'commander';
import { UsageError } from '../../../errors.js';
import { checkOutputs, writeFileAtomic } from '../../../fs.js';
import { loadIssued } from '../../../tls/issue.js';
import { toPkcs12 } from '../../../tls/p12.js';
import type { ContextFor } from '../../context.js';
import { p12Password } from './password.js';

export default function exportCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'as written by tls issue, e.g. example.test+2')
    .addOption(new Option('--format <format>', 'pem (certificate, chain, key) or p12').choices(['pem', 'p12']).default('pem'))
    .option('--out <file>', 'file to write (mode 0600); PEM goes to stdout without it')
    .option('--password-stdin', 'read the PKCS#12 password from stdin', false)
    .option('-f, --force', 'replace an existing file', false)
    .addHelpText('after', `
Examples:
  $ keysmith tls export example.test+2 --format p12 --out example.p12
  $ keysmith tls export example.test+2 > bundle.pem`)
    .action(async (name: string, flags: { format: 'pem' | 'p12'; out?: string; passwordStdin: boolean; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (flags.format === 'p12' && !flags.out) throw new UsageError('--format p12 needs --out FILE (it is binary)');
      if (flags.out) await checkOutputs([flags.out], flags.force);
      const { vault } = await ctx.openVault();
      const issued = await loadIssued(vault, name);
      const data = flags.format === 'p12'
        ? await toPkcs12(issued.keyPem, [issued.certificatePem, ...issued.chain], await p12Password(ctx, flags.passwordStdin, '--password-stdin', true), name)
        : [issued.certificatePem, ...issued.chain, issued.keyPem].join('');
      if (!flags.out) return ctx.out(data);
      await writeFileAtomic(flags.out, data, { overwrite: flags.force });
      await ctx.status(`wrote ${flags.out}`);
    });
}
