import type { Command } from 'commander';
import { createTeam } from '../../../team/manage.js';
import type { ContextFor } from '../../context.js';
import { keyPath, memberName } from './common.js';

export default function createCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<team>', 'team name')
    .option('--remote <url>', 'the git remote to push to (ssh://, git@host:path, file://, a path)')
    .option('--key <path>', 'your SSH private key (default ~/.ssh/id_ed25519): it decrypts, and signs your commits')
    .option('--as <member>', 'your member name (default: your login name)')
    .addHelpText('after', `
Examples:
  $ keysmith team create acme --remote git@git.example.com:ops/secrets.git
  $ keysmith team create acme --remote ./secrets.git --key ~/.ssh/work --as alice`)
    .action(async (team: string, flags: { remote?: string; key?: string; as?: string }, command: Command) => {
      const ctx = contextFor(command);
      const member = memberName(flags.as);
      const vault = await createTeam(ctx.vaultOptions(), team, { member, keyPath: keyPath(ctx, flags.key), ...(flags.remote ? { remote: flags.remote } : {}) });
      if (ctx.flags.json) return ctx.json({ team, dir: vault.repo.dir, member, remote: flags.remote ?? null });
      await ctx.status(`created team ${team} (${vault.repo.dir}) with you as ${member}${flags.remote ? `, pushed to ${flags.remote}` : ''}`);
    });
}
