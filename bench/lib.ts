import { spawnSync } from 'node:child_process';

export interface Cmd {
  label: string;
  argv: string[];
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** The exit status of a run that went right (`scan` finding something is 1); 0 unless said. */
  status?: number;
}

export interface Measured {
  label: string;
  medianMs: number;
}

/**
 * Runs the commands in turn, round after round (so drift on a busy machine hits all alike), and
 * returns each one's median wall time.
 */
export function measureTogether(cmds: Cmd[], options: { runs?: number; warmup?: number } = {}): Measured[] {
  const runs = options.runs ?? 21;
  const warmup = options.warmup ?? 3;
  const times = cmds.map(() => [] as number[]);
  for (let round = 0; round < warmup + runs; round++) {
    cmds.forEach((cmd, i) => {
      const start = process.hrtime.bigint();
      const r = spawnSync(cmd.argv[0]!, cmd.argv.slice(1), { env: cmd.env ?? process.env, input: cmd.input ?? '', stdio: ['pipe', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (r.status !== (cmd.status ?? 0)) throw new Error(`${cmd.label}: exit ${r.status}: ${r.stderr?.toString()}`);
      if (round >= warmup) times[i]!.push(ms);
    });
  }
  return cmds.map((cmd, i) => {
    const t = times[i]!.sort((a, b) => a - b);
    return { label: cmd.label, medianMs: t[Math.floor(t.length / 2)]! };
  });
}

export interface Comparison {
  name: string;
  subject: Measured;
  against: Measured;
  /** The ceiling for subject/against. */
  target?: number;
  /** An absolute ceiling instead: subject < limitMs (against is then context, not the yardstick). */
  limitMs?: number;
  /** A ceiling in milliseconds over the peer instead: subject ≤ against + slackMs. */
  slackMs?: number;
}

/** Measures `subject` against `against` in the same rounds. */
export function compare(name: string, subject: Cmd, against: Cmd, target?: number, options?: { runs?: number; warmup?: number }): Comparison {
  const [s, a] = measureTogether([subject, against], options);
  return { name, subject: s!, against: a!, ...(target === undefined ? {} : { target }) };
}

export function report(rows: Comparison[]): string {
  const lines = rows.map(({ name, subject, against, target, limitMs, slackMs }) => {
    const ratio = subject.medianMs / against.medianMs;
    let verdict = target === undefined ? '' : ratio <= target ? `ok (≤ ${target}×)` : `OVER (target ≤ ${target}×)`;
    if (limitMs !== undefined) verdict = subject.medianMs < limitMs ? `ok (< ${limitMs} ms)` : `OVER (target < ${limitMs} ms)`;
    if (slackMs !== undefined) {
      const over = `${against.label} + ${slackMs} ms`;
      verdict = subject.medianMs <= against.medianMs + slackMs ? `ok (≤ ${over})` : `OVER (target ≤ ${over})`;
    }
    return `| ${name} | ${subject.medianMs.toFixed(1)} | ${against.label} | ${against.medianMs.toFixed(1)} | ${ratio.toFixed(2)}× | ${verdict} |`;
  });
  return ['| benchmark | keysmith ms | against | ms | ratio | target |', '|---|---|---|---|---|---|', ...lines].join('\n');
}
