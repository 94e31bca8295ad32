// SSH benchmarks: keygen against ssh-keygen and node -e 0; rotate across 20 local sshd hosts against serial ssh appends.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { measureTogether, type Comparison } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');

export async function sshBenchmarks(): Promise<{ rows: Comparison[]; notes: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  const hosts: TestSshd[] = [];
  try {
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity };
    delete env.SSH_AUTH_SOCK;
    execFileSync(process.execPath, [BIN, '-q', 'ssh', 'keygen', 'warm', '--no-passphrase'], { env });
    const ks = (label: string, args: string[], input?: string) => ({ label, argv: [process.execPath, BIN, '-q', 'ssh', 'keygen', ...args, '--force'], env, ...(input ? { input } : {}) });
    const sk = (label: string, args: string[], input?: string) => ({ label, argv: ['sh', '-c', `rm -f ${home}/sk ${home}/sk.pub && exec ssh-keygen -q ${args.join(' ')} -f ${home}/sk`], ...(input ? { input } : {}) });
    const node = { label: 'node -e 0', argv: [process.execPath, '-e', '0'] };
    const rows: Comparison[] = [];
    const [a, b, n] = measureTogether([ks('keygen ed25519', ['k1', '--no-passphrase']), sk('ssh-keygen -t ed25519', ['-t', 'ed25519', "-N ''"]), node]);
    rows.push({ name: 'ssh keygen ed25519, no passphrase', subject: a!, against: n!, target: 2 }, { name: 'ssh keygen ed25519, no passphrase', subject: a!, against: b! });
    const [c, d] = measureTogether([ks('keygen ed25519 -a 16', ['k2', '--passphrase-stdin', '--rounds', '16'], 'passphrase'), sk('ssh-keygen -a 16', ['-t', 'ed25519', '-a', '16', '-N', 'passphrase'])], { runs: 9 });
    rows.push({ name: 'ssh keygen ed25519, passphrase, 16 rounds', subject: c!, against: d!, target: 1.2 });
    const [e, f] = measureTogether([ks('keygen rsa 4096', ['k3', '-t', 'rsa', '-b', '4096', '--no-passphrase']), sk('ssh-keygen -t rsa -b 4096', ['-t', 'rsa', '-b', '4096', "-N ''"])], { runs: 9 });
    rows.push({ name: 'ssh keygen rsa 4096', subject: e!, against: f!, target: 1.2 });

    // ssh fingerprint of 1,000 key files in one call, against a shell loop of ssh-keygen -l (issue 11: ≥ 10× faster).
    const fpDir = join(home, 'fp');
    mkdirSync(fpDir);
    const seeds = readdirSync('fixtures/ssh').filter((f) => /^(ed25519|ecdsa\d+|rsa\d+|sk-ecdsa|sk-ed25519)(-cert)?\.pub$/.test(f));
    for (let i = 0; i < 1000; i++) writeFileSync(join(fpDir, `k${i}.pub`), readFileSync(join('fixtures/ssh', seeds[i % seeds.length]!)));
    const [fpKs, fpLoop] = measureTogether([
      { label: 'ssh fingerprint 1,000 files', argv: ['sh', '-c', `exec ${process.execPath} ${BIN} ssh fingerprint ${fpDir}/*.pub`], env },
      { label: 'sh loop of ssh-keygen -l', argv: ['sh', '-c', `for f in ${fpDir}/*.pub; do ssh-keygen -l -f "$f"; done`] },
    ], { runs: 5, warmup: 1 });
    rows.push({ name: 'ssh fingerprint, 1,000 key files', subject: fpKs!, against: fpLoop!, target: 0.1 });

    // Rotation across 20 local sshd hosts.
    const boot = join(home, 'boot');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', boot]);
    execFileSync(process.execPath, [BIN, '-q', 'ssh', 'keygen', 'fleet', '--no-passphrase'], { env });
    for (let i = 0; i < 20; i++) {
      const h = await startSshd();
      writeFileSync(h.authorizedKeys, readFileSync(`${boot}.pub`));
      hosts.push(h);
      execFileSync(process.execPath, [BIN, '-q', 'ssh', 'deploy', 'fleet', `root@127.0.0.1:${h.port}`, '-i', boot, '--accept-new', '--authorized-keys', h.authorizedKeys], { env });
    }
    const rotations: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [BIN, '-q', 'ssh', 'rotate', 'fleet', '--concurrency', '8'], { env });
      if (r.status !== 0) throw new Error(`rotate failed: ${r.stderr}`);
      rotations.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const serial: number[] = [];
    const known = join(home, '.ssh', 'known_hosts');
    for (let i = 0; i < 3; i++) {
      const start = process.hrtime.bigint();
      for (const h of hosts) {
        // ssh-copy-id's way: one ssh login per host that appends the key.
        const r = spawnSync('ssh', ['-i', boot, '-p', String(h.port), '-o', `UserKnownHostsFile=${known}`, '-o', 'BatchMode=yes', 'root@127.0.0.1', `cat >> ${h.authorizedKeys}`], { input: readFileSync(`${boot}.pub`) });
        if (r.status !== 0) throw new Error(`ssh append failed: ${r.stderr}`);
      }
      serial.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    rows.push({ name: 'ssh rotate, 20 hosts, --concurrency 8', subject: { label: 'rotate', medianMs: median(rotations) }, against: { label: '20 serial ssh appends (ssh-copy-id style)', medianMs: median(serial) } });
    return { rows, notes: [`ssh rotate across 20 sshd hosts: ${median(rotations).toFixed(0)} ms (append, fresh login with the new key, removal, per host); 20 serial ssh-copy-id-style appends: ${median(serial).toFixed(0)} ms`] };
  } finally {
    for (const h of hosts) await h.stop();
    rmSync(home, { recursive: true, force: true });
  }
}
