// SSH certificates (issue 14): `keysmith ssh ca sign` against `node -e 0` (target ≤ 2×: it must load
// no ssh2 or other heavy module) and against `ssh-keygen -s` with the same CA key, all in the
// same rounds; `ssh show KEY-cert.pub` against `ssh-keygen -L` for context. Both sides without
// NODE_EXTRA_CA_CERTS (it adds ~30 ms to every node start). npm run bench -- ssh-ca
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureTogether, type Cmd, type Comparison } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');

export function sshCaBenchmarks(options: { runs?: number; warmup?: number } = {}): { rows: Comparison[]; notes: string[] } {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-ca-'));
  try {
    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(base)) if (k.startsWith('KEYSMITH_') || k === 'NODE_EXTRA_CA_CERTS' || k === 'SSH_AUTH_SOCK') delete base[k];
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    // TZ fixed: both print local times.
    const env = { ...base, TZ: 'UTC', HOME: home, XDG_CACHE_HOME: join(home, 'cache'), KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity };
    const ks = (label: string, args: string[]): Cmd => ({ label, argv: [process.execPath, BIN, '-q', ...args], env });
    // A vault of realistic size: the CA and ten other records.
    for (let i = 0; i < 10; i++) execFileSync(process.execPath, [BIN, '-q', 'secret', 'set', `app/secret-${i}`, '-'], { env, input: `value-${i}` });
    execFileSync(process.execPath, [BIN, '-q', 'ssh', 'ca', 'create', 'users'], { env });
    const caKey = join(home, 'users_ca');
    writeFileSync(caKey, execFileSync(process.execPath, [BIN, 'secret', 'get', 'ssh-ca/users'], { env }), { mode: 0o600 });
    const key = join(home, 'work');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'work@bench', '-f', key]);
    const ours = join(home, 'ours-cert.pub');
    const sign = ks('ssh ca sign', ['ssh', 'ca', 'sign', 'users', `${key}.pub`, '-n', 'alice,deploy', '-I', 'alice', '--valid', '8h', '--out', ours, '--force']);
    const node: Cmd = { label: 'node -e 0', argv: [process.execPath, '-e', '0'], env: base };
    const sshKeygen: Cmd = { label: 'ssh-keygen -s', argv: ['ssh-keygen', '-q', '-s', caKey, '-I', 'alice', '-n', 'alice,deploy', '-V', '+8h', `${key}.pub`], env: { ...base, TZ: 'UTC' } };
    const [s, n, k] = measureTogether([sign, node, sshKeygen], options);
    const [show, sshKeygenL] = measureTogether([
      ks('ssh show KEY-cert.pub', ['ssh', 'show', ours]),
      { label: 'ssh-keygen -L', argv: ['ssh-keygen', '-L', '-f', ours], env: { ...base, TZ: 'UTC' } },
    ], options);
    const rows: Comparison[] = [
      { name: 'ssh ca sign, ed25519 CA, file vault (11 records)', subject: s!, against: n!, target: 2 },
      { name: 'ssh ca sign, ed25519 CA, file vault (11 records)', subject: s!, against: k! },
      { name: 'ssh show KEY-cert.pub (no vault)', subject: show!, against: sshKeygenL! },
    ];
    return { rows, notes: [`- ssh-ca rows: node ${process.version}, NODE_EXTRA_CA_CERTS unset on both sides; ssh ca sign opens the file vault (age, native X25519) and writes the certificate atomically (fsync), ssh-keygen -s reads its CA key from a file`] };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
