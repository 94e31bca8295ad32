import type { Command } from 'commander';
import { readFile, rm, stat } from 'node:fs/promises';
import { UsageError } from '../../../errors.js';
import { exists, readUserFile, writeFileAtomic } from '../../../fs.js';
import { parsePublicKeyLine, publicKeyLine, readPrivateKey, unencryptedPem } from '../../../ssh/keys.js';
import { signingKey } from '../../../ssh/sign.js';
import { expandPath, managedFrom, saveKey, validateKeyName } from '../../../ssh/store.js';
import { findSecret } from '../../../vault/secrets.js';
import type { ContextFor } from '../../context.js';

export default function importCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<path>', 'private key file, e.g. ~/.ssh/id_ed25519')
    .argument('[name]', 'key name (default: the file name)')
    .option('--passphrase-stdin', 'read the passphrase of an encrypted key from stdin', false)
    .option('--vault-only', 'keep the private key in the vault (decrypted: the vault encrypts it), served by keysmith ssh agent', false)
    .option('--remove-file', 'with --vault-only: delete the private key file once the vault holds it (PATH.pub stays)', false)
    .addHelpText('after', `
An encrypted PEM or PKCS#8 key (openssl, ssh-keygen -m PEM) hides its public key: its passphrase is
asked for (or read with --passphrase-stdin). An OpenSSH key needs none.

With --vault-only an encrypted key's passphrase is asked for too, as the vault keeps the key open.

Examples:
  $ keysmith ssh import ~/.ssh/id_ed25519 personal
  $ keysmith ssh import ~/.ssh/id_ed25519 --vault-only --remove-file`)
    .action(async (file: string, nameArg: string | undefined, flags: { passphraseStdin: boolean; vaultOnly: boolean; removeFile: boolean }, command: Command) => {
      if (flags.removeFile && !flags.vaultOnly) throw new UsageError('--remove-file goes with --vault-only (else the key file is what keysmith manages)');
      const ctx = contextFor(command);
      const path = expandPath(file, ctx.env);
      const name = validateKeyName(nameArg ?? path.split('/').pop()!.replace(/\.pub$/, ''));
      const text = (await readUserFile(path)).toString('utf8');
      let priv = await readPrivateKey(text, file);
      let passphrase: string | undefined;
      if (!priv.publicKey || (flags.vaultOnly && priv.encrypted)) priv = await readPrivateKey(text, file, (passphrase = await ctx.secretInput(flags.passphraseStdin, `Passphrase for ${file}`, { instead: '--passphrase-stdin' })));
      let key = priv.publicKey!;
      // A vault-only key is kept as an unencrypted OpenSSH key whatever its file's format.
      const privateKey = flags.vaultOnly ? (await unencryptedPem((await signingKey(text, file, passphrase)).privateKey, key.comment)).pem : undefined;
      if (await exists(`${path}.pub`)) {
        const pub = parsePublicKeyLine((await readFile(`${path}.pub`, 'utf8')).trim(), `${file}.pub`);
        if (!pub.blob.equals(key.blob)) throw new UsageError(`${file}.pub does not belong to ${file}`, undefined, 'ERR_SSH_BAD_KEY');
        key = pub;
      }
      const { vault } = await ctx.openVault();
      if (await findSecret(vault, `ssh/${name}`)) throw new UsageError(`a key named ${name} is already managed`, undefined, 'ERR_SSH_EXISTS');
      // Its age (for rotate --older-than) is the key file's.
      const managed = managedFrom(name, path, key, (await stat(path)).mtime);
      if (privateKey && !(await exists(`${path}.pub`))) await writeFileAtomic(`${path}.pub`, `${publicKeyLine(key)}\n`, { mode: 0o644 });
      await saveKey(vault, { ...managed, ...(privateKey ? { privateKey } : {}) }, ctx.now());
      if (flags.removeFile) await rm(path);
      if (ctx.flags.json) return ctx.json({ name, path, publicKey: publicKeyLine(key), fingerprint: managed.fingerprint, vaultOnly: flags.vaultOnly, removed: flags.removeFile });
      await ctx.status(flags.vaultOnly ? `the vault now holds ${name} (${managed.fingerprint})${flags.removeFile ? `; ${path} removed` : `; ${path} can go (--remove-file)`}` : `managing ${path} as ${name} (${managed.fingerprint})`);
    });
}
