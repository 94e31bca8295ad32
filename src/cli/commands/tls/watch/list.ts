import type { Command } from 'commander';
import { readConfig } from '../../../../config.js';
import type { ContextFor } from '../../../context.js';

export default function listCommand(command: Command, contextFor: ContextFor): Command {
  return command.action(async (_flags: unknown, command: Command) => {
    const ctx = contextFor(command);
    const watch = (await readConfig(ctx.paths)).watch ?? [];
    if (ctx.flags.json) return ctx.json(watch);
    if (watch.length === 0) return ctx.status('nothing watched: keysmith tls watch add TARGET…');
    await ctx.out(`${watch.join('\n')}\n`);
  });
}
