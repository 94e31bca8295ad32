import { Argument, Command } from 'commander';
import { completionScript, SHELLS } from '../../completion.js';
import type { ContextFor } from '../../context.js';
import { loadAll } from '../../manifest.js';

export default function completionCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .addHelpText('after', `
Examples:
  $ source <(keysmith completion bash)          # in ~/.bashrc
  $ source <(keysmith completion zsh)           # in ~/.zshrc
  $ keysmith completion fish > ~/.config/fish/completions/keysmith.fish`)
    .action(async (shell: string, _flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      let root = command;
      while (root.parent) root = root.parent;
      await loadAll(root);
      await ctx.out(completionScript(root, shell));
    });
}
