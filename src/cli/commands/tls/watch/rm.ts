import type { Command } from 'commander';
import { readConfig, updateConfig } from '../../../../config.js';
import { NotFoundError } from '../../../../errors.js';
import type { ContextFor } from '../../../context.js';

export default function rmCommand(command: Command, contextFor: ContextFor): Command {
  return command.argument('<targets...>', 'targets as added').action(async (targets: string[], _flags: unknown, command: Command) => {
    const ctx = contextFor(command);
    const watch = (await readConfig(ctx.paths)).watch ?? [];
    const missing = targets.filter((t) => !watch.includes(t));
    if (missing.length) throw new NotFoundError(`not watched: ${missing.join(', ')}`, undefined, 'ERR_WATCH_NOT_FOUND');
    const rest = watch.filter((t) => !targets.includes(t));
    await updateConfig(ctx.paths, { watch: rest });
    if (ctx.flags.json) return ctx.json({ removed: targets, watch: rest });
    await ctx.status(`no longer watching ${targets.join(', ')}`);
  });
}
