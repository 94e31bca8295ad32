import type { Command } from 'commander';
import { joinTeam } from '../../../team/manage.js';
import type { ContextFor } from '../../context.js';
import { keyPath } from './common.js';

export default function joinCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name (local)')
    .argument('<remote>', 'the git remote of the team vault')
    .option('--key <path>', 'your SSH private key (default ~/.ssh/id_ed25519)')
    .option('--root <commit>', "the team's first commit, its full id (a member's team status shows it): otherwise taken on trust")
    .addHelpText('after', `
Clones the team vault and checks every commit's signature against the members before it. If your
key is not a member yet, prints your recipient line: a member adds it with keysmith team add.
The first commit is taken on trust, as ssh takes a new host key, unless --root pins it.

Example:
  $ keysmith team join acme git@git.example.com:ops/secrets.git
  $ keysmith team join acme git@git.example.com:ops/secrets.git --root 3f1c…(40 hex)`)
    .action(async (team: string, remote: string, flags: { key?: string; root?: string }, command: Command) => {
      const ctx = contextFor(command);
      const { member, recipient, root } = await joinTeam(ctx.vaultOptions(), team, remote, keyPath(ctx, flags.key), flags.root ? { root: flags.root } : {});
      if (ctx.flags.json) return ctx.json({ team, member, recipient, root });
      if (member) return ctx.status(`joined team ${team} as ${member}`);
      await ctx.status(`cloned team ${team}; you are not a member yet. Ask a member to run:\n  keysmith team add ${team} NAME '${recipient}'`);
      await ctx.out(`${recipient}\n`);
    });
}
