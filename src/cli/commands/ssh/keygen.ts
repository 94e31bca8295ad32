import { parseDuration } from '../../../duration.js';
import { type Command, Option } from 'commander';
import { dirname } from 'node:path';
import { UsageError } from '../../../errors.js';
import { checkOutputs, creatingFiles, refuseExisting } from '../../../fs.js';
import { prestartBcryptWorker } from '../../../ssh/bcrypt-pbkdf.js';
import { generateKey, publicKeyLine, randomArt, type KeyType } from '../../../ssh/keys.js';
import { defaultKeyPath, expandPath, managedFrom, saveKey, sshRecordName, validateKeyName } from '../../../ssh/store.js';
import { readOnlyVault } from '../../../vault/env.js';
import { findSecret } from '../../../vault/secrets.js';
import type { ContextFor } from '../../context.js';
import { positiveInt } from './common.js';
import { hostname, userInfo } from 'node:os';

interface KeygenFlags {
  type: KeyType;
  bits?: string;
  comment?: string;
  out?: string;
  passphraseStdin: boolean;
  passphrase: boolean;
  rounds: string;
  storePassphrase: boolean;
  vaultOnly: boolean;
  force: boolean;
  rotateEvery?: string;
}

export default function keygenCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'key name, e.g. work')
    .addOption(new Option('-t, --type <type>', 'key type').choices(['ed25519', 'ecdsa', 'rsa']).default('ed25519'))
    .option('-b, --bits <n>', 'ecdsa: 256, 384 or 521; rsa: at least 3072')
    .option('-C, --comment <text>', 'comment (default: user@host)')
    .option('--out <path>', 'private key path; the public key goes to PATH.pub (default ~/.ssh/NAME)')
    .option('--passphrase-stdin', 'read the passphrase from stdin', false)
    .option('--no-passphrase', 'no passphrase (the key file is then unencrypted)')
    .option('--rounds <n>', 'bcrypt_pbkdf rounds for the passphrase (ssh-keygen -a)', '16')
    .option('--store-passphrase', 'keep the passphrase in the vault (for unattended rotation)', false)
    .option('--vault-only', 'keep the private key only in the vault (served by keysmith ssh agent); write only PATH.pub', false)
    .option('--rotate-every <duration>', 'a rotation period (e.g. 365d): keysmith expiry says when rotation is due')
    .option('-f, --force', 'replace existing key files', false)
    .addHelpText('after', `
Without --passphrase-stdin or --no-passphrase it asks for a passphrase twice (empty: none).
With --vault-only the private key never touches the disk: the vault (encrypted) keeps it, no
passphrase is asked, and ~/.ssh/NAME.pub is written for reference. \`keysmith ssh agent start\`
serves it to ssh, git and ssh-add.

Examples:
  $ keysmith ssh keygen work
  $ keysmith ssh keygen ci -t ecdsa -b 384 --no-passphrase --out ./deploy_key
  $ printf %s "$PASS" | keysmith ssh keygen work --passphrase-stdin --store-passphrase
  $ keysmith ssh keygen work --vault-only && eval "$(keysmith ssh agent start)"`)
    .action(async (name: string, flags: KeygenFlags, command: Command) => {
      const ctx = contextFor(command);
      // The second bcrypt_pbkdf thread starts while the vault opens and the passphrase is asked.
      if (flags.vaultOnly && (flags.passphraseStdin || flags.storePassphrase)) throw new UsageError('--vault-only keys have no passphrase (the vault encrypts them): drop --passphrase-stdin and --store-passphrase');
      if (flags.vaultOnly) flags.passphrase = false;
      if (flags.passphrase !== false) prestartBcryptWorker();
      validateKeyName(name);
      const path = flags.out ? expandPath(flags.out, ctx.env) : defaultKeyPath(name, ctx.env);
      // An --out path's folder must exist; the default ~/.ssh is made, as ssh-keygen makes it.
      const files = flags.vaultOnly ? [`${path}.pub`] : [path, `${path}.pub`];
      if (flags.out) await checkOutputs(files, flags.force);
      else await refuseExisting(files, flags.force);
      const bits = flags.bits === undefined ? undefined : positiveInt(flags.bits, '-b', 16384);
      const rounds = positiveInt(flags.rounds, '--rounds');
      const rotateEvery = flags.rotateEvery === undefined ? undefined : parseDuration(flags.rotateEvery, '--rotate-every');
      // The vault is read before a key is made: a read-only, locked or damaged one fails with nothing written.
      const { vault } = await ctx.openVault();
      if (!vault.describe().writable) throw readOnlyVault(vault.describe().backend);
      await findSecret(vault, sshRecordName(name));
      const passphrase = flags.passphrase === false ? '' : await ctx.secretInput(flags.passphraseStdin, 'Passphrase for the new key (empty for none)', { confirm: true, instead: '--passphrase-stdin or --no-passphrase' });
      if (flags.storePassphrase && !passphrase) throw new UsageError('--store-passphrase needs a passphrase');
      const comment = flags.comment ?? `${userInfo().username}@${hostname()}`;
      const key = await generateKey({ type: flags.type, ...(bits ? { bits } : {}), comment, ...(passphrase ? { passphrase } : {}), rounds });
      const managed = managedFrom(name, path, key.publicKey, ctx.now());
      // The vault can still fail on the write (a new vault with no identity, a full disk): then the
      // key files go again, so nothing is left behind and a retry does not find "already exists".
      await creatingFiles(async (files) => {
        await files.mkdir(dirname(path), 0o700);
        if (!flags.vaultOnly) await files.write(path, key.privateKey, { overwrite: flags.force });
        await files.write(`${path}.pub`, `${publicKeyLine(key.publicKey)}\n`, { mode: 0o644, overwrite: flags.force });
        await saveKey(vault, { ...managed, ...(rotateEvery ? { rotateEvery } : {}), ...(flags.storePassphrase ? { passphrase } : {}), ...(flags.vaultOnly ? { privateKey: key.privateKey } : {}) }, ctx.now());
      });
      if (ctx.flags.json) return ctx.json({ name, path, publicKey: managed.publicKey, fingerprint: managed.fingerprint, type: managed.algorithm, bits: managed.bits, encrypted: !!passphrase, vaultOnly: flags.vaultOnly });
      await ctx.status(`${flags.vaultOnly ? `the private key is in the vault only; wrote ${path}.pub` : `wrote ${path} and ${path}.pub`}\n${managed.fingerprint} ${comment}\n${randomArt(key.publicKey)}`);
    });
}
