import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { childEnvironment } from '../child-env.js';
import { UsageError } from '../errors.js';
import { Matcher, MaskingStream, MIN_MASKED_LENGTH, secretForms } from './mask.js';

export interface ExecOptions {
  /** argv of the command; with `shell`, joined and run by /bin/sh -c. */
  command: string[];
  shell?: boolean;
  /** The environment the child starts from (less every KEYSMITH_* variable). */
  env: NodeJS.ProcessEnv;
  /** Variables to add: secret values, masked in the child's output. */
  secrets: Map<string, Buffer>;
  /** Variables to add as they are (plain values of an env file). */
  plain?: Record<string, string>;
  mask: boolean;
  stdout: Writable;
  stderr: Writable;
  /** Where `::add-mask::` lines go under GitHub Actions (a stream the runner reads), or null for nowhere. */
  announce?: Writable | null;
  /** Status lines for people (stderr). */
  warn(message: string): void;
}

export interface ExecResult {
  /** The child's exit code, 128+n when a signal ended it, 127 when it could not be found, 126 when it could not run. */
  exitCode: number;
  signal?: NodeJS.Signals;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Runs a command with secrets added to its environment. With masking, every form of every secret
 * value is replaced by `***` in its stdout and stderr; signals to keysmith are passed on; stdin is
 * the child's own.
 * @example await execWithSecrets({ command: ['./deploy.sh'], env: process.env, secrets, mask: true, … })
 */
export async function execWithSecrets(options: ExecOptions): Promise<ExecResult> {
  // The child gets the caller's environment less keysmith's own credentials, plus exactly what was asked.
  const childEnv: NodeJS.ProcessEnv = { ...childEnvironment(options.env), ...options.plain };
  const patterns: Buffer[] = [];
  for (const [name, value] of options.secrets) {
    // An environment variable is a C string of text: refuse what it cannot carry exactly, before the child starts.
    const hint = `write it to a private file instead: keysmith secret get NAME > file (0600), and pass the file's path`;
    if (value.includes(0)) throw new UsageError(`${name}: the value contains a NUL byte and cannot be passed in an environment variable`, { hint }, 'ERR_EXEC_NUL');
    const text = value.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(value)) throw new UsageError(`${name}: the value is not UTF-8 text and would be changed on its way into the environment`, { hint }, 'ERR_EXEC_NOT_UTF8');
    childEnv[name] = text;
    if (!options.mask) continue;
    if (value.length < MIN_MASKED_LENGTH) options.warn(`warning: ${name} is shorter than ${MIN_MASKED_LENGTH} characters and is not masked`);
    else patterns.push(...secretForms(value));
  }
  const announce = options.announce === undefined ? options.stdout : options.announce;
  if (options.mask && patterns.length > 0 && options.env.GITHUB_ACTIONS === 'true' && announce) {
    // GitHub masks per line: announce every line of every form before the child can print it.
    const lines = new Set(patterns.flatMap((p) => p.toString('utf8').split(/\r?\n/)).filter((l) => l.length >= MIN_MASKED_LENGTH));
    for (const line of lines) announce.write(`::add-mask::${line}\n`);
  }
  const masking = options.mask && patterns.length > 0;
  const [file, ...args] = options.shell ? ['/bin/sh', '-c', options.command.join(' ')] : options.command;
  const child = spawn(file!, args, { env: childEnv, stdio: ['inherit', masking ? 'pipe' : 'inherit', masking ? 'pipe' : 'inherit'] });

  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    const piped = masking
      ? Promise.all([
          pipeline(child.stdout!, new MaskingStream(new Matcher(patterns)), options.stdout, { end: false }),
          pipeline(child.stderr!, new MaskingStream(new Matcher(patterns)), options.stderr, { end: false }),
        ])
      : Promise.resolve();
    const exit = await new Promise<ExecResult>((resolve) => {
      child.on('error', (err: NodeJS.ErrnoException) => {
        options.warn(`keysmith: ${options.command[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`);
        resolve({ exitCode: err.code === 'ENOENT' ? 127 : 126 });
      });
      child.on('exit', (code, signal) => {
        resolve(signal ? { exitCode: 128 + (constants.signals[signal] ?? 0), signal } : { exitCode: code ?? 1 });
      });
    });
    await piped.catch(() => undefined); // a reader that went away (EPIPE) ends our copy, not the child
    return exit;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}
