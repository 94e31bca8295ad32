import type { Command } from 'commander';
import { loadCa } from '../../../../tls/ca.js';
import { inspectBytes } from '../../../../tls/inspect.js';
import type { ContextFor } from '../../../context.js';
import { renderInfo } from '../render.js';

export default function caShowCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('[name]', 'CA name', 'dev')
    .addHelpText('after', `
Example:
  $ keysmith tls ca show dev --json`)
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const [info] = await inspectBytes(Buffer.from((await loadCa(vault, name)).certificatePem), name, ctx.now());
      if (ctx.flags.json) return ctx.json(info);
      await ctx.out(renderInfo(info!));
    });
}
