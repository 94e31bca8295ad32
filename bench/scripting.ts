// Scripting benchmarks: exec start-up against `secret get` + the command, and masking throughput
// and peak memory against raw cat.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureTogether, type Cmd, type Comparison } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');

export function scriptingBenchmarks(): { rows: Comparison[]; notes: string[] } {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  try {
    const env = { ...process.env, KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: '' };
    env.KEYSMITH_AGE_IDENTITY = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    // 100 secrets: 99 of 32 hex characters and one of 64 KB.
    const flags: string[] = [];
    for (let i = 0; i < 100; i++) {
      const value = i === 99 ? randomBytes(48 * 1024).toString('base64') : randomBytes(16).toString('hex');
      execFileSync(process.execPath, [BIN, '-q', 'secret', 'set', `bench/s${i}`, '-'], { env, input: value });
      flags.push('--env', `S${i}=bench/s${i}`);
    }
    const ks = (label: string, args: string[]): Cmd => ({ label, argv: [process.execPath, BIN, ...args], env });
    const [exec, get, tru] = measureTogether([
      ks('exec -- true', ['exec', '--env', 'X=bench/s0', '--', 'true']),
      ks('secret get', ['secret', 'get', 'bench/s0']),
      { label: 'true', argv: ['true'] },
    ]);
    const rows: Comparison[] = [{ name: 'exec --env X=name -- true', subject: exec!, against: { label: 'secret get + true', medianMs: get!.medianMs + tru!.medianMs }, target: 1.5 }];

    // 256 MiB of text through `cat`, with the 100 secrets (~1,000 forms, 0.8 MB of patterns) masked.
    const big = join(home, 'big.txt');
    writeFileSync(big, randomBytes(192 * 1024 * 1024).toString('base64'));
    const mib = 256;
    const [masked, raw] = measureTogether([
      ks('exec -- cat (100 secrets masked)', ['exec', ...flags, '--', 'cat', big]),
      { label: 'cat', argv: ['cat', big] },
    ], { runs: 5, warmup: 1 });
    rows.push({ name: `exec -- cat ${mib} MiB, 100 secrets (one 64 KB) masked`, subject: masked!, against: raw! });
    const notes = [`masking throughput: ${(mib / (masked!.medianMs / 1000)).toFixed(0)} MiB/s through keysmith exec -- cat (target ≥ 200 MB/s); raw cat ${(mib / (raw!.medianMs / 1000)).toFixed(0)} MiB/s`];

    // Peak memory of keysmith exec while `cat` writes 64 MiB: read by the command (keysmith's direct child) at its end.
    const peak = (args: string[]) => {
      const script = `cat ${big.replace(/big\.txt$/, 'mid.txt')} && grep VmHWM /proc/$PPID/status >&2`;
      const r = spawnSync(process.execPath, [BIN, 'exec', ...args, '--shell', '--', script], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      return Number(/VmHWM:\s+(\d+)/.exec(r.stderr)?.[1]) / 1024;
    };
    writeFileSync(join(home, 'mid.txt'), randomBytes(48 * 1024 * 1024).toString('base64'));
    const median = (f: () => number) => [f(), f(), f(), f(), f()].sort((a, b) => a - b)[2]!;
    const none = median(() => peak([]));
    const one = median(() => peak(['--env', 'S0=bench/s0']));
    const all = median(() => peak(flags));
    notes.push(
      `peak memory of exec (VmHWM, median of 5), 64 MiB through cat: no secrets ${none.toFixed(0)} MiB; one secret masked ${one.toFixed(0)} MiB; ` +
        `the 100 secrets ${all.toFixed(0)} MiB = ${(all / none).toFixed(2)}× no secrets (target ≤ 1.5×), ${(all / one).toFixed(2)}× one secret`,
    );
    return { rows, notes };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
