import type { Command } from 'commander';
import type { ErrorKind } from '../errors.js';
import { EXIT_CODES } from './exit-codes.js';

/**
 * What a command's action hands back to `main`: the exit code of a run that finished without an
 * error (`vault status` on a locked vault, `exec`'s child, `tls check`'s verdict). Nothing is 0.
 */
export interface ActionResult {
  exitCode: number;
}

/** Each run's result, by its root program: written once by the action that ran, read by `main`. */
const results = new WeakMap<Command, ActionResult>();
/** Commands whose own failures do not follow the one table (`tls check`: the monitoring plugin). */
const errorTables = new WeakMap<Command, (kind: ErrorKind) => number>();

function root(command: Command): Command {
  let c = command;
  while (c.parent) c = c.parent;
  return c;
}

/**
 * Wraps an action so it can return its result instead of setting shared state; `main` alone turns
 * it into the exit code. commander passes the command itself as the action's last argument.
 * @example new Command('status').action(action(async (_flags, command) => ({ exitCode: 4 })))
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<ActionResult | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const result = await run(...args);
    if (result) results.set(root(args[args.length - 1] as Command), result);
  };
}

/** The exit code the action of this run returned (0 when it returned nothing). */
export function resultOf(program: Command): ActionResult {
  return results.get(program) ?? { exitCode: 0 };
}

/** Gives a command its own exit codes for its failures (bad usage included), in place of the one table. */
export function withErrorCodes(command: Command, table: (kind: ErrorKind) => number): Command {
  errorTables.set(command, table);
  return command;
}

/** The exit code for a failure of `command`: its own table if it has one, else the one table. */
export function errorExitCode(command: Command, kind: ErrorKind): number {
  return (errorTables.get(command) ?? ((k: ErrorKind) => EXIT_CODES[k]))(kind);
}
