import { Option, type Command } from 'commander';
import { loadCa } from '../../../../tls/ca.js';
import { changeTrust, type StoreChoice } from '../../../../tls/trust.js';
import type { ContextFor } from '../../../context.js';

/** `tls ca trust`: add a CA to the system trust store and NSS databases. */
export default function caTrustCommand(command: Command, contextFor: ContextFor): Command {
  return changeTrustCommand(command, contextFor, 'trust');
}

/** `tls ca trust` and `tls ca untrust` are one command run either way (untrust.ts). */
export function changeTrustCommand(command: Command, contextFor: ContextFor, action: 'trust' | 'untrust'): Command {
  return command
    .argument('[name]', 'CA name', 'dev')
    .addOption(new Option('--store <store>', 'which stores').choices(['system', 'nss', 'all']).default('all'))
    .addHelpText('after', `
The system store needs administrator rights (sudo). KEYSMITH_TRUST_ROOT prefixes the Linux
system-store paths, to stage a trust store in a folder.

Examples:
  $ sudo keysmith tls ca ${action} dev
  $ keysmith tls ca ${action} dev --store nss --json   # [{store, location, changed}]`)
    .action(async (name: string, flags: { store: StoreChoice }, command: Command) => {
      const ctx = contextFor(command);
      const { vault } = await ctx.openVault();
      const { certificatePem } = await loadCa(vault, name);
      const outcomes = await changeTrust(name, certificatePem, flags.store, ctx.env, action === 'trust' ? 'add' : 'remove');
      if (ctx.flags.json) return ctx.json(outcomes);
      for (const o of outcomes) {
        await ctx.status(`${o.changed ? (action === 'trust' ? 'trusted in' : 'removed from') : 'was not in'} ${o.store} store ${o.location}`);
      }
    });
}
