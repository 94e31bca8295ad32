import type { Command } from 'commander';
import { EXIT_CODES } from '../../exit-codes.js';
import { vaultStatus } from '../../../vault/manage.js';
import { cliBackendReason, cliMessage } from '../../messages.js';
import { action } from '../../action.js';
import type { ContextFor } from '../../context.js';

export default function statusCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
Examples:
  $ keysmith vault status
  $ keysmith vault status --json   # {backend, location, reason, writable, items, identity?, error?}`)
    .action(action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { status, source, failure } = await vaultStatus(ctx.vaultOptions());
      status.reason = cliBackendReason(source, status.reason);
      if (failure && status.error) {
        const { message, hint } = cliMessage(failure);
        status.error = { code: status.error.code, message, ...(hint ? { hint } : {}) };
      }
      if (ctx.flags.json) await ctx.json(status);
      else {
        const rows: Array<[string, string | undefined]> = [
          ['backend', status.backend],
          ['location', status.location],
          ['chosen', status.reason],
          ['writable', status.writable ? 'yes' : 'no'],
          ['identity', status.identity],
          ['items', status.items === null ? 'unknown' : String(status.items)],
          ['error', status.error?.message],
          ['hint', status.error?.hint],
        ];
        await ctx.out(rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(10)}${v}\n`).join(''));
      }
      return { exitCode: failure ? EXIT_CODES[failure.kind] : 0 };
    }));
}
