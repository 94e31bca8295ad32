// Start-up benchmarks (issue 12): each command against `node -e 0` (and ssh-keygen where it is the
// peer), all without NODE_EXTRA_CA_CERTS, which adds ~30 ms to every node start and would hide
// keysmith's own cost. Run it under each Node: PATH=/path/to/node22/bin:$PATH npm run bench -- startup
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureTogether, type Cmd, type Comparison } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');

export function startupBenchmarks(): { rows: Comparison[]; notes: string[] } {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  try {
    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(base)) if (k.startsWith('KEYSMITH_') || k === 'NODE_EXTRA_CA_CERTS' || k === 'SSH_AUTH_SOCK') delete base[k];
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const env = { ...base, HOME: home, XDG_CACHE_HOME: join(home, 'cache'), KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity };
    const ks = (label: string, args: string[], input?: string): Cmd => ({ label, argv: [process.execPath, BIN, '-q', ...args], env, ...(input ? { input } : {}) });
    for (let i = 0; i < 10; i++) execFileSync(process.execPath, [BIN, '-q', 'secret', 'set', `app/secret-${i}`, '-'], { env, input: `value-${i}` });
    execFileSync(process.execPath, [BIN, '-q', 'tls', 'ca', 'create'], { env });
    execFileSync(process.execPath, [BIN, '-q', 'ssh', 'keygen', 'warm', '--no-passphrase'], { env });
    const node: Cmd = { label: 'node -e 0', argv: [process.execPath, '-e', '0'], env: base };
    const sk = `rm -f ${home}/sk ${home}/sk.pub && exec ssh-keygen -q -t ed25519 -a 16 -N passphrase -f ${home}/sk`;

    const [help, list, get, keygen, issue, n] = measureTogether([
      ks('keysmith --help', ['--help']),
      ks('secret list', ['secret', 'list']),
      ks('secret get', ['secret', 'get', 'app/secret-3']),
      ks('ssh keygen ed25519', ['ssh', 'keygen', 'k1', '--no-passphrase', '--force']),
      ks('tls issue P-256', ['tls', 'issue', 'host.test', '--out-dir', home, '--force']),
      node,
    ]);
    const [pass, sshKeygen] = measureTogether([
      ks('keygen ed25519 -a 16', ['ssh', 'keygen', 'k2', '--passphrase-stdin', '--rounds', '16', '--force'], 'passphrase'),
      { label: 'ssh-keygen -a 16', argv: ['sh', '-c', sk], env: base },
    ], { runs: 11 });
    const rows: Comparison[] = [
      { name: 'keysmith --help', subject: help!, against: n!, target: 1.5 },
      { name: 'secret list, file vault, 10 records', subject: list!, against: n!, target: 1.5 },
      { name: 'secret get, file vault, 10 records', subject: get!, against: n!, target: 1.5 },
      { name: 'ssh keygen ed25519, no passphrase', subject: keygen!, against: n!, target: 2 },
      { name: 'ssh keygen ed25519, passphrase, 16 rounds', subject: pass!, against: sshKeygen!, target: 1.3 },
      { name: 'tls issue P-256, file vault', subject: issue!, against: n!, target: 2.5 },
    ];
    return { rows, notes: [`- start-up rows: node ${process.version}, NODE_EXTRA_CA_CERTS unset on both sides, V8 compile cache in a fresh XDG_CACHE_HOME (warmed by the warm-up rounds)`] };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
