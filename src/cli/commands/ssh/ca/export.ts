import { type Command, Option } from 'commander';
import { UsageError } from '../../../../errors.js';
import { checkOutputs, writeFileAtomic } from '../../../../fs.js';
import { caTrustLine, loadSshCa, type TrustFormat } from '../../../../ssh/ca.js';
import { expandPath } from '../../../../ssh/store.js';
import type { ContextFor } from '../../../context.js';
import { withCaHint } from './common.js';

export default function caExportCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'CA name')
    .addOption(new Option('--format <format>', 'authorized-keys: the key line, for sshd TrustedUserCAKeys; cert-authority: for one account\'s ~/.ssh/authorized_keys; known-hosts: an @cert-authority line').choices(['authorized-keys', 'cert-authority', 'known-hosts']).default('authorized-keys'))
    .option('--hosts <patterns>', 'with --format known-hosts: the hosts whose certificates the CA vouches for, as known_hosts patterns (default *)')
    .option('--out <file>', 'write to a file (mode 0644) instead of stdout')
    .option('-f, --force', 'replace an existing file', false)
    .addHelpText('after', `
Never the private key: it stays in the vault.

Examples:
  # on a server: trust the CA for user certificates (sshd_config: TrustedUserCAKeys /etc/ssh/user_ca.pub)
  $ keysmith ssh ca export users > /etc/ssh/user_ca.pub
  # for one account only
  $ keysmith ssh ca export users --format cert-authority >> ~/.ssh/authorized_keys
  # on a client: trust host certificates of *.example.com
  $ keysmith ssh ca export hosts --format known-hosts --hosts '*.example.com' >> ~/.ssh/known_hosts
  $ keysmith ssh ca export users --json    # {name, line, format, publicKey, fingerprint, algorithm}`)
    .action(async (name: string, flags: { format: TrustFormat; hosts?: string; out?: string; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (flags.hosts !== undefined && flags.format !== 'known-hosts') throw new UsageError('--hosts goes with --format known-hosts', undefined, 'ERR_USAGE');
      const out = flags.out === undefined ? undefined : flags.out.startsWith('~') ? expandPath(flags.out, ctx.env) : flags.out;
      if (out) await checkOutputs([out], flags.force);
      const { vault } = await ctx.openVault();
      const ca = await withCaHint(name, () => loadSshCa(vault, name));
      const line = caTrustLine(ca, flags.format, flags.hosts);
      if (ctx.flags.json) return ctx.json({ name, line, format: flags.format, publicKey: ca.publicKey, fingerprint: ca.fingerprint, algorithm: ca.algorithm });
      if (!out) return ctx.out(`${line}\n`);
      await writeFileAtomic(out, `${line}\n`, { mode: 0o644, overwrite: flags.force });
      await ctx.status(`wrote ${out}`);
    });
}
