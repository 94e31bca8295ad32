// Expiry radar and ACME (issue 16): keysmith expiry over 1,000 vault items and 100 live watched
// endpoints (target < 2 s); ACME issuance against pebble (http-01) against lego, the same run.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPebble } from '../test/helpers/pebble.js';
import { ageEncrypt, recipientOf } from '../src/vault/age.js';
import { measureTogether, type Comparison } from './lib.js';
import { startServers } from './tls.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');
const ITEMS = 1_000;
const ENDPOINTS = 100;

export async function expiryBenchmarks(): Promise<{ rows: Comparison[]; notes: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-expiry-'));
  const stops: Array<() => void> = [];
  try {
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const ks = join(home, 'ks');
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity };
    // A file vault of 1,000 secrets with end dates, written as keysmith writes it.
    const now = Date.now();
    const doc = { format: 'keysmith-vault', version: 1, records: {} as Record<string, unknown> };
    for (let i = 0; i < ITEMS; i++) {
      const at = new Date(now).toISOString();
      doc.records[`app/key-${i}`] = { kind: 'secret', value: `v${i}`, fields: {}, created: at, updated: at, meta: { expires: new Date(now + (i + 1) * 3_600_000).toISOString() } };
    }
    mkdirSync(ks, { recursive: true, mode: 0o700 });
    writeFileSync(join(ks, 'vault.age'), await ageEncrypt(Buffer.from(JSON.stringify(doc)), { recipients: [await recipientOf(identity)] }), { mode: 0o600 });
    // 100 live TLS endpoints with keysmith's certificate, watched.
    const certs = join(home, 'certs');
    mkdirSync(certs);
    execFileSync(process.execPath, [BIN, '-q', 'tls', 'issue', '127.0.0.1', '--out-dir', certs], { env });
    const servers = await startServers(ENDPOINTS, join(certs, '127.0.0.1.pem'), join(certs, '127.0.0.1-key.pem'));
    stops.push(servers.stop);
    writeFileSync(join(ks, 'config.json'), JSON.stringify({ vault: 'file', watch: servers.ports.map((p) => `127.0.0.1:${p}`) }));
    const [radar, check] = measureTogether([
      { label: `keysmith expiry (${ITEMS} items, ${ENDPOINTS} endpoints)`, argv: [process.execPath, BIN, 'expiry', '--json'], env, status: 2 },
      { label: `keysmith tls check of the ${ENDPOINTS} endpoints alone`, argv: [process.execPath, BIN, 'tls', 'check', ...servers.ports.map((p) => `127.0.0.1:${p}`), '--json'], env, status: 2 },
    ], { runs: 7, warmup: 1 });
    const rows: Comparison[] = [{ name: `expiry: ${ITEMS} vault items + ${ENDPOINTS} live endpoints`, subject: radar!, against: check!, limitMs: 2000 }];

    // ACME issuance, http-01 from a one-shot listener, against lego doing the same with pebble.
    const pebbleDir = join(home, 'pebble');
    mkdirSync(pebbleDir);
    const pebble = await startPebble(pebbleDir);
    stops.push(pebble.close);
    const acmeEnv = { ...env, NODE_EXTRA_CA_CERTS: pebble.caFile, KEYSMITH_ACME_DIRECTORY: pebble.directory };
    execFileSync(process.execPath, [BIN, '-q', 'tls', 'acme', 'register', '--agree-tos'], { env: acmeEnv });
    const out = join(home, 'acme');
    mkdirSync(out);
    const legoArgs = ['--server', pebble.directory, '--accept-tos', '--email', 'bench@example.test', '--domains', 'lego.example.test', '--http', '--http.port', `127.0.0.1:${pebble.httpPort}`, '--path', join(home, 'lego')];
    const legoEnv = { ...process.env, LEGO_CA_CERTIFICATES: pebble.caFile };
    execFileSync('lego', [...legoArgs, 'run'], { env: legoEnv, stdio: 'ignore' }); // registers lego's account once
    const [acme, lego, node] = measureTogether([
      { label: 'keysmith tls issue --acme --http-01', argv: [process.execPath, BIN, '-q', 'tls', 'issue', 'ks.example.test', '--acme', '--http-01', '--listen', `127.0.0.1:${pebble.httpPort}`, '--out-dir', out, '--force'], env: acmeEnv },
      { label: 'lego run --http', argv: ['lego', ...legoArgs, 'run'], env: legoEnv },
      { label: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    ], { runs: 7, warmup: 1 });
    rows.push({ name: 'ACME issue against pebble, http-01', subject: acme!, against: lego!, target: 1.5 }, { name: 'ACME issue against pebble, http-01', subject: acme!, against: node! });
    return { rows, notes: [`- expiry, acme: node ${process.version}, NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'} (keysmith's ACME runs are given pebble's CA in it, as lego is in LEGO_CA_CERTIFICATES); ${readdirSync(out).length} files written`] };
  } finally {
    for (const stop of stops) stop();
    rmSync(home, { recursive: true, force: true });
  }
}
