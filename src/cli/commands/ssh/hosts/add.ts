import type { Command } from 'commander';
import { parseTarget, targetName } from '../../../../ssh/connect.js';
import { loadKey, saveKey } from '../../../../ssh/store.js';
import type { ContextFor } from '../../../context.js';

export default function hostsAddCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'key name')
    .argument('<target>', 'user@host[:port]')
    .option('--authorized-keys <path>', 'remote authorized_keys path (default ~/.ssh/authorized_keys)')
    .addHelpText('after', `
Example:
  $ keysmith ssh hosts add work deploy@web1.example.com:2222`)
    .action(async (name: string, target: string, flags: { authorizedKeys?: string }, command: Command) => {
      const ctx = contextFor(command);
      const t = targetName(parseTarget(target));
      const { vault } = await ctx.openVault();
      const key = await loadKey(vault, name);
      const others = key.hosts.filter((h) => h.target !== t);
      const entry = { ...key.hosts.find((h) => h.target === t), target: t, ...(flags.authorizedKeys ? { authorizedKeys: flags.authorizedKeys } : {}) };
      await saveKey(vault, { ...key, hosts: [...others, entry] }, ctx.now());
      await ctx.status(`${name}: ${t} recorded`);
    });
}
