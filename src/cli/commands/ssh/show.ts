import type { Command } from 'commander';
import { fingerprintMd5, keyTypeName, parsePublicKeyLine, randomArt } from '../../../ssh/keys.js';
import { loadKey } from '../../../ssh/store.js';
import type { ContextFor } from '../../context.js';
import { ageDays } from './common.js';

export default function showCommand(command: Command, contextFor: ContextFor): Command {
  return command
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
