import type { Command } from 'commander';
import { UsageError } from '../../../../errors.js';
import { parseTarget, targetName } from '../../../../ssh/connect.js';
import { loadKey, saveKey } from '../../../../ssh/store.js';
import type { ContextFor } from '../../../context.js';

export default function hostsRmCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'key name')
    .argument('<target>', 'user@host[:port]')
    .action(async (name: string, target: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const t = targetName(parseTarget(target));
      const { vault } = await ctx.openVault();
      const key = await loadKey(vault, name);
      if (!key.hosts.some((h) => h.target === t)) throw new UsageError(`${t} is not a host of ${name}`, undefined, 'ERR_SSH_UNKNOWN_HOST');
      await saveKey(vault, { ...key, hosts: key.hosts.filter((h) => h.target !== t) }, ctx.now());
      await ctx.status(`${name}: ${t} forgotten`);
    });
}
