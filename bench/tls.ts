// TLS benchmarks: issue against mkcert and openssl; check over 500 local endpoints against a serial openssl loop.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa } from '../src/tls/ca.js';
import { issueCertificate } from '../src/tls/issue.js';
import type { Vault } from '../src/vault/types.js';
import { measureTogether, type Cmd, type Comparison } from './lib.js';

/** A vault in memory, for the bench's throwaway CA. */
function memoryVault(): Vault {
  const records = new Map();
  return { get: async (n) => records.get(n), set: async (n, r) => void records.set(n, r), delete: async (n) => records.delete(n), list: async () => [], describe: () => ({ backend: 'file', location: 'memory', writable: true }) };
}

const BIN = join(process.cwd(), 'bin', 'keysmith.js');

/** Starts `count` TLS servers in a child process (this one blocks while it measures); resolves their ports. */
export async function startServers(count: number, cert: string, key: string): Promise<{ ports: number[]; stop: () => void }> {
  const script = `
    const tls = require('node:tls'); const fs = require('node:fs');
    const opts = { cert: fs.readFileSync(${JSON.stringify(cert)}), key: fs.readFileSync(${JSON.stringify(key)}) };
    const ports = []; let n = 0;
    for (let i = 0; i < ${count}; i++) {
      const s = tls.createServer(opts, (c) => c.end()); s.on('tlsClientError', () => {});
      s.listen(0, '127.0.0.1', () => { ports.push(s.address().port); if (++n === ${count}) console.log(JSON.stringify(ports)); });
    }`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ports = await new Promise<number[]>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))));
  return { ports, stop: () => child.kill() };
}

export async function tlsBenchmarks(): Promise<{ rows: Comparison[]; notes: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  try {
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const env = { ...process.env, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity, CAROOT: join(home, 'caroot') };
    execFileSync(process.execPath, [BIN, '-q', 'tls', 'ca', 'create'], { env });
    execFileSync('mkcert', ['-cert-file', join(home, 'warm.pem'), '-key-file', join(home, 'warm-key.pem'), 'warm.test'], { env, stdio: 'ignore' });
    const out = join(home, 'out');
    mkdirSync(out);
    const oca = join(home, 'oca');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${oca}-key.pem`, '-out', `${oca}.pem`, '-subj', '/CN=bench CA', '-days', '30'], { stdio: 'ignore' });
    const opensslPair = `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${out}/o-key.pem -subj /CN=host.test -out ${out}/o.csr 2>/dev/null && openssl x509 -req -in ${out}/o.csr -CA ${oca}.pem -CAkey ${oca}-key.pem -CAcreateserial -days 397 -out ${out}/o.pem 2>/dev/null`;
    const cmds: Cmd[] = [
      { label: 'keysmith tls issue (ECDSA P-256)', argv: [process.execPath, BIN, '-q', 'tls', 'issue', 'host.test', '--out-dir', out, '--force'], env },
      { label: 'mkcert -ecdsa', argv: ['mkcert', '-ecdsa', '-cert-file', join(out, 'm.pem'), '-key-file', join(out, 'm-key.pem'), 'host.test'], env },
      { label: 'mkcert (RSA 2048)', argv: ['mkcert', '-cert-file', join(out, 'r.pem'), '-key-file', join(out, 'r-key.pem'), 'host.test'], env },
      { label: 'openssl req + openssl x509 -req', argv: ['sh', '-c', opensslPair] },
      { label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    ];
    const [ks, mkEc, mkRsa, ossl, node] = measureTogether(cmds, { runs: 15 });
    const rows: Comparison[] = [
      { name: 'tls issue', subject: ks!, against: mkEc!, target: 3 },
      { name: 'tls issue', subject: ks!, against: mkRsa! },
      { name: 'tls issue', subject: ks!, against: ossl! },
      { name: 'tls issue', subject: ks!, against: node! },
    ];

    // 500 endpoints.
    execFileSync(process.execPath, [BIN, '-q', 'tls', 'issue', 'svc.test', '--out-dir', home, '--force'], { env });
    const ca = join(home, 'ca.pem');
    execFileSync(process.execPath, [BIN, 'tls', 'ca', 'export', '--out', ca, '--force'], { env });
    const servers = await startServers(500, join(home, 'svc.test.pem'), join(home, 'svc.test-key.pem'));
    try {
      const targets = join(home, 'targets.txt');
      writeFileSync(targets, servers.ports.map((p) => `127.0.0.1:${p}`).join('\n'));
      const sample = servers.ports.slice(0, 40);
      const serial = `for p in ${sample.join(' ')}; do echo | openssl s_client -connect 127.0.0.1:$p -servername svc.test 2>/dev/null | openssl x509 -noout -checkend 2592000 >/dev/null; done`;
      const [check, loop] = measureTogether([
        { label: 'tls check (500 endpoints)', argv: [process.execPath, BIN, 'tls', 'check', '--targets-file', targets, '--servername', 'svc.test', '--ca-file', ca, '--json'], env },
        { label: 'serial openssl loop (40 endpoints)', argv: ['sh', '-c', serial] },
      ], { runs: 5, warmup: 1 });
      const perEndpoint = loop!.medianMs / sample.length;
      const serial500 = { label: 'serial openssl loop, 500 (extrapolated)', medianMs: perEndpoint * 500 };
      rows.push({ name: 'tls check, 500 local endpoints', subject: check!, against: serial500 });

      // 5,000 certificate files, each a distinct leaf (no cache helps) under one CA, fully validated.
      const files = join(home, 'files');
      mkdirSync(files);
      const pki = await createCa(memoryVault(), 'bench', { now: new Date() });
      writeFileSync(join(home, 'bench-ca.pem'), pki.certificatePem);
      for (let i = 0; i < 5000; i++) writeFileSync(join(files, `c${i}.pem`), (await issueCertificate(pki, [`host${i}.test`], { now: new Date() })).certificatePem);
      const names = Array.from({ length: 5000 }, (_, i) => join(files, `c${i}.pem`));
      const [fileCheck, verifyAll] = measureTogether([
        { label: 'tls check (5,000 files)', argv: [process.execPath, BIN, 'tls', 'check', `${files}/*.pem`, '--ca-file', join(home, 'bench-ca.pem'), '--json'], env },
        { label: 'openssl verify, 5,000 files in one process', argv: ['openssl', 'verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', join(home, 'bench-ca.pem'), ...names] },
      ], { runs: 5, warmup: 1 });
      rows.push({ name: 'tls check, 5,000 files', subject: fileCheck!, against: verifyAll! });
      const notes = [
        `tls check over 5,000 files: ${fileCheck!.medianMs.toFixed(0)} ms (target < 3000 ms); openssl verify on the same files in one process: ${verifyAll!.medianMs.toFixed(0)} ms`,
        `tls check over 500 endpoints: ${check!.medianMs.toFixed(0)} ms (target < 3000 ms); serial openssl s_client | x509 -checkend: ${perEndpoint.toFixed(1)} ms per endpoint, ${(serial500.medianMs / 1000).toFixed(1)} s for 500; speed-up ${(serial500.medianMs / check!.medianMs).toFixed(1)}× (target ≥ 20×)`,
      ];
      return { rows, notes };
    } finally {
      servers.stop();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
