import { type Command, Option } from 'commander';
import { createSshCa } from '../../../../ssh/ca.js';
import type { KeyType } from '../../../../ssh/keys.js';
import type { ContextFor } from '../../../context.js';
import { positiveInt } from '../common.js';

interface CreateFlags {
  key: KeyType;
  bits?: string;
  comment?: string;
  force: boolean;
}

export default function caCreateCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'CA name, e.g. users or hosts')
    .addOption(new Option('--key <type>', 'key type').choices(['ed25519', 'ecdsa', 'rsa']).default('ed25519'))
    .option('-b, --bits <n>', 'ecdsa: 256, 384 or 521; rsa: at least 3072 (it signs with rsa-sha2-512)')
    .option('-C, --comment <text>', "the public key's comment (default keysmith-ca:NAME)")
    .option('-f, --force', 'replace an existing CA of that name (what trusts it will no longer accept the certificates it signed)', false)
    .addHelpText('after', `
The CA's private key is kept in the vault (record ssh-ca/NAME) and never written to a file. Keep one
CA for user certificates and another for host certificates: a host trusting the user CA should not
thereby trust every host it signed.

Examples:
  $ keysmith ssh ca create users
  $ keysmith ssh ca create hosts --key ecdsa -b 384
  $ keysmith ssh ca create users --json     # {name, publicKey, fingerprint, algorithm, bits, comment, created}`)
    .action(async (name: string, flags: CreateFlags, command: Command) => {
      const ctx = contextFor(command);
      const bits = flags.bits === undefined ? undefined : positiveInt(flags.bits, '-b', 16384);
      const { vault } = await ctx.openVault();
      const ca = await createSshCa(vault, name, { type: flags.key, ...(bits ? { bits } : {}), ...(flags.comment !== undefined ? { comment: flags.comment } : {}), force: flags.force, now: ctx.now() });
      if (ctx.flags.json) return ctx.json(ca);
      await ctx.status(`created SSH CA ${name} (${ca.fingerprint}); trust it with: keysmith ssh ca export ${name}`);
    });
}
