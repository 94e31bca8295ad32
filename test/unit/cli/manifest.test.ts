import { Help, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { commands } from '../../../src/cli/commands/index.js';
import { loadAll, type Entry } from '../../../src/cli/manifest.js';
import { buildProgram } from '../../../src/cli/program.js';
import { baseEnv, memoryIO, runMain, tempHome } from '../../helpers/cli.js';

/**
 * Issue 12: the manifest builds the command tree (names, usage, summaries) and each verb's module
 * is imported only when it runs. These tests hold the two halves together.
 */
const program = () => buildProgram(memoryIO(baseEnv()).io, { password: async () => '', confirm: async () => false });

/** Pairs every manifest entry with the command built from it, depth first (a group's commands are made when it is dispatched to). */
function pairs(entries: Entry[], parent: Command, path = ''): [string, Entry, Command][] {
  return entries.flatMap((entry, i) => {
    const command = parent.commands[i];
    if (!command) return [];
    const here = `${path}${command.name()}`;
    return [[here, entry, command], ...('commands' in entry ? pairs(entry.commands, command, `${here} `) : [])] as [string, Entry, Command][];
  });
}

/** A leaf whose module has been imported has its arguments or options (every verb has one or the other, or an action). */
const isLoaded = (command: Command) => command.options.length > 0 || command.registeredArguments.length > 0 || (command as unknown as { _actionHandler: unknown })._actionHandler !== null;

describe('the command manifest', () => {
  it("each entry's usage term and summary are what commander makes of the loaded command (no drift)", async () => {
    const p = program();
    await loadAll(p);
    const help = new Help();
    const all = pairs(commands, p);
    expect(all.length).toBeGreaterThan(45);
    for (const [path, entry, command] of all) {
      expect(help.subcommandTerm(command), path).toBe(entry.term);
      expect(command.description(), path).toBe(entry.summary);
    }
  });

  it('--help lists every command without making a group\'s commands or importing a single verb', async () => {
    const p = program();
    await p.parseAsync(['--help'], { from: 'user' }).catch(() => {});
    const made = pairs(commands, p);
    expect(made.map(([path]) => path)).toEqual(commands.map((e) => e.term.split(' ')[0]));
    expect(made.filter(([, entry, c]) => 'load' in entry && isLoaded(c)).map(([path]) => path)).toEqual([]);
  });

  it('a command imports its own module and no other', async () => {
    const { home, cleanup } = tempHome();
    try {
      const io = memoryIO(baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'env' }));
      const p = buildProgram(io.io, { password: async () => '', confirm: async () => false });
      await p.parseAsync(['secret', 'ls'], { from: 'user' });
      const loaded = pairs(commands, p).filter(([, entry, c]) => 'load' in entry && isLoaded(c)).map(([path]) => path);
      expect(loaded).toEqual(['secret list']);
      // and only its own group's commands were made
      expect(pairs(commands, p).map(([path]) => path).filter((path) => path.includes(' '))).toEqual(['secret set', 'secret get', 'secret list', 'secret rm', 'secret generate']);
    } finally {
      cleanup();
    }
  });

  it.each([
    ['help secret', ['help', 'secret'], 'generate [options] <name>'],
    ['secret help get', ['secret', 'help', 'get'], '--field <key>'],
    ['secret get --help', ['secret', 'get', '--help'], '--field <key>'],
    ['tls ca help trust', ['tls', 'ca', 'help', 'trust'], '--store <store>'],
  ])("%s shows the verb's own options, its module imported for the help", async (_name, argv, expected) => {
    const got = await runMain(argv, baseEnv());
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toContain(expected);
  });

  it('help with no command is the program\'s help; an unknown one is a usage error (2), as commander\'s own help command did', async () => {
    const top = await runMain(['help'], baseEnv());
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: keysmith \[options\] \[command\]/);
    const unknown = await runMain(['secret', 'help', 'nope'], baseEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("keysmith: unknown command 'nope'");
  });

  it('aliases from the manifest dispatch: secret delete is secret rm', async () => {
    const got = await runMain(['secret', 'delete', '--help'], baseEnv());
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^Usage: keysmith secret rm\|delete/);
  });
});
