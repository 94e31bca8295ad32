import { Command } from 'commander';
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../../../errors.js';
import { exists, readUserFile } from '../../../fs.js';
import { fingerprintMd5, fingerprintSha256, keyTypeName, parsePublicKeyLine, publicKeyLine, randomArt, readPrivateKey, type PublicKey } from '../../../ssh/keys.js';
import { expandPath, listKeys, loadKey, managedFrom, saveKey, validateKeyName } from '../../../ssh/store.js';
import { findSecret } from '../../../vault/secrets.js';
import { readAll } from '../../io.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../program.js';

/** A public key from any key file: a .pub line, or a private key (its public half needs no passphrase). */
async function publicKeyOf(text: string, where: string): Promise<PublicKey> {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return (await readPrivateKey(text, where)).publicKey;
  const line = text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#'));
  if (!line) throw new UsageError(`${where}: empty key file`, undefined, 'ERR_SSH_BAD_KEY');
  return parsePublicKeyLine(line, where);
}

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
    .description('print the fingerprint of any public or private OpenSSH key, like ssh-keygen -l')
    .argument('<file>', 'key file, or - for stdin')
    .option('--md5', 'MD5 instead of SHA256 (ssh-keygen -E md5)', false)
    .addHelpText('after', `
Examples:
  $ keysmith ssh fingerprint ~/.ssh/id_ed25519.pub
  $ keysmith ssh fingerprint ~/.ssh/id_ed25519 --json   # {bits, fingerprint, comment, type}`)
    .action(async (file: string, flags: { md5: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const path = expandPath(file, ctx.env);
      const text = (file === '-' ? await readAll(ctx.io.stdin) : await readUserFile(path)).toString('utf8');
      let key = await publicKeyOf(text, file);
      // An encrypted key hides its comment: like ssh-keygen, take it from the .pub beside it.
      if (file !== '-' && !key.comment && (await exists(`${path}.pub`))) {
        const pub = await publicKeyOf(await readFile(`${path}.pub`, 'utf8'), `${file}.pub`).catch(() => undefined);
        if (pub?.blob.equals(key.blob)) key = pub;
      }
      const fingerprint = flags.md5 ? fingerprintMd5(key.blob) : fingerprintSha256(key.blob);
      if (ctx.flags.json) return ctx.json({ bits: key.bits, fingerprint, comment: key.comment, type: keyTypeName(key.algorithm) });
      await ctx.out(`${key.bits} ${fingerprint} ${key.comment || 'no comment'} (${keyTypeName(key.algorithm)})\n`);
    });
}

export function importCommand(contextFor: ContextFor): Command {
  return new Command('import')
    .description('adopt an existing key pair (the files stay where they are)')
    .argument('<path>', 'private key file, e.g. ~/.ssh/id_ed25519')
    .argument('[name]', 'key name (default: the file name)')
    .addHelpText('after', `
Example:
  $ keysmith ssh import ~/.ssh/id_ed25519 personal`)
    .action(async (file: string, nameArg: string | undefined, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const path = expandPath(file, ctx.env);
      const name = validateKeyName(nameArg ?? path.split('/').pop()!.replace(/\.pub$/, ''));
      const priv = await readPrivateKey((await readUserFile(path)).toString('utf8'), file);
      let key = priv.publicKey;
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
