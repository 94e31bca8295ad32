import { Command, Help, Option } from 'commander';
import { Context, type ContextFor, type GlobalFlags } from './context.js';
import type { IO } from './io.js';
import type { Prompter } from './prompter.js';
import { commands } from './commands/index.js';
import { defer, loaded, type Entry } from './manifest.js';

declare const KEYSMITH_VERSION: string;
const version = typeof KEYSMITH_VERSION === 'string' ? KEYSMITH_VERSION : '0.0.0-dev';

/**
 * The program, built from the manifest: every command's name, usage and summary, a group's
 * commands made and each verb's module imported when commander dispatches to it. `onDispatch` hears of each command commander
 * dispatches to, as it parsed.
 */
export function buildProgram(io: IO, prompter: Prompter, now?: () => Date, onDispatch: (command: Command) => void = () => {}): Command {
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

  const prepare = (command: Command): Command => {
    configure(command, io);
    command.hook('preSubcommand', async (_parent, sub) => onDispatch(await loaded(sub)));
    return command;
  };
  const build = (entry: Entry): Command => {
    const [name, ...aliases] = entry.term.split(' ')[0]!.split('|');
    const command = new Command(name).description(entry.summary).aliases(aliases);
    terms.set(command, entry.term);
    if ('load' in entry) {
      defer(command, async () => void (await entry.load()).default(command, contextFor));
    } else defer(command, async () => group(command, entry.commands));
    return prepare(command);
  };
  const group = (command: Command, entries: Entry[]) => {
    for (const entry of entries) command.addCommand(build(entry));
    command.helpCommand(false).addCommand(prepare(helpCommand(command)));
  };
  group(program, commands);
  return prepare(program);
}

/**
 * `help [command]` as a command like the others. commander's own prints a command's help without
 * dispatching to it, so a verb's module would not be loaded and its help would lack its options.
 */
function helpCommand(group: Command): Command {
  return new Command('help')
    .description('display help for command')
    .argument('[command]')
    .action(async (name?: string) => {
      const target = name === undefined ? group : group.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!target) return group.error(`unknown command '${name}'`);
      (await loaded(target)).help();
    });
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

/** Each command's usage as the manifest gives it, so help lists a command before its module loads. */
const terms = new WeakMap<Command, string>();
const help = new Help();

/** commander's own output goes through our IO, and it throws instead of exiting. */
function configure(command: Command, io: IO): void {
  command
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`keysmith: ${withoutValues(s.replace(/^error: /, ''))}`),
    })
    .configureHelp({ subcommandTerm: (sub) => terms.get(sub) ?? help.subcommandTerm(sub) });
}
