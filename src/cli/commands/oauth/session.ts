import { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { UsageError } from '../../../errors.js';
import { canOpenBrowser, login } from '../../../oauth/login.js';
import { getProvider, listProviders } from '../../../oauth/providers.js';
import { accessToken, logout, readTokens } from '../../../oauth/tokens.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../program.js';

export function loginCommand(contextFor: ContextFor): Command {
  return new Command('login')
    .description('log in: authorization code with PKCE in the browser, or the device flow')
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
        tell: (line) => void ctx.io.stderr.write(`${line}\n`),
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

export function tokenCommand(contextFor: ContextFor): Command {
  return new Command('token')
    .description('print a valid access token, refreshing it first when it would expire soon')
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

export function statusCommand(contextFor: ContextFor): Command {
  return new Command('status')
    .description('who you are logged in as, scopes, expiry — never a token')
    .argument('[name]', 'provider name (default: all)')
    .addHelpText('after', `
Example:
  $ keysmith oauth status --json   # [{name, issuer, grant, loggedIn, subject, scope, accessTokenExpiresAt, refreshToken, storedIn}]`)
    .action(async (name: string | undefined, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const providers = name ? { [name]: await getProvider(ctx.paths, name) } : await listProviders(ctx.paths);
      const { vault, backend } = await ctx.openVault();
      const rows = [];
      for (const [n, p] of Object.entries(providers)) {
        const t = await readTokens(vault, n);
        rows.push({
          name: n, issuer: p.issuer, grant: p.grant, loggedIn: !!t.accessToken, subject: t.subject ?? null, scope: t.scope ?? null,
          accessTokenExpiresAt: t.expiresAt ?? null, refreshToken: !!t.refreshToken, storedIn: `${backend} vault, oauth/${n}`,
        });
      }
      if (ctx.flags.json) return ctx.json(rows);
      const now = ctx.now().getTime();
      await ctx.out(table(['NAME', 'LOGGED IN', 'SUBJECT', 'ACCESS TOKEN', 'REFRESH', 'SCOPE'], rows.map((r) => [
        r.name, r.loggedIn ? 'yes' : 'no', r.subject ?? '-',
        r.accessTokenExpiresAt ? (new Date(r.accessTokenExpiresAt).getTime() > now ? `valid until ${r.accessTokenExpiresAt}` : 'expired') : r.loggedIn ? 'no expiry given' : '-',
        r.refreshToken ? 'yes' : 'no', r.scope ?? '-',
      ])));
    });
}

export function logoutCommand(contextFor: ContextFor): Command {
  return new Command('logout')
    .description('revoke the tokens at the provider (RFC 7009), then delete them')
    .argument('<name>', 'provider name')
    .addHelpText('after', `
Example:
  $ keysmith oauth logout corp --json   # {revoked: [...], notRevoked: [{token, why}]}`)
    .action(async (name: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const provider = await getProvider(ctx.paths, name);
      const { vault } = await ctx.openVault();
      const result = await logout(vault, name, provider, ctx.now());
      if (ctx.flags.json) return ctx.json(result);
      await ctx.status(`logged out of ${name}${result.revoked.length ? `; revoked ${result.revoked.join(', ')}` : ''}`);
      for (const n of result.notRevoked) await ctx.status(`not revoked: ${n.token} (${n.why}); deleted locally`);
    });
}
