import type { Command } from 'commander';
import { addMember } from '../../../team/manage.js';
import { repeatable } from '../../options.js';
import type { ContextFor } from '../../context.js';

export default function addCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .argument('<member>', 'the member name')
    .argument('<recipient>', "their SSH public key line (ssh-ed25519, ssh-rsa) or an age1… recipient (reads, cannot write)")
    .addOption(repeatable('--path <folder>', 'what they read: this folder and below (repeatable; default everything)'))
    .addHelpText('after', `
Re-encrypts every secret they will read to the new set of readers, in one signed commit; sync
pushes it.

Examples:
  $ keysmith team add acme bob "$(cat bob.pub)"
  $ keysmith team add acme ci 'ssh-ed25519 AAAA… ci' --path prod/`)
    .action(async (team: string, member: string, recipient: string, flags: { path: string[] }, command: Command) => {
      const ctx = contextFor(command);
      const { reencrypted } = await addMember(ctx.vaultOptions(), team, member, recipient, flags.path.length ? flags.path : ['']);
      if (ctx.flags.json) return ctx.json({ team, member, reencrypted });
      await ctx.status(`added ${member} to ${team}; ${reencrypted.length} secret(s) re-encrypted (run keysmith team sync ${team} to push)`);
    });
}
