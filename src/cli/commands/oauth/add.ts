import { type Command, Option } from 'commander';
import { parseTime } from '../../../duration.js';
import { UsageError } from '../../../errors.js';
import { discover } from '../../../oauth/client.js';
import type { ClientAuthMethod } from '../../../oauth/client.js';
import { preset, redirectUriFor, saveProvider, validateProviderName, type Grant, type ProviderConfig } from '../../../oauth/providers.js';
import { readTokens, writeTokens } from '../../../oauth/tokens.js';
import type { ContextFor } from '../../context.js';

interface AddFlags {
  issuer?: string;
  clientId: string;
  scope?: string;
  clientSecretStdin: boolean;
  clientSecretExpires?: string;
  audience?: string;
  grant?: Grant;
  preset?: string;
  authMethod?: 'basic' | 'post' | 'none';
  redirectPort?: string;
}

const AUTH_METHODS: Record<string, ClientAuthMethod> = { basic: 'client_secret_basic', post: 'client_secret_post', none: 'none' };

export default function addCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'provider name, e.g. corp')
    .option('--issuer <url>', 'issuer URL (OIDC discovery / RFC 8414)')
    .option('--preset <preset>', 'github, gitlab, google or microsoft[:tenant]')
    .requiredOption('--client-id <id>', 'client ID')
    .option('--scope <scopes>', 'scopes (default: openid profile offline_access, or the preset\'s)')
    .option('--client-secret-stdin', 'read the client secret from stdin (confidential clients, client credentials)', false)
    .option('--client-secret-expires <date>', 'when the client secret stops working (ISO 8601), for keysmith expiry')
    .option('--audience <api>', 'audience / resource to request')
    .addOption(new Option('--grant <grant>', 'how tokens are obtained').choices(['auth-code', 'device', 'client-credentials']))
    .addOption(new Option('--auth-method <method>', 'how the client authenticates (default: from the provider\'s metadata, basic first)').choices(['basic', 'post', 'none']))
    .option('--redirect-port <n>', 'a fixed loopback port for every login (redirect URI http://127.0.0.1:N/callback), for providers that match redirect URIs exactly')
    .addHelpText('after', `
Examples:
  $ keysmith oauth add corp --issuer https://login.example.com --client-id cli-app
  $ keysmith oauth add gh --preset github --client-id Iv1.abc
  $ printf %s "$SECRET" | keysmith oauth add ci --issuer https://login.example.com --client-id ci --client-secret-stdin --grant client-credentials
  $ keysmith oauth add corp --issuer https://sso.example.com --client-id cli --redirect-port 8765   # register http://127.0.0.1:8765/callback`)
    .action(async (name: string, flags: AddFlags, command: Command) => {
      const ctx = contextFor(command);
      validateProviderName(name);
      if (!!flags.issuer === !!flags.preset) throw new UsageError('give --issuer URL or --preset NAME');
      const redirectPort = flags.redirectPort === undefined ? undefined : Number(flags.redirectPort);
      if (redirectPort !== undefined && (!/^\d+$/.test(flags.redirectPort!) || redirectPort < 1 || redirectPort > 65535)) {
        throw new UsageError('--redirect-port must be a whole number from 1 to 65535', { hint: 'or leave it out to use any free loopback port (RFC 8252 §7.3)' });
      }
      const p = flags.preset ? preset(flags.preset) : undefined;
      const issuer = flags.issuer ?? p!.issuer;
      if (!URL.canParse(issuer) || new URL(issuer).protocol !== 'https:') throw new UsageError(`--issuer: expected an https:// URL, got ${JSON.stringify(issuer)}`);
      const server = p?.server ?? (await discover(issuer, flags.clientId));
      const grant: Grant = flags.grant ?? (flags.clientSecretStdin && !server.authorization_endpoint ? 'client-credentials' : 'auth-code');
      const secret = flags.clientSecretStdin ? await ctx.secretInput(true, 'Client secret', { instead: '--client-secret-stdin' }) : undefined;
      if (flags.clientSecretStdin && !secret) throw new UsageError('--client-secret-stdin: stdin was empty');
      const secretExpires = flags.clientSecretExpires === undefined ? undefined : parseTime(flags.clientSecretExpires, '--client-secret-expires').toISOString();
      if (secretExpires && !secret) throw new UsageError('--client-secret-expires goes with --client-secret-stdin');
      if (grant === 'client-credentials' && !secret) throw new UsageError('client credentials need --client-secret-stdin');
      const authMethod = flags.authMethod ? AUTH_METHODS[flags.authMethod]! : undefined;
      if (authMethod && authMethod !== 'none' && !secret) throw new UsageError(`--auth-method ${flags.authMethod} needs a client secret: --client-secret-stdin`);
      const provider: ProviderConfig = {
        issuer, clientId: flags.clientId, scope: flags.scope ?? p?.scope ?? (grant === 'client-credentials' ? '' : 'openid profile offline_access'),
        grant, ...(flags.audience ? { audience: flags.audience } : {}), ...(flags.preset ? { preset: flags.preset } : {}),
        ...(authMethod ? { authMethod } : {}), ...(redirectPort ? { redirectPort } : {}), server,
      };
      const { vault } = await ctx.openVault();
      if (secret) {
        const { clientSecretExpires: _old, ...tokens } = await readTokens(vault, name);
        await writeTokens(vault, name, { ...tokens, clientSecret: secret, ...(secretExpires ? { clientSecretExpires: secretExpires } : {}) }, ctx.now());
      }
      await saveProvider(ctx.paths, name, provider);
      // The redirect URI the provider must accept: a user registering the client needs it now.
      const redirectUri = grant === 'auth-code' ? redirectUriFor(redirectPort ?? 'PORT') : undefined;
      if (ctx.flags.json) return ctx.json({ name, issuer, clientId: provider.clientId, grant, scope: provider.scope, authMethod: authMethod ?? null, redirectUri: redirectUri ?? null });
      await ctx.status(`added ${name} (${issuer}, ${grant})${grant === 'client-credentials' ? '' : `; log in with: keysmith oauth login ${name}`}`);
      if (redirectUri) {
        await ctx.status(redirectPort
          ? `redirect URI: ${redirectUri} (register it for client ${provider.clientId})`
          : `redirect URI: ${redirectUri} with any free port (RFC 8252 §7.3); if the provider matches redirect URIs exactly, register one port and add ${name} again with --redirect-port PORT`);
      }
    });
}
