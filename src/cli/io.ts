import type { Readable, Writable } from 'node:stream';

/** Every byte the CLI reads or writes goes through here; tests pass an in-memory IO. */
export interface IO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  isTTY: { stdin: boolean; stdout: boolean; stderr: boolean };
  env: NodeJS.ProcessEnv;
}

export function processIO(): IO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: { stdin: !!process.stdin.isTTY, stdout: !!process.stdout.isTTY, stderr: !!process.stderr.isTTY },
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
    stream.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
