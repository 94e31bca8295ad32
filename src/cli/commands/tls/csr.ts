import { type Command, Option } from 'commander';
import { join } from 'node:path';
import { creatingFiles, refuseExisting } from '../../../fs.js';
import { createRequest } from '../../../tls/csr.js';
import { fileStem } from '../../../tls/names.js';
import type { ContextFor } from '../../context.js';
import { KEY_TYPES } from './issue.js';

export default function csrCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<names...>', 'names to request')
    .addOption(new Option('--key <type>', 'key type').choices(KEY_TYPES).default('ec:p256'))
    .option('--out-dir <dir>', 'where to write NAME.csr and NAME-key.pem', '.')
    .option('-f, --force', 'replace existing files', false)
    .addHelpText('after', `
Example:
  $ keysmith tls csr example.test www.example.test && keysmith tls sign example.test+1.csr --ca dev`)
    .action(async (names: string[], flags: { key: string; outDir: string; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const stem = fileStem(names);
      const csrPath = join(flags.outDir, `${stem}.csr`);
      const keyPath = join(flags.outDir, `${stem}-key.pem`);
      await refuseExisting([csrPath, keyPath], flags.force);
      const { csrPem, keyPem } = await createRequest(names, { key: flags.key });
      // A request without its key (or a key without its request) is of no use: both, or neither.
      await creatingFiles(async (files) => {
        await files.mkdir(flags.outDir);
        await files.write(keyPath, keyPem, { overwrite: flags.force });
        await files.write(csrPath, csrPem, { mode: 0o644, overwrite: flags.force });
      });
      if (ctx.flags.json) return ctx.json({ request: csrPath, key: keyPath });
      await ctx.status(`wrote ${csrPath} and ${keyPath}`);
    });
}
