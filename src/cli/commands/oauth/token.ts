import type { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { KeysmithError, UsageError } from '../../../errors.js';
import { execCredential, execInfo } from '../../../helpers/kube-exec-credential.js';
import { getProvider } from '../../../oauth/providers.js';
import { accessToken } from '../../../oauth/tokens.js';
import type { ContextFor } from '../../context.js';
import { loginAsPerson } from './login.js';

export default function tokenCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'provider name')
    .option('--min-valid <duration>', 'refresh when it expires within this', '60s')
    .option('--header', 'print "Authorization: Bearer …"', false)
    .option('--exec-credential', "print a Kubernetes ExecCredential (kubectl's exec plugin); logs in only when kubectl says a person is there", false)
    .addHelpText('after', `
Examples:
  $ curl -H "Authorization: Bearer $(keysmith oauth token corp)" https://api.example.com/me
  $ curl -H "$(keysmith oauth token corp --header)" https://api.example.com/me
  $ keysmith oauth token corp --json   # {accessToken, expiresAt, scope, refreshed}
  # kubeconfig users[].user.exec: {apiVersion: client.authentication.k8s.io/v1, command: keysmith,
  #   args: [oauth, token, corp, --exec-credential], interactiveMode: IfAvailable}`)
    .action(async (name: string, flags: { minValid: string; header: boolean; execCredential: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (flags.execCredential && (flags.header || ctx.flags.json)) throw new UsageError('--exec-credential prints its own JSON: leave out --header and --json');
      const kube = flags.execCredential ? execInfo(ctx.env) : undefined;
      const provider = await getProvider(ctx.paths, name);
      const { vault } = await ctx.openVault();
      const options = { minValidMs: parseDuration(flags.minValid, '--min-valid'), now: ctx.now, paths: ctx.paths };
      const { token, refreshed } = await accessToken(vault, name, provider, options).catch(async (err: unknown) => {
        // kubectl says a person is at the terminal: log in as `oauth login` would, then go on.
        if (!kube?.interactive || !(err instanceof KeysmithError) || err.code !== 'ERR_OAUTH_LOGIN_NEEDED') throw err;
        await loginAsPerson(ctx, vault, name, provider, { device: false, noBrowser: false, port: provider.redirectPort ?? 0, timeoutMs: 300_000 });
        return accessToken(vault, name, provider, options);
      });
      if (kube) return ctx.out(execCredential(kube.apiVersion, { token: token.accessToken! }, token.expiresAt));
      if (ctx.flags.json) return ctx.json({ accessToken: token.accessToken, expiresAt: token.expiresAt ?? null, scope: token.scope ?? null, refreshed });
      const text = flags.header ? `Authorization: Bearer ${token.accessToken}` : token.accessToken!;
      await ctx.out(ctx.io.isTTY.stdout ? `${text}\n` : text);
    });
}
