import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { parseTarget, targetName, type Credentials } from '../../../ssh/connect.js';
import { deployKey } from '../../../ssh/deploy.js';
import { parsePublicKeyLine, readPrivateKey } from '../../../ssh/keys.js';
import { expandPath, loadKey, privateKeyPem, saveKey } from '../../../ssh/store.js';
import type { ContextFor } from '../../context.js';
import { connectOptions } from './common.js';

interface DeployFlags {
  identity?: string;
  password: boolean;
  passphraseStdin: boolean;
  acceptNew: boolean;
  knownHosts?: string;
  authorizedKeys?: string;
}

export default function deployCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'key name')
    .argument('<target>', 'user@host[:port]')
    .option('-i, --identity <file>', 'log in with this private key (one the host already accepts)')
    .option('--password', 'log in with a password (prompted, or KEYSMITH_SSH_PASSWORD)', false)
    .option('--passphrase-stdin', "read the login key's passphrase from stdin", false)
    .option('--accept-new', 'record an unknown host key in known_hosts (never a changed one)', false)
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts, or KEYSMITH_KNOWN_HOSTS)')
    .option('--authorized-keys <path>', 'remote authorized_keys path (default ~/.ssh/authorized_keys)')
    .addHelpText('after', `
It logs in with --identity, the ssh-agent (SSH_AUTH_SOCK) or --password, else with the key itself
(already deployed: nothing changes). ~/.ssh is created 0700, authorized_keys 0600, and the host is
recorded for rotate. It edits authorized_keys over SFTP; a host without an sftp subsystem is edited
through its shell (sh, cat, cksum, mv), like ssh-copy-id. The output says which way was used.

Examples:
  $ keysmith ssh deploy work deploy@web1.example.com --password --accept-new
  $ keysmith ssh deploy work deploy@web2:2222 -i ~/.ssh/bootstrap_key`)
    .action(async (name: string, target: string, flags: DeployFlags, command: Command) => {
      const ctx = contextFor(command);
      const t = parseTarget(target);
      const { vault } = await ctx.openVault();
      const key = await loadKey(vault, name);
      const login = flags.identity ? expandPath(flags.identity, ctx.env) : key.privateKey !== undefined ? `ssh/${name} (vault)` : key.path;
      const pem = flags.identity ? await readFile(login, 'utf8') : await privateKeyPem(key);
      const credentials: Credentials = { privateKey: pem };
      const { encrypted } = await readPrivateKey(pem, login);
      if (encrypted) {
        credentials.passphrase = !flags.identity && key.passphrase ? key.passphrase : await ctx.secretInput(flags.passphraseStdin, `Passphrase for ${login}`, { instead: '--passphrase-stdin' });
        await readPrivateKey(pem, login, credentials.passphrase); // wrong passphrase: exit 4 now
      }
      if (ctx.env.SSH_AUTH_SOCK) credentials.agent = ctx.env.SSH_AUTH_SOCK;
      if (flags.password) credentials.password = ctx.env.KEYSMITH_SSH_PASSWORD ?? (await ctx.askSecret(`Password for ${targetName(t)}`, { instead: 'KEYSMITH_SSH_PASSWORD' }));
      const blob = parsePublicKeyLine(key.publicKey, name).blob.toString('base64');
      const { added, via } = await deployKey(key.publicKey, blob, t, credentials, { ...connectOptions(ctx, flags), ...(flags.authorizedKeys ? { authorizedKeys: flags.authorizedKeys } : {}) });
      const name_ = targetName(t);
      const entry = { target: name_, deployedAt: ctx.now().toISOString(), ...(flags.authorizedKeys ? { authorizedKeys: flags.authorizedKeys } : {}) };
      await saveKey(vault, { ...key, hosts: [...key.hosts.filter((h) => h.target !== name_), entry] }, ctx.now());
      if (ctx.flags.json) return ctx.json({ name, target: name_, added, via });
      const shell = via === 'shell';
      await ctx.status(added
        ? `${name} deployed to ${name_} ${shell ? 'via the remote shell (the host has no SFTP)' : 'via SFTP'}`
        : `${name} was already on ${name_} (${shell ? 'via the remote shell; the host has no SFTP' : 'via SFTP'})`);
    });
}
