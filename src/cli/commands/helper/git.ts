import type { Command } from 'commander';
import { eraseCredential, formatCredential, getCredential, parseCredential, storeCredential } from '../../../helpers/git-credential.js';
import { readAll } from '../../io.js';
import type { ContextFor } from '../../context.js';

export default function gitHelperCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<operation>', 'get, store or erase (git says which)')
    .addHelpText('after', `
git's credential helper protocol: git writes key=value lines (protocol, host, path, username,
password, …) on stdin, and for get reads the same back. get prints nothing for a host keysmith has
no credential for (git then asks on); store keeps what git says worked, as the record
git/<host>[/<path>] (kind git-credential); erase drops what git says was refused. A credential is
given back only for the protocol it was stored for. A locked vault is an error on stderr, never an
empty credential. It never prompts: git runs it with its stdin on a pipe.

Set up (the bin git-credential-keysmith comes with keysmith):
  $ git config --global credential.helper keysmith
  $ git config --global credential.https://git.example.com.useHttpPath true   # one credential per repository
Without the bin on PATH:
  $ git config --global credential.helper '!keysmith helper git'`)
    .action(async (operation: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const attributes = parseCredential((await readAll(ctx.io.stdin)).toString('utf8'));
      // git calls helpers with other operations too (and may add more): those are not ours.
      if (!['get', 'store', 'erase'].includes(operation)) return;
      const { vault } = await ctx.openVault();
      if (operation === 'get') {
        const found = await getCredential(vault, attributes, ctx.now());
        if (found) await ctx.out(formatCredential(found));
      } else if (operation === 'store') await storeCredential(vault, attributes, ctx.now());
      else await eraseCredential(vault, attributes);
    });
}
