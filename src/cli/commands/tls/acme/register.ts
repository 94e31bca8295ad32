import type { Command } from 'commander';
import { UsageError } from '../../../../errors.js';
import { register } from '../../../../tls/acme.js';
import type { ContextFor } from '../../../context.js';
import { acmeDirectory } from '../issue.js';

interface RegisterFlags {
  directory?: string;
  email?: string;
  agreeTos: boolean;
  eabKid?: string;
  eabHmacKeyStdin: boolean;
}

export default function registerCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .option('--directory <url>', "the CA's ACME directory (default: KEYSMITH_ACME_DIRECTORY, else Let's Encrypt)")
    .option('--email <address>', 'a contact for expiry and problem notices')
    .option('--agree-tos', "agree to the CA's terms of service (required to register)", false)
    .option('--eab-kid <id>', 'External Account Binding: the key id the CA gave you')
    .option('--eab-hmac-key-stdin', 'External Account Binding: read the HMAC key (base64url) from stdin', false)
    .addHelpText('after', `
Examples:
  $ keysmith tls acme register --email me@example.com --agree-tos
  $ printf %s "$EAB_HMAC" | keysmith tls acme register --directory https://acme.zerossl.com/v2/DV90 --eab-kid kid-1 --eab-hmac-key-stdin --agree-tos`)
    .action(async (flags: RegisterFlags, command: Command) => {
      const ctx = contextFor(command);
      if (!!flags.eabKid !== flags.eabHmacKeyStdin) throw new UsageError('External Account Binding needs both --eab-kid and --eab-hmac-key-stdin');
      const directory = acmeDirectory(ctx.env, flags.directory);
      const hmacKey = flags.eabHmacKeyStdin ? await ctx.secretInput(true, 'EAB HMAC key', { instead: '--eab-hmac-key-stdin' }) : undefined;
      if (hmacKey !== undefined && !/^[A-Za-z0-9_-]+={0,2}$/.test(hmacKey.trim())) throw new UsageError('--eab-hmac-key-stdin: the HMAC key is base64url, as the CA gave it');
      const { vault } = await ctx.openVault();
      const r = await register(vault, { directory, agreeTos: flags.agreeTos, now: ctx.now(), ...(flags.email ? { email: flags.email } : {}), ...(flags.eabKid ? { eab: { kid: flags.eabKid, hmacKey: hmacKey!.trim() } } : {}) });
      if (ctx.flags.json) return ctx.json({ directory, accountUrl: r.accountUrl, created: r.created });
      await ctx.status(r.created ? `registered ${r.accountUrl} at ${directory}` : `already registered at ${directory}: ${r.accountUrl}`);
    });
}
