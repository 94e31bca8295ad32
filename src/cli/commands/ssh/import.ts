import type { Command } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../../../errors.js';
import { exists, readUserFile } from '../../../fs.js';
import { parsePublicKeyLine, publicKeyLine, readPrivateKey } from '../../../ssh/keys.js';
import { expandPath, managedFrom, saveKey, validateKeyName } from '../../../ssh/store.js';
import { findSecret } from '../../../vault/secrets.js';
import type { ContextFor } from '../../context.js';

export default function importCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<path>', 'private key file, e.g. ~/.ssh/id_ed25519')
    .argument('[name]', 'key name (default: the file name)')
    .option('--passphrase-stdin', 'read the passphrase of an encrypted PEM/PKCS#8 key from stdin', false)
    .addHelpText('after', `
An encrypted PEM or PKCS#8 key (openssl, ssh-keygen -m PEM) hides its public key: its passphrase is
asked for (or read with --passphrase-stdin). An OpenSSH key needs none.

Example:
  $ keysmith ssh import ~/.ssh/id_ed25519 personal`)
    .action(async (file: string, nameArg: string | undefined, flags: { passphraseStdin: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const path = expandPath(file, ctx.env);
      const name = validateKeyName(nameArg ?? path.split('/').pop()!.replace(/\.pub$/, ''));
      const text = (await readUserFile(path)).toString('utf8');
      let priv = await readPrivateKey(text, file);
      if (!priv.publicKey) priv = await readPrivateKey(text, file, await ctx.secretInput(flags.passphraseStdin, `Passphrase for ${file}`, { instead: '--passphrase-stdin' }));
      let key = priv.publicKey!;
      if (await exists(`${path}.pub`)) {
        const pub = parsePublicKeyLine((await readFile(`${path}.pub`, 'utf8')).trim(), `${file}.pub`);
        if (!pub.blob.equals(key.blob)) throw new UsageError(`${file}.pub does not belong to ${file}`, undefined, 'ERR_SSH_BAD_KEY');
        key = pub;
      }
      const { vault } = await ctx.openVault();
      if (await findSecret(vault, `ssh/${name}`)) throw new UsageError(`a key named ${name} is already managed`, undefined, 'ERR_SSH_EXISTS');
      // Its age (for rotate --older-than) is the key file's.
      const managed = managedFrom(name, path, key, (await stat(path)).mtime);
      await saveKey(vault, managed, ctx.now());
      if (ctx.flags.json) return ctx.json({ name, path, publicKey: publicKeyLine(key), fingerprint: managed.fingerprint });
      await ctx.status(`managing ${path} as ${name} (${managed.fingerprint})`);
    });
}
