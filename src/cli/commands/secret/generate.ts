import { type Command, Option } from 'commander';
import { UsageError } from '../../../errors.js';
import { CHARSETS, entropyBits, generatePassword, type Charset } from '../../../vault/generate.js';
import { validateName } from '../../../vault/names.js';
import { findSecret, putSecret } from '../../../vault/secrets.js';
import type { ContextFor } from '../../context.js';
import { vaultOf } from '../../output.js';

interface GenerateFlags {
  length: string;
  charset: Charset;
  force: boolean;
  print: boolean;
}

export default function generateCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'secret name')
    .option('--length <n>', 'number of characters', '32')
    .addOption(new Option('--charset <set>', 'characters to draw from').choices(Object.keys(CHARSETS)).default('alnum'))
    .option('--print', 'also print the value on stdout', false)
    .option('-f, --force', 'replace an existing secret', false)
    .addHelpText('after', `
Examples:
  $ keysmith secret generate db/password --length 32
  $ keysmith secret generate api/key --charset base64url --print`)
    .action(async (name: string, flags: GenerateFlags, command: Command) => {
      const ctx = contextFor(command);
      validateName(name);
      const length = Number(flags.length);
      const value = generatePassword(length, flags.charset);
      const { vault, backend } = await ctx.openVault();
      if (!flags.force && (await findSecret(vault, name))) {
        throw new UsageError(`${name} already exists; pass --force to replace it`, undefined, 'ERR_VAULT_EXISTS');
      }
      // How it was made, so a rotation (team remove --rotate) can make another like it.
      await putSecret(vault, name, value, { kind: 'password', now: ctx.now(), meta: { generated: { length, charset: flags.charset } } });
      if (ctx.flags.json) await ctx.json({ name, kind: 'password', length, charset: flags.charset, bits: entropyBits(length, flags.charset), ...(flags.print ? { value } : {}) });
      else if (flags.print) await ctx.out(ctx.io.isTTY.stdout ? `${value}\n` : value);
      await ctx.status(`generated ${name} (${length} ${flags.charset} characters, ${entropyBits(length, flags.charset)} bits) in ${vaultOf(name, backend)}`);
    });
}
