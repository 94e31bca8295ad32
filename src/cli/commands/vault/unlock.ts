import type { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { unlockVault } from '../../../vault/manage.js';
import type { ContextFor } from '../../context.js';

export default function unlockCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .option('--ttl <duration>', 'how long the session lasts (e.g. 30m, 12h)', '12h')
    .addHelpText('after', `
Unlocking with a passphrase costs about a second (scrypt); a session pays it once.

Examples:
  $ export KEYSMITH_SESSION="$(keysmith vault unlock)"
  $ keysmith secret get db/password     # no passphrase asked
  $ keysmith vault lock                 # ends every session`)
    .action(async (flags: { ttl: string }, command: Command) => {
      const ctx = contextFor(command);
      const expires = new Date(ctx.now().getTime() + parseDuration(flags.ttl, '--ttl'));
      const token = await unlockVault(ctx.vaultOptions('file'), expires);
      if (ctx.flags.json) return ctx.json({ session: token, expires: expires.toISOString() });
      await ctx.out(ctx.io.isTTY.stdout ? `${token}\n` : token);
      await ctx.status(`session valid until ${expires.toISOString()}; end it with: keysmith vault lock`);
    });
}
