import type { Command } from 'commander';
import { readConfig, updateConfig } from '../../../../config.js';
import { UsageError } from '../../../../errors.js';
import { parseEndpoint } from '../../../../tls/remote.js';
import type { ContextFor } from '../../../context.js';

export default function addCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<targets...>', 'host:port, https://…, smtp://…, certificate files or quoted globs')
    .addHelpText('after', `
Examples:
  $ keysmith tls watch add example.com:443 smtp://mail.example.com 'certs/**/*.pem'`)
    .action(async (targets: string[], _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      for (const t of targets) {
        if (!t.trim() || /[\n\0]/.test(t)) throw new UsageError(`not a target: ${JSON.stringify(t.slice(0, 80))}`);
        // An endpoint must parse as tls check parses it; anything else is a file or a glob, read when checked.
        if (/^[a-z]+:\/\//i.test(t)) parseEndpoint(t);
      }
      const watch = (await readConfig(ctx.paths)).watch ?? [];
      const added = targets.filter((t, i) => !watch.includes(t) && targets.indexOf(t) === i);
      await updateConfig(ctx.paths, { watch: [...watch, ...added] });
      if (ctx.flags.json) return ctx.json({ added, watch: [...watch, ...added] });
      await ctx.status(added.length ? `watching ${added.join(', ')}` : 'already watched');
    });
}
