// Scripting benchmarks: exec start-up against `secret get` + the command, and masking throughput against raw cat.
import { execFileSync } from 'node:child_process';
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
    const flags: string[] = [];
    for (let i = 0; i < 10; i++) {
      execFileSync(process.execPath, [BIN, '-q', 'secret', 'set', `bench/s${i}`, '-'], { env, input: randomBytes(16).toString('hex') });
      flags.push('--env', `S${i}=bench/s${i}`);
    }
    const ks = (label: string, args: string[]): Cmd => ({ label, argv: [process.execPath, BIN, ...args], env });
    const [exec, get, tru] = measureTogether([
      ks('exec -- true', ['exec', '--env', 'X=bench/s0', '--', 'true']),
      ks('secret get', ['secret', 'get', 'bench/s0']),
      { label: 'true', argv: ['true'] },
    ]);
    const rows: Comparison[] = [{ name: 'exec --env X=name -- true', subject: exec!, against: { label: 'secret get + true', medianMs: get!.medianMs + tru!.medianMs }, target: 1.5 }];

    // 256 MiB of text through `cat`, with 10 secrets (60 forms) masked.
    const big = join(home, 'big.txt');
    writeFileSync(big, randomBytes(192 * 1024 * 1024).toString('base64'));
    const mib = 256;
    const [masked, raw] = measureTogether([
      ks('exec -- cat (10 secrets masked)', ['exec', ...flags, '--', 'cat', big]),
      { label: 'cat', argv: ['cat', big] },
    ], { runs: 5, warmup: 1 });
    rows.push({ name: `exec -- cat ${mib} MiB, 10 secrets masked`, subject: masked!, against: raw! });
    const notes = [`masking throughput: ${(mib / (masked!.medianMs / 1000)).toFixed(0)} MiB/s through keysmith exec -- cat (target ≥ 200 MB/s); raw cat ${(mib / (raw!.medianMs / 1000)).toFixed(0)} MiB/s`];
    return { rows, notes };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
