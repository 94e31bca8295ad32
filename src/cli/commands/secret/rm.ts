import type { Command } from 'commander';
import { NotFoundError } from '../../../errors.js';
import { validateName } from '../../../vault/names.js';
import type { ContextFor } from '../../context.js';
import { vaultOf } from '../../output.js';

export default function rmCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'secret name')
    .option('-f, --force', 'succeed even when there is no such secret', false)
    .addHelpText('after', `
Example:
  $ keysmith secret rm db/password`)
    .action(async (name: string, flags: { force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      validateName(name);
      const { vault, backend } = await ctx.openVault();
      const removed = await vault.delete(name);
      if (!removed && !flags.force) throw new NotFoundError(`no secret named ${name} in ${vaultOf(name, backend)}`, undefined, 'ERR_VAULT_NOT_FOUND');
      if (ctx.flags.json) await ctx.json({ name, removed });
      await ctx.status(removed ? `removed ${name}` : `${name} was not there`);
    });
}
