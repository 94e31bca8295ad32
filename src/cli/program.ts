import { Command, Option } from 'commander';
import { Context, type ContextFor, type GlobalFlags } from './context.js';
import type { IO } from './io.js';
import type { Prompter } from './prompter.js';
import { secretCommand } from './commands/secret/index.js';
import { vaultCommand } from './commands/vault/index.js';
import { completionCommand } from './commands/scripting/completion.js';
import { oauthCommand } from './commands/oauth/index.js';
import { sshCommand } from './commands/ssh/index.js';
import { tlsCommand } from './commands/tls/index.js';
import { execCommand } from './commands/scripting/exec.js';
import { injectCommand } from './commands/scripting/inject.js';

declare const KEYSMITH_VERSION: string;
const version = typeof KEYSMITH_VERSION === 'string' ? KEYSMITH_VERSION : '0.0.0-dev';

export function buildProgram(io: IO, prompter: Prompter, now?: () => Date): Command {
  const program = new Command('keysmith')
    .description('Secrets, SSH keys, OAuth tokens and TLS certificates, kept in the OS keychain or an age-encrypted file.')
    .version(version, '-V, --version')
    .option('--json', 'print machine-readable JSON on stdout', false)
    .option('--no-input', 'never prompt; a missing answer is an error naming the flag or variable to use')
    .addOption(new Option('--vault <backend>', 'vault backend for this run (env: KEYSMITH_VAULT)').choices(['keychain', 'file', 'env']))
    .option('--debug', 'show error codes and causes (never secret values)', false)
    .option('-q, --quiet', 'no status lines on stderr', false)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `
Examples:
  $ printf %s "$TOKEN" | keysmith secret set ci/token -
  $ keysmith secret get ci/token
  $ keysmith secret list --json
  $ keysmith vault status
  $ keysmith exec --env DB_PASSWORD=db/password -- ./deploy.sh
  $ keysmith inject -i config.tmpl -o config.yml

Exit codes: 0 ok, 1 failed, 2 usage or bad input, 3 not found, 4 auth (wrong passphrase,
locked keychain), 5 unavailable, 130 cancelled.`);

  const contextFor: ContextFor = (command) => {
    const flags = command.optsWithGlobals() as GlobalFlags;
    return new Context(io, flags, prompter, now);
  };

  program.addCommand(secretCommand(contextFor));
  program.addCommand(vaultCommand(contextFor));
  program.addCommand(sshCommand(contextFor));
  program.addCommand(tlsCommand(contextFor));
  program.addCommand(oauthCommand(contextFor));
  program.addCommand(execCommand(contextFor));
  program.addCommand(injectCommand(contextFor));
  program.addCommand(completionCommand(contextFor));

  configure(program, io);
  return program;
}

/**
 * commander echoes an unknown option whole — `-Xhunter2`, `--value=hunter2` — and what follows the
 * option's name may be a secret typed in the wrong place: only the name is shown.
 */
function withoutValues(message: string): string {
  return message.replace(/unknown option '([^']*)'/, (_, option: string) => {
    const name = option.startsWith('--') ? option.split('=')[0]! : option.slice(0, 2);
    return `unknown option '${name}'`;
  });
}

/** commander's own output goes through our IO, and it throws instead of exiting; applied to every subcommand. */
function configure(command: Command, io: IO): void {
  command.exitOverride().configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: (s, write) => write(`keysmith: ${withoutValues(s.replace(/^error: /, ''))}`),
  });
  for (const sub of command.commands) configure(sub, io);
}
