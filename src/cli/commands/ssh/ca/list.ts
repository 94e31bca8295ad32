import type { Command } from 'commander';
import { listSshCas } from '../../../../ssh/ca.js';
import { keyTypeName } from '../../../../ssh/keys.js';
import { shortDate, table } from '../../../output.js';
import type { ContextFor } from '../../../context.js';

export default function caListCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
Example:
  $ keysmith ssh ca list --json     # [{name, publicKey, fingerprint, algorithm, bits, comment, created}]`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const cas = await listSshCas(vault, (name, err) => void ctx.status(`keysmith: ssh-ca/${name} is damaged and left out: ${err.message}`));
      if (ctx.flags.json) return ctx.json(cas);
      if (cas.length === 0) return ctx.status('no SSH CAs yet: keysmith ssh ca create users');
      await ctx.out(table(['NAME', 'TYPE', 'FINGERPRINT', 'CREATED'], cas.map((c) => [c.name, `${keyTypeName(c.algorithm)} ${c.bits}`, c.fingerprint, shortDate(c.created)])));
    });
}
