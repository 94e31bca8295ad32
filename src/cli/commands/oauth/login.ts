import type { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { UsageError } from '../../../errors.js';
import { canOpenBrowser, login } from '../../../oauth/login.js';
import { getProvider } from '../../../oauth/providers.js';
import type { ContextFor } from '../../context.js';
import { cliNotice } from '../../messages.js';

export default function loginCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'provider name')
    .option('--device', 'device flow: enter a code on another device (the default without a browser)', false)
    .option('--no-browser', 'print the login URL instead of opening a browser')
    .option('--port <n>', 'loopback port for the redirect (default: the provider\'s --redirect-port, else 0: any free one)')
    .option('--timeout <duration>', 'give up after this long', '5m')
    .addHelpText('after', `
Examples:
  $ keysmith oauth login corp
  $ keysmith oauth login corp --no-browser      # open the printed URL yourself
  $ keysmith oauth login corp --device          # on a server, over SSH`)
    .action(async (name: string, flags: { device: boolean; browser: boolean; port?: string; timeout: string }, command: Command) => {
      const ctx = contextFor(command);
      const explicit = flags.port === undefined ? undefined : loopbackPort(flags.port);
      const provider = await getProvider(ctx.paths, name);
      const port = explicit ?? provider.redirectPort ?? 0;
      const noBrowser = flags.browser === false;
      // Without a browser to open (and no --no-browser asking for the URL), the device flow is the way in.
      const device = flags.device || (!noBrowser && !canOpenBrowser(ctx.env, ctx.io.isTTY.stderr) && !!provider.server.device_authorization_endpoint);
      const { vault } = await ctx.openVault();
      const t = await login(vault, name, provider, {
        device, noBrowser, port, timeoutMs: parseDuration(flags.timeout, '--timeout'), now: ctx.now, env: ctx.env,
        terminal: ctx.io.isTTY.stderr && !ctx.flags.quiet,
        tell: (line, detail) => void ctx.io.stderr.write(`${cliNotice(line, detail)}\n`),
      });
      if (ctx.flags.json) return ctx.json({ name, subject: t.subject ?? null, scope: t.scope ?? null, expiresAt: t.expiresAt ?? null, refreshToken: !!t.refreshToken });
      await ctx.status(`logged in to ${name}${t.subject ? ` as ${t.subject}` : ''}`);
    });
}

/** --port: 0 (any free port) to 65535; Node's own message for a bad one is not for people. */
function loopbackPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError('--port must be a whole number from 0 to 65535', { hint: 'or leave --port out to use a free one' });
  return port;
}
