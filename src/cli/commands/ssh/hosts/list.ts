import type { Command } from 'commander';
import { loadKey } from '../../../../ssh/store.js';
import { table } from '../../../output.js';
import type { ContextFor } from '../../../context.js';

export default function hostsListCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'key name')
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const key = await loadKey(vault, name);
      if (ctx.flags.json) return ctx.json(key.hosts);
      await ctx.out(table(['HOST', 'DEPLOYED', 'AUTHORIZED_KEYS'], key.hosts.map((h) => [h.target, h.deployedAt ?? '-', h.authorizedKeys ?? '~/.ssh/authorized_keys'])));
    });
}
