import { Command } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../../../errors.js';
import { exists, readUserFile } from '../../../fs.js';
import { fingerprintKeyFile, fingerprintKeyFiles, renderFingerprint, type FileFingerprints, type KeyFingerprint } from '../../../ssh/fingerprint.js';
import { fingerprintMd5, fingerprintSha256, keyTypeName, parsePublicKeyLine, publicKeyLine, randomArt, readPrivateKey } from '../../../ssh/keys.js';
import { expandPath, listKeys, loadKey, managedFrom, saveKey, validateKeyName } from '../../../ssh/store.js';
import { findSecret } from '../../../vault/secrets.js';
import { readAll, write } from '../../io.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../program.js';

const ageDays = (iso: string, now: Date) => Math.floor((now.getTime() - new Date(iso).getTime()) / 86_400_000);

export function listCommand(contextFor: ContextFor): Command {
  return new Command('list')
    .description('list managed keys: name, type, bits, fingerprint, path, age, hosts')
    .addHelpText('after', `
Example:
  $ keysmith ssh list --json   # [{name, type, bits, fingerprint, path, created, ageDays, hosts}]`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const keys = await listKeys(vault);
      const rows = keys.map((k) => ({ name: k.name, type: keyTypeName(k.algorithm), bits: k.bits, fingerprint: k.fingerprint, path: k.path, created: k.created, ageDays: ageDays(k.created, ctx.now()), hosts: k.hosts.map((h) => h.target) }));
      if (ctx.flags.json) return ctx.json(rows);
      if (rows.length === 0) return ctx.status('no managed keys: keysmith ssh keygen NAME or keysmith ssh import PATH');
      await ctx.out(table(['NAME', 'TYPE', 'FINGERPRINT', 'AGE', 'HOSTS', 'PATH'], rows.map((r) => [r.name, `${r.type} ${r.bits}`, r.fingerprint, `${r.ageDays}d`, String(r.hosts.length), r.path])));
    });
}

export function showCommand(contextFor: ContextFor): Command {
  return new Command('show')
    .description('show a managed key: public key line, fingerprints, randomart, hosts')
    .argument('<name>', 'key name')
    .option('--md5', 'also the MD5 fingerprint', false)
    .addHelpText('after', `
Examples:
  $ keysmith ssh show work
  $ keysmith ssh show work --json | jq -r .publicKey >> authorized_keys`)
    .action(async (name: string, flags: { md5: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const k = await loadKey(vault, name);
      const pub = parsePublicKeyLine(k.publicKey, name);
      const info = {
        name, publicKey: k.publicKey, type: keyTypeName(k.algorithm), bits: k.bits, fingerprint: k.fingerprint,
        ...(flags.md5 ? { md5: fingerprintMd5(pub.blob) } : {}),
        path: k.path, created: k.created, hosts: k.hosts, passphraseStored: k.passphrase !== undefined,
      };
      if (ctx.flags.json) return ctx.json(info);
      await ctx.out(`${k.publicKey}\n${k.bits} ${k.fingerprint} ${k.comment || 'no comment'} (${info.type})\n${flags.md5 ? `${info.md5}\n` : ''}${randomArt(pub)}\n` +
        `path:  ${k.path}\ncreated: ${k.created} (${ageDays(k.created, ctx.now())} days ago)\nhosts: ${k.hosts.map((h) => h.target).join(', ') || '-'}\n`);
    });
}

export function fingerprintCommand(contextFor: ContextFor): Command {
  return new Command('fingerprint')
    .description('print the fingerprints of public or private OpenSSH keys and certificates, like ssh-keygen -l')
    .argument('<file...>', 'key files (.pub, private, *-cert.pub, authorized_keys, known_hosts), or - for stdin')
    .option('--md5', 'MD5 instead of SHA256 (ssh-keygen -E md5)', false)
    .addHelpText('after', `
Each key prints as ssh-keygen -l prints it: bits, fingerprint, comment ("no comment" when none),
type (ED25519, ECDSA-SK, RSA-CERT, …). A certificate gives its certified key's fingerprint. A
private key's public half needs no passphrase, except in an encrypted PEM/PKCS#8 key: keep its .pub
beside it. With several files, one that is not a key is named on stderr and the exit code is 2.

Examples:
  $ keysmith ssh fingerprint ~/.ssh/id_ed25519.pub
  $ keysmith ssh fingerprint ~/.ssh/*.pub
  $ keysmith ssh fingerprint ~/.ssh/id_ed25519 --json   # {bits, fingerprint, comment, type}; several: [{file, …}]`)
    .action(async (files: string[], flags: { md5: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const results: FileFingerprints[] = [];
      // Paths as given (ssh-keygen names PATH.pub as given in a comment), only ~ expanded.
      const paths = files.filter((f) => f !== '-').map((f) => (f.startsWith('~') ? expandPath(f, ctx.env) : f));
      const fromFiles = await fingerprintKeyFiles(paths);
      for (const file of files) {
        if (file !== '-') {
          results.push({ ...fromFiles.shift()!, file });
          continue;
        }
        try {
          results.push({ file, keys: await fingerprintKeyFile('-', (await readAll(ctx.io.stdin)).toString('utf8')) });
        } catch (error) {
          results.push({ file, error: error as Error });
        }
      }
      const failed = results.filter((r) => 'error' in r);
      // One file: its own error and exit code, as before.
      if (files.length === 1 && 'error' in results[0]!) throw results[0].error;
      const rows = results.flatMap((r) => ('keys' in r ? r.keys.map((k) => ({ file: r.file, key: k })) : []));
      const view = (k: KeyFingerprint) => ({ bits: k.bits, fingerprint: flags.md5 ? fingerprintMd5(k.blob) : fingerprintSha256(k.blob), comment: k.comment ?? '', type: keyTypeName(k.algorithm) });
      if (ctx.flags.json) {
        await ctx.json(files.length === 1 && rows.length === 1 ? view(rows[0]!.key) : [...rows.map((r) => ({ file: r.file, ...view(r.key) })), ...failed.map((r) => ({ file: r.file, error: (r as { error: Error }).error.message }))]);
      } else await ctx.out(rows.map((r) => `${renderFingerprint(r.key, flags.md5)}\n`).join(''));
      for (const r of failed) await write(ctx.io.stderr, `keysmith: ${(r as { error: Error }).error.message}\n`);
      if (failed.length) throw new UsageError(`${failed.length} of ${files.length} files hold no key they could read`, undefined, 'ERR_SSH_BAD_KEY');
    });
}

export function importCommand(contextFor: ContextFor): Command {
  return new Command('import')
    .description('adopt an existing key pair (the files stay where they are)')
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
