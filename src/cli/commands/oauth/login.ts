import type { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { UsageError } from '../../../errors.js';
import { canOpenBrowser, login } from '../../../oauth/login.js';
import { getProvider, type ProviderConfig } from '../../../oauth/providers.js';
import type { Vault } from '../../../vault/types.js';
import type { Context, ContextFor } from '../../context.js';
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
      const { vault } = await ctx.openVault();
      const t = await loginAsPerson(ctx, vault, name, provider, { device: flags.device, noBrowser: flags.browser === false, port: explicit ?? provider.redirectPort ?? 0, timeoutMs: parseDuration(flags.timeout, '--timeout') });
      if (ctx.flags.json) return ctx.json({ name, subject: t.subject ?? null, scope: t.scope ?? null, expiresAt: t.expiresAt ?? null, refreshToken: !!t.refreshToken });
      await ctx.status(`logged in to ${name}${t.subject ? ` as ${t.subject}` : ''}`);
    });
}

/**
 * A login with a person at this terminal, its lines on stderr. Without a browser to open (and no
 * --no-browser asking for the URL), the device flow is the way in.
 */
export async function loginAsPerson(ctx: Context, vault: Vault, name: string, provider: ProviderConfig, o: { device: boolean; noBrowser: boolean; port: number; timeoutMs: number }) {
  const device = o.device || (!o.noBrowser && !canOpenBrowser(ctx.env, ctx.io.isTTY.stderr) && !!provider.server.device_authorization_endpoint);
  return login(vault, name, provider, {
    ...o, device, now: ctx.now, env: ctx.env,
    terminal: ctx.io.isTTY.stderr && !ctx.flags.quiet,
    tell: (line, detail) => void ctx.io.stderr.write(`${cliNotice(line, detail)}\n`),
  });
}

/** --port: 0 (any free port) to 65535; Node's own message for a bad one is not for people. */
function loopbackPort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError('--port must be a whole number from 0 to 65535', { hint: 'or leave --port out to use a free one' });
  return port;
}
