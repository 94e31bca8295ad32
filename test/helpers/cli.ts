import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { IO } from '../../src/cli/io.js';
import type { Prompter } from '../../src/cli/prompter.js';

export const BIN = fileURLToPath(new URL('../../bin/keysmith.js', import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

/** A private KEYSMITH_HOME per test, and an environment that reaches no real keychain or vault. */
export function tempHome(): { home: string; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), 'keysmith-test-'));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

/** The environment every spawned keysmith gets: no inherited vault settings, no D-Bus unless given. */
export function baseEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('KEYSMITH_') && k !== 'DBUS_SESSION_BUS_ADDRESS' && k !== 'CI') env[k] = v;
  }
  env.KEYSMITH_KEYCHAIN_SERVICE = 'keysmith-test';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Spawns the built bin, as a user or a script would. */
export function runBin(args: string[], options: { env: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number }): Promise<Run> {
  return runProgram(process.execPath, [BIN, ...args], options);
}

/**
 * Runs a program to its end, asynchronously (a server in the test process must go on answering
 * it), with stdin from `input`; killed after `timeoutMs`.
 */
export function runProgram(command: string, args: string[], options: { env: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number; cwd?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** An in-memory IO for running main() in-process. */
export function memoryIO(env: NodeJS.ProcessEnv, options: { input?: string; tty?: boolean } = {}) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  if (options.input !== undefined) stdin.end(options.input);
  const tty = options.tty ?? false;
  const io: IO = { stdin, stdout, stderr, env, isTTY: { stdin: tty, stdout: tty, stderr: tty } };
  return {
    io,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stdoutBytes: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err).toString('utf8'),
  };
}

export async function runMain(args: string[], env: NodeJS.ProcessEnv, options: { input?: string; tty?: boolean; prompter?: Prompter; now?: () => Date } = {}) {
  const m = memoryIO(env, options);
  const code = await main(args, m.io, { prompter: options.prompter, now: options.now });
  return { code, stdout: m.stdout(), stdoutBytes: m.stdoutBytes(), stderr: m.stderr() };
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** A clock for main's `now` seam that always reads `at` moved by `offsetMs` (a fresh Date each call). */
export function clockAt(at: string | Date, offsetMs = 0): () => Date {
  const ms = new Date(at).getTime() + offsetMs;
  if (Number.isNaN(ms)) throw new Error(`clockAt: not a time: ${String(at)}`);
  return () => new Date(ms);
}

/** The ISO time `offsetMs` after `at`, as the CLI prints it. */
export const isoAt = (at: string | Date, offsetMs = 0) => new Date(new Date(at).getTime() + offsetMs).toISOString();
