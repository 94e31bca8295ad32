import type { Command } from 'commander';
import { checkOutputs, readUserFile, writeFileAtomic } from '../../../fs.js';
import { renderTemplate, templateReferences } from '../../../refs/inject.js';
import { resolveReferences } from '../../../refs/references.js';
import { readAll } from '../../io.js';
import type { ContextFor } from '../../context.js';
import { resolvers } from './resolvers.js';

export default function injectCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .option('-i, --in <file>', 'template (default: stdin)')
    .option('-o, --out <file>', 'output file, written atomically with mode 0600 (default: stdout)')
    .option('-f, --force', 'replace an existing output file', false)
    .addHelpText('after', `
References are {{ ks://NAME }} or {{ ks://NAME#field }}; everything else is copied byte for byte.
A missing reference fails (exit 3) before anything is written.

Examples:
  $ keysmith inject -i config.tmpl -o config.yml
  $ echo 'password: {{ ks://db/password }}' | keysmith inject`)
    .action(async (flags: { in?: string; out?: string; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (flags.out) await checkOutputs([flags.out], flags.force);
      const template = flags.in ? await readUserFile(flags.in) : await readAll(ctx.io.stdin);
      const refs = templateReferences(template);
      let values = new Map<string, Buffer>();
      if (refs.length > 0) {
        const { vault } = await ctx.openVault();
        values = await resolveReferences(vault, refs, resolvers(ctx, vault));
      }
      const output = renderTemplate(template, values);
      if (flags.out) {
        await writeFileAtomic(flags.out, output, { overwrite: flags.force });
        await ctx.status(`wrote ${flags.out} (${refs.length} reference(s) filled)`);
      } else await ctx.out(output);
    });
}
