import { Command } from 'commander';
import { UsageError } from '../../../errors.js';
import { parseTarget, targetName } from '../../../ssh/connect.js';
import { loadKey, saveKey } from '../../../ssh/store.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../program.js';

export function hostsCommand(contextFor: ContextFor): Command {
  const hosts = new Command('hosts').description('the hosts a key is deployed to (used by rotate)');
  hosts.addCommand(
    new Command('add')
      .description('record a host for a key (does not connect; see ssh deploy)')
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
      }),
  );
  hosts.addCommand(
    new Command('rm')
      .description('forget a host of a key (its authorized_keys is not touched)')
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
      }),
  );
  hosts.addCommand(
    new Command('list')
      .description("list a key's hosts")
      .argument('<name>', 'key name')
      .action(async (name: string, _flags: unknown, command: Command) => {
        const ctx = contextFor(command);
        const { vault } = await ctx.openVault();
        const key = await loadKey(vault, name);
        if (ctx.flags.json) return ctx.json(key.hosts);
        await ctx.out(table(['HOST', 'DEPLOYED', 'AUTHORIZED_KEYS'], key.hosts.map((h) => [h.target, h.deployedAt ?? '-', h.authorizedKeys ?? '~/.ssh/authorized_keys'])));
      }),
  );
  return hosts;
}
