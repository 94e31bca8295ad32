/**
 * The file lock under crash and contention (issue 10, finding 1): a writer is SIGKILLed holding
 * the lock, then 12 writers arrive at once; round after round, every acknowledged write must be
 * there and no two writers may ever hold the lock together.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempHome } from '../helpers/cli.js';

const ROUNDS = 200;
const WRITERS = 12;
const { home, cleanup } = tempHome();
const worker = join(home, 'lock-worker.mjs');

beforeAll(async () => {
  await build({ entryPoints: [new URL('../helpers/lock-worker.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: worker, logLevel: 'warning' });
});
afterAll(cleanup);

const run = (args: string[]) => spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
const exitOf = (child: ReturnType<typeof run>) => new Promise<number | null>((r) => child.on('close', r));

it(`${ROUNDS} rounds of a writer killed holding the lock, then ${WRITERS} writers at once: no write lost, never two holders`, async () => {
  const target = join(home, 'vault.age');
  const log = join(home, 'log');
  const counter = join(home, 'counter');
  writeFileSync(log, '');
  writeFileSync(counter, '0');
  let acknowledged = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const holder = run(['hold', target, log, counter]);
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    holder.kill('SIGKILL');
    await exitOf(holder);
    const codes = await Promise.all(Array.from({ length: WRITERS }, () => exitOf(run(['add', target, log, counter]))));
    acknowledged += codes.filter((c) => c === 0).length;
  }
  expect(acknowledged).toBe(ROUNDS * WRITERS);
  expect(Number(readFileSync(counter, 'utf8'))).toBe(acknowledged);
  // The log alternates enter/leave of one process at a time: never two holders.
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  for (let i = 0; i < lines.length; i += 2) {
    const [enter, leave] = [lines[i]!, lines[i + 1]!];
    expect(enter.startsWith('enter ') && leave === enter.replace('enter', 'leave'), `lines ${i}-${i + 1}: ${enter} / ${leave}`).toBe(true);
  }
}, 600_000);
