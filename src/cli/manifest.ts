import type { Command } from 'commander';
import type { ContextFor } from './context.js';

/**
 * A verb's module. Its default export completes the command the manifest made — arguments,
 * options, help text and action — and is imported only when that command runs (or its help or
 * the completion script needs it), so a command loads what it runs and nothing else.
 */
export interface VerbModule {
  default: (command: Command, contextFor: ContextFor) => Command;
}

/**
 * The command tree as data: each command's usage term (`name|alias [options] <args>`, as help
 * lists it) and summary, and either the verb's module or the commands under it.
 */
export type Entry = { term: string; summary: string } & ({ load: () => Promise<VerbModule> } | { commands: Entry[] });

const pending = new WeakMap<Command, () => Promise<void>>();

/** Marks a command whose definition `load` completes on first use. */
export function defer(command: Command, load: () => Promise<void>): void {
  pending.set(command, load);
}

/** Completes `command` if its module has not been imported yet. */
export async function loaded(command: Command): Promise<Command> {
  const load = pending.get(command);
  if (load) {
    pending.delete(command);
    await load();
  }
  return command;
}

/** Completes every command under `command` (the completion script lists every option). */
export async function loadAll(command: Command): Promise<void> {
  await loaded(command);
  await Promise.all(command.commands.map(loadAll));
}
