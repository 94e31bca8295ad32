import type { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { getProvider } from '../../../oauth/providers.js';
import { accessToken } from '../../../oauth/tokens.js';
import type { ContextFor } from '../../context.js';

export default function tokenCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'provider name')
    .option('--min-valid <duration>', 'refresh when it expires within this', '60s')
    .option('--header', 'print "Authorization: Bearer …"', false)
    .addHelpText('after', `
Examples:
  $ curl -H "Authorization: Bearer $(keysmith oauth token corp)" https://api.example.com/me
  $ curl -H "$(keysmith oauth token corp --header)" https://api.example.com/me
  $ keysmith oauth token corp --json   # {accessToken, expiresAt, scope, refreshed}`)
    .action(async (name: string, flags: { minValid: string; header: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const provider = await getProvider(ctx.paths, name);
      const { vault } = await ctx.openVault();
      const { token, refreshed } = await accessToken(vault, name, provider, { minValidMs: parseDuration(flags.minValid, '--min-valid'), now: ctx.now, paths: ctx.paths });
      if (ctx.flags.json) return ctx.json({ accessToken: token.accessToken, expiresAt: token.expiresAt ?? null, scope: token.scope ?? null, refreshed });
      const text = flags.header ? `Authorization: Bearer ${token.accessToken}` : token.accessToken!;
      await ctx.out(ctx.io.isTTY.stdout ? `${text}\n` : text);
    });
}
