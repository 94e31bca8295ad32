import type { Command } from 'commander';
import { keyTypeName } from '../../../ssh/keys.js';
import { listKeys } from '../../../ssh/store.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../context.js';
import { ageDays } from './common.js';

export default function listCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
Example:
  $ keysmith ssh list --json   # [{name, type, bits, fingerprint, path, vaultOnly, created, ageDays, hosts}]`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const keys = await listKeys(vault);
      const rows = keys.map((k) => ({ name: k.name, type: keyTypeName(k.algorithm), bits: k.bits, fingerprint: k.fingerprint, path: k.path, vaultOnly: k.privateKey !== undefined, created: k.created, ageDays: ageDays(k.created, ctx.now()), hosts: k.hosts.map((h) => h.target) }));
      if (ctx.flags.json) return ctx.json(rows);
      if (rows.length === 0) return ctx.status('no managed keys: keysmith ssh keygen NAME or keysmith ssh import PATH');
      await ctx.out(table(['NAME', 'TYPE', 'FINGERPRINT', 'AGE', 'HOSTS', 'PATH'], rows.map((r) => [r.name, `${r.type} ${r.bits}`, r.fingerprint, `${r.ageDays}d`, String(r.hosts.length), r.vaultOnly ? `vault (${r.path}.pub)` : r.path])));
    });
}
