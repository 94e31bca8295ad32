import { fstatSync } from 'node:fs';
import { isatty } from 'node:tty';
import type { Readable, Writable } from 'node:stream';

/** Every byte the CLI reads or writes goes through here; tests pass an in-memory IO. */
export interface IO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  isTTY: { stdin: boolean; stdout: boolean; stderr: boolean };
  /** Whether stdout and stderr were redirected to regular files (not a terminal, pipe or socket). */
  toFile?: { stdout: boolean; stderr: boolean };
  /** stdout and stderr are one file (a terminal, `> log 2>&1`, `2>&1 |`): their reader sees them merged. */
  merged?: boolean;
  env: NodeJS.ProcessEnv;
}

const isRegularFile = (fd: number) => {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
};

const sameFile = (a: number, b: number) => {
  try {
    const [x, y] = [fstatSync(a), fstatSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
};

export function processIO(): IO {
  // A reader that stops early (`| head -c1`) closes the pipe: what it did not read is dropped
  // quietly and the command ends as it would have — never an "Unhandled 'error' event" stack trace.
  // Any other failure (a full disk behind `> file`) reaches the writer through write()'s callback,
  // and main reports it; thrown from here it would be an uncaught stack trace.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  return {
    // process.stdin is made on first use (~0.4 ms): most commands never read it.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: { stdin: isatty(0), stdout: isatty(1), stderr: isatty(2) },
    toFile: { stdout: isRegularFile(1), stderr: isRegularFile(2) },
    merged: sameFile(1, 2),
    env: process.env,
  };
}

/** All of stdin, as bytes. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** Writes and waits until the bytes are handed to the OS, so exit codes never cut output short. */
export function write(stream: Writable, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err && !readerGone(err) ? reject(err) : resolve()));
  });
}

/** The reader of a pipe went away (EPIPE), or the stream was closed after it did. */
const readerGone = (err: Error) => ['EPIPE', 'ERR_STREAM_DESTROYED'].includes((err as NodeJS.ErrnoException).code ?? '');
