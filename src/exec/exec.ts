import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { childEnvironment } from '../child-env.js';
import { UsageError, type NoticeDetail } from '../errors.js';
import { Matcher, MaskingStream, MIN_MASKED_LENGTH, secretForms } from './mask.js';

export interface ExecOptions {
  /** argv of the command; with `shell`, joined and run by /bin/sh -c. */
  command: string[];
  shell?: boolean;
  /** The environment the child starts from (less every KEYSMITH_* variable). */
  env: NodeJS.ProcessEnv;
  /** Variables to add: secret values, masked in the child's output. */
  secrets: Map<string, Buffer>;
  /** Variables to add as the path of a private file holding the value (masked too): any bytes, any size. */
  files?: Map<string, Buffer>;
  /** Variables to add as they are (plain values of an env file). */
  plain?: Record<string, string>;
  mask: boolean;
  /**
   * Where the command's output goes. The process's own stdout and stderr are handed to it as they
   * are (no copy, a terminal stays a terminal) unless values are masked; any other stream gets its
   * output piped in.
   */
  stdout: Writable;
  stderr: Writable;
  /** The command's stdin: the process's own unless another stream is given, which is piped in. */
  stdin?: Readable;
  /** stdout and stderr reach one reader (a terminal, `> log 2>&1`): mask them as one stream, in order. */
  merged?: boolean;
  /** Where `::add-mask::` lines go under GitHub Actions (a stream the runner reads), or null for nowhere. */
  announce?: Writable | null;
  /** Status lines for people (stderr); a line with `detail` says it as data too (the CLI words those its own way). */
  warn(message: string, detail?: NoticeDetail): void;
}

export interface ExecResult {
  /** The child's exit code, 128+n when a signal ended it, 127 when it could not be found, 126 when it could not run. */
  exitCode: number;
  signal?: NodeJS.Signals;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Runs a command with secrets added to its environment. With masking, every form of every secret
 * value is replaced by `***` in its stdout and stderr; signals to keysmith are passed on; its stdin
 * is `options.stdin`, else the process's own.
 * @example await execWithSecrets({ command: ['./deploy.sh'], env: process.env, secrets, mask: true, … })
 */
export async function execWithSecrets(options: ExecOptions): Promise<ExecResult> {
  // The child gets the caller's environment less keysmith's own credentials, plus exactly what was asked.
  const childEnv: NodeJS.ProcessEnv = { ...childEnvironment(options.env), ...options.plain };
  const patterns: Buffer[] = [];
  const maskValue = (name: string, value: Buffer) => {
    if (!options.mask) return;
    if (value.length < MIN_MASKED_LENGTH) options.warn(`warning: ${name} is shorter than ${MIN_MASKED_LENGTH} characters and is not masked`);
    else patterns.push(...secretForms(value));
  };
  for (const [name, value] of options.secrets) {
    childEnv[name] = environmentValue(name, value);
    maskValue(name, value);
  }
  for (const [name, value] of options.files ?? []) maskValue(name, value);
  const folder = options.files?.size ? await privateFiles(options.files, childEnv, options.env.XDG_RUNTIME_DIR) : undefined;
  try {
    return await run(options, childEnv, patterns);
  } finally {
    if (folder) await rm(folder, { recursive: true, force: true });
  }
}

/** Linux refuses a single environment string ("NAME=value" and its NUL) over 32 pages (MAX_ARG_STRLEN). */
const MAX_ENV_STRING = process.platform === 'linux' ? 32 * 4096 : Infinity;

/** The value as environment text, or a refusal, before the child starts, of what the environment cannot carry exactly. */
function environmentValue(name: string, value: Buffer): string {
  const asFile = { hint: 'pass it as a file instead (files): the command gets the path of a private (0600) file holding it', detail: { kind: 'env-value', variable: name } as const };
  if (value.includes(0)) throw new UsageError(`${name}: the value contains a NUL byte and cannot be passed in an environment variable`, asFile, 'ERR_EXEC_NUL');
  const text = value.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(value)) throw new UsageError(`${name}: the value is not UTF-8 text and would be changed on its way into the environment`, asFile, 'ERR_EXEC_NOT_UTF8');
  if (Buffer.byteLength(name) + value.length + 2 > MAX_ENV_STRING) {
    throw new UsageError(`${name}: the value is ${value.length} bytes, more than one environment variable can hold (${MAX_ENV_STRING - 2 - Buffer.byteLength(name)})`, asFile, 'ERR_EXEC_TOO_LARGE');
  }
  return text;
}

/**
 * Writes each value to a 0600 file in a new 0700 folder (in $XDG_RUNTIME_DIR, memory-backed and
 * private, when there is one) and sets the variable to its path. Returns the folder, removed when
 * the command ends.
 */
async function privateFiles(files: Map<string, Buffer>, childEnv: NodeJS.ProcessEnv, runtime: string | undefined): Promise<string> {
  // mkdtemp makes it 0700; a $XDG_RUNTIME_DIR that names no folder is passed over.
  const folder = await mkdtemp(join(runtime || tmpdir(), 'keysmith-exec-')).catch((err: NodeJS.ErrnoException) => {
    if (!runtime || err.code !== 'ENOENT') throw err;
    return mkdtemp(join(tmpdir(), 'keysmith-exec-'));
  });
  try {
    let n = 0;
    for (const [name, value] of files) {
      const path = join(folder, `${++n}`);
      await writeFile(path, value, { mode: 0o600, flag: 'wx' });
      childEnv[name] = path;
    }
    return folder;
  } catch (err) {
    await rm(folder, { recursive: true, force: true });
    throw err;
  }
}

async function run(options: ExecOptions, childEnv: NodeJS.ProcessEnv, patterns: Buffer[]): Promise<ExecResult> {
  const announce = options.announce === undefined ? options.stderr : options.announce;
  if (options.mask && patterns.length > 0 && options.env.GITHUB_ACTIONS === 'true' && announce) {
    for (const line of maskAnnouncements(patterns)) announce.write(`${line}\n`);
  }
  const masking = options.mask && patterns.length > 0;
  let [file, ...args] = options.shell ? ['/bin/sh', '-c', options.command.join(' ')] : options.command;
  // One reader sees both streams (a terminal, `> log 2>&1`): the command's stderr goes into its
  // stdout pipe, as `2>&1` does, so the bytes keep the order they were written in and a value split
  // between the two is masked whole. Two pipes could not tell which half came first.
  const merged = masking && !!options.merged;
  if (merged) [file, ...args] = ['/bin/sh', '-c', 'exec 2>&1; exec "$0" "$@"', file!, ...args];
  const outPiped = masking || options.stdout !== process.stdout;
  const errPiped = !merged && (masking || options.stderr !== process.stderr);
  const inPiped = options.stdin !== undefined && options.stdin !== process.stdin;
  let child: ChildProcess;
  try {
    child = spawn(file!, args, { env: childEnv, stdio: [inPiped ? 'pipe' : 'inherit', outPiped ? 'pipe' : 'inherit', errPiped ? 'pipe' : 'inherit'] });
  } catch (err) {
    return notStarted(options.command[0]!, err as NodeJS.ErrnoException, options.warn);
  }

  // Signals to keysmith go to the command; once the command has ended (a background process of
  // its may still hold the output open), one ends keysmith's wait instead.
  let exited = false;
  let stopWaiting!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((resolve) => (stopWaiting = resolve));
  const forward = (signal: NodeJS.Signals) => (exited ? stopWaiting(signal) : child.kill(signal));
  for (const s of FORWARDED) process.on(s, forward);
  try {
    const matcher = masking ? new Matcher(patterns) : undefined;
    const copy = (from: Readable, to: Writable) =>
      matcher ? pipeline(from, new MaskingStream(matcher), to, { end: false }) : pipeline(from, to, { end: false });
    const copies = [...(outPiped ? [copy(child.stdout!, options.stdout)] : []), ...(errPiped ? [copy(child.stderr!, options.stderr)] : [])];
    // The command may exit without reading its input: what it did not take is dropped (EPIPE).
    if (inPiped) void pipeline(options.stdin!, child.stdin!).catch(() => undefined);
    // A reader that went away (EPIPE) ends our copy, not the command: it gets SIGPIPE on its next write.
    const piped = Promise.all(copies.map((copy) => copy.catch(() => undefined)));
    const exit = await new Promise<ExecResult>((resolve) => {
      child.on('error', (err: NodeJS.ErrnoException) => resolve(notStarted(options.command[0]!, err, options.warn)));
      child.on('exit', (code, signal) => {
        resolve(signal ? { exitCode: 128 + (constants.signals[signal] ?? 0), signal } : { exitCode: code ?? 1 });
      });
    });
    exited = true;
    const signal = await Promise.race([piped.then(() => undefined), stopped]);
    if (signal) {
      for (const stream of [child.stdout, child.stderr]) stream?.destroy();
      return { exitCode: 128 + (constants.signals[signal] ?? 0), signal };
    }
    return exit;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

/**
 * The `::add-mask::` lines for GitHub Actions: one per line of each form (the runner masks line by
 * line), with %, CR and LF escaped as the runner unescapes them — else `pw%0Aok` would register `pw⏎ok`.
 */
export function maskAnnouncements(forms: Buffer[]): string[] {
  const lines = new Set(forms.flatMap((f) => f.toString('utf8').split(/\r\n|\r|\n/)).filter((l) => l.length >= MIN_MASKED_LENGTH));
  return [...lines].map((line) => `::add-mask::${line.replace(/%/g, '%25')}`);
}

/** Why the command could not start, for people: one line and a hint. Exit 127 when it is not there, else 126. */
function notStarted(command: string, err: NodeJS.ErrnoException, warn: ExecOptions['warn']): ExecResult {
  if (err.code === 'ENOENT') {
    warn(`keysmith: ${command}: command not found`);
    return { exitCode: 127 };
  }
  if (err.code === 'E2BIG') {
    warn(`keysmith: ${command}: cannot start: its arguments and environment are more than the system allows (E2BIG)`);
    warn('hint: pass large values as files (files)', { kind: 'env-too-large', command });
  } else warn(`keysmith: ${command}: cannot start: ${err.message}`);
  return { exitCode: 126 };
}
