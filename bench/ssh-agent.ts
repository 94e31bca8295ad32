// The SSH agent: a signature through keysmith's agent (ssh-keygen -Y sign) against the same with OpenSSH's ssh-agent holding the same key.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureTogether, type Comparison } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');

export async function agentBenchmarks(): Promise<{ rows: Comparison[]; notes: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file' };
  delete env.SSH_AUTH_SOCK;
  env.KEYSMITH_AGE_IDENTITY = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
  const ks = (...args: string[]) => execFileSync(process.execPath, [BIN, '-q', ...args], { env, encoding: 'utf8' });
  const openssh = join(home, 'openssh.sock');
  let opensshPid: string | undefined;
  const rows: Comparison[] = [];
  try {
    writeFileSync(join(home, 'msg'), 'a message to sign\n'.repeat(64));
    for (const [name, args] of [['ed', []], ['rsa', ['-t', 'rsa', '-b', '3072']], ['ec', ['-t', 'ecdsa', '-b', '256']]] as const) ks('ssh', 'keygen', name, '--vault-only', ...args);
    const ours = /SSH_AUTH_SOCK=([^;]+);/.exec(ks('ssh', 'agent', 'start'))![1]!;
    opensshPid = /SSH_AGENT_PID=(\d+);/.exec(execFileSync('ssh-agent', ['-a', openssh], { encoding: 'utf8' }))![1];
    for (const name of ['ed', 'rsa', 'ec']) {
      // The same private key, from the vault, into OpenSSH's agent.
      const pem = (JSON.parse(ks('secret', 'get', `ssh/${name}`, '--json')) as { fields: { privateKey: string } }).fields.privateKey;
      const file = join(home, `${name}-key`);
      writeFileSync(file, pem, { mode: 0o600 });
      execFileSync('ssh-add', ['-q', file], { env: { ...env, SSH_AUTH_SOCK: openssh } });
      rmSync(file);
    }
    const sign = (label: string, sock: string, name: string) => ({ label, argv: ['sh', '-c', `exec ssh-keygen -q -Y sign -n file -f ${home}/.ssh/${name}.pub < ${home}/msg`], env: { ...env, SSH_AUTH_SOCK: sock } });
    for (const [name, type] of [['ed', 'ed25519'], ['ec', 'ecdsa P-256'], ['rsa', 'rsa 3072 (rsa-sha2-512)']] as const) {
      const [a, b] = measureTogether([sign(`keysmith agent, ${type}`, ours, name), sign(`ssh-agent, ${type}`, openssh, name)]);
      rows.push({ name: `ssh-keygen -Y sign through the agent, ${type}`, subject: a!, against: b!, target: 1.5 });
    }
    // The agent alone: 200 sign requests on one connection each, from one ssh-add -T process per key (ssh-add -T signs and verifies).
    const test = (label: string, sock: string) => ({ label, argv: ['sh', '-c', `for i in 1 2 3 4 5 6 7 8 9 10; do ssh-add -T ${home}/.ssh/ed.pub || exit 1; done`], env: { ...env, SSH_AUTH_SOCK: sock } });
    const [c, d] = measureTogether([test('keysmith agent: 10 × ssh-add -T', ours), test('ssh-agent: 10 × ssh-add -T', openssh)], { runs: 11 });
    rows.push({ name: 'ssh-add -T (sign and verify) × 10, ed25519', subject: c!, against: d! });
    return { rows, notes: [] };
  } finally {
    spawnSync(process.execPath, [BIN, '-q', 'ssh', 'agent', 'stop'], { env });
    if (opensshPid) spawnSync('kill', [opensshPid]);
    rmSync(home, { recursive: true, force: true });
  }
}
