// Credential helpers (issue 15): git-credential-keysmith get, which git runs on every HTTPS operation,
// against keysmith secret get of the same record; keysmith scan of a home with 20,000 files.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureTogether, type Comparison } from './lib.js';

export function helperBenchmarks(): { rows: Comparison[]; notes: string[] } {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-helpers-'));
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file' };
    env.KEYSMITH_AGE_IDENTITY = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const bin = (name: string) => join(process.cwd(), 'bin', name);
    for (let i = 0; i < 10; i++) execFileSync(process.execPath, [bin('keysmith.js'), '-q', 'secret', 'set', `app/secret-${i}`, '-'], { env, input: `value-${i}` });
    const request = 'protocol=https\nhost=git.example.com\n\n';
    execFileSync(process.execPath, [bin('git-credential-keysmith.js'), 'store'], { env, input: `${request.trim()}\nusername=alice\npassword=hunter2\n\n` });
    const [helper, get] = measureTogether([
      { label: 'git-credential-keysmith get', argv: [process.execPath, bin('git-credential-keysmith.js'), 'get'], env, input: request },
      { label: 'keysmith secret get', argv: [process.execPath, bin('keysmith.js'), 'secret', 'get', 'git/https/git.example.com'], env },
    ]);
    // A home of 20,000 files: the fixture home (every kind), then 400 projects of 50 small files each.
    const scanned = join(home, 'scanned');
    cpSync(join(process.cwd(), 'fixtures', 'scan', 'home'), scanned, { recursive: true });
    for (let p = 0; p < 400; p++) {
      const dir = join(scanned, 'src', `project-${p}`, 'lib');
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 50; f++) writeFileSync(join(dir, `file-${f}.txt`), `project ${p} file ${f}\n`.repeat(20));
    }
    const [scan, grep] = measureTogether([
      { label: 'keysmith scan (20,000 files)', argv: [process.execPath, bin('keysmith.js'), 'scan', scanned, '--json'], env, status: 1 },
      { label: 'grep -rl "PRIVATE KEY-----"', argv: ['grep', '-rl', 'PRIVATE KEY-----', scanned], env },
    ], { runs: 5, warmup: 1 });
    return {
      rows: [
        { name: 'git credential get, file vault (11 records)', subject: helper!, against: get!, target: 1.2 },
        { name: 'scan of a home with 20,000 files', subject: scan!, against: grep!, limitMs: 2000 },
      ],
      notes: [`- helpers: node ${process.version}, NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}`],
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
