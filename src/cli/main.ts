import { CommanderError, type Command } from 'commander';
import { KeysmithError, systemError } from '../errors.js';
import { errorExitCode, resultOf } from './action.js';
import { processIO, type IO } from './io.js';
import { buildProgram } from './program.js';
import { inquirerPrompter, type Prompter } from './prompter.js';

/** The seams `main` runs on besides IO: tests answer prompts and fix the time. */
export interface MainDeps {
  prompter?: Prompter;
  /** The clock every command reads (expiry, ages, `--at` defaults); the system clock if omitted. */
  now?: () => Date;
}

/** Runs keysmith with `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], io: IO = processIO(), deps: MainDeps = {}): Promise<number> {
  // The command commander dispatched to, as it parsed (not a guess from raw argv: `secret get tls
  // check` is not the monitoring plugin, and a `--debug` after `--` is the child's). Its failures
  // take its own exit codes where it has them (`tls check`: UNKNOWN).
  let dispatched: Command | undefined;
  const program = buildProgram(io, deps.prompter ?? inquirerPrompter(io), deps.now, (command) => (dispatched = command));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return resultOf(program).exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not failures; every other parse error is a usage error.
      return err.exitCode === 0 ? 0 : errorExitCode(dispatched ?? program, 'usage');
    }
    const debug = program.opts().debug === true;
    // A system error that reached here (a full disk, a busy port …) gets a line and a hint too.
    const known = err instanceof KeysmithError ? err : systemError(err);
    if (known) {
      // The library words its errors in its own terms; the CLI names its flags and commands.
      const { cliMessage } = await import('./messages.js'); // only a failing run words an error
      const { message, hint } = cliMessage(known);
      let text = `keysmith: ${message}\n`;
      if (hint) text += `hint: ${hint}\n`;
      if (debug) text += `${known.code}\n${describeCause(known)}`;
      io.stderr.write(text);
      return errorExitCode(dispatched ?? program, known.kind);
    }
    io.stderr.write(`keysmith: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
    if (debug) io.stderr.write(`${(err as Error)?.stack ?? ''}\n`);
    else io.stderr.write('hint: run again with --debug for details\n');
    return errorExitCode(dispatched ?? program, 'failed');
  }
}

function describeCause(err: Error): string {
  let text = `${err.stack ?? ''}\n`;
  for (let cause = err.cause; cause instanceof Error; cause = cause.cause) text += `caused by: ${cause.stack ?? cause.message}\n`;
  return text;
}
