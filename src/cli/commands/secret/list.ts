import type { Command } from 'commander';
import { shortDate, table } from '../../output.js';
import type { ContextFor } from '../../context.js';

export default function listCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('[prefix]', 'only names starting with this, e.g. db/')
    .addHelpText('after', `
Examples:
  $ keysmith secret list
  $ keysmith secret list db/ --json           # [{name, kind, created, updated}]`)
    .action(async (prefix: string | undefined, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const items = await vault.list(prefix);
      if (ctx.flags.json) return ctx.json(items);
      if (items.length === 0) return ctx.status(prefix ? `no secrets under ${prefix}` : 'no secrets yet');
      await ctx.out(table(['NAME', 'KIND', 'UPDATED'], items.map((i) => [i.name, i.kind, shortDate(i.updated)])));
    });
}
