// Vault benchmarks (foundation issue): start-up, secret get/set on each backend, against node -e 0 and secret-tool.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKeyring } from '../test/helpers/keyring.js';
import { compare, type Cmd, type Comparison } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');
const ks = (label: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Cmd => ({ label, argv: [process.execPath, BIN, ...args], env, input });

/** A file vault of `records` records, written by the age tool in our documented format. */
function fileVault(records: number, base: NodeJS.ProcessEnv, homes: string[]): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  homes.push(home);
  const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
  const recipient = execFileSync('age-keygen', ['-y'], { input: identity, encoding: 'utf8' }).trim();
  const now = new Date().toISOString();
  const doc = { format: 'keysmith-vault', version: 1, records: {} as Record<string, unknown> };
  for (let i = 0; i < records; i++) {
    doc.records[`app${i % 100}/secret-${i}`] = { kind: 'password', value: `value-${i}-${'x'.repeat(40)}`, fields: { user: `u${i}` }, created: now, updated: now };
  }
  doc.records['bench/target'] = { kind: 'password', value: 'hunter2', fields: {}, created: now, updated: now };
  execFileSync('age', ['-r', recipient, '-o', join(home, 'vault.age')], { input: JSON.stringify(doc) });
  return { ...base, KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity };
}

export function vaultBenchmarks(): Comparison[] {
  const base = { ...process.env };
  for (const k of Object.keys(base)) if (k.startsWith('KEYSMITH_')) delete base[k];
  const node: Cmd = { label: 'node -e 0', argv: [process.execPath, '-e', '0'] };
  const rows: Comparison[] = [compare('keysmith --version', ks('--version', ['--version'], base), node, 1.5)];

  const homes: string[] = [];
  const keyring = startKeyring();
  try {
    const kHome = mkdtempSync(join(tmpdir(), 'ks-bench-'));
    homes.push(kHome);
    const kEnv = { ...base, ...keyring.env, KEYSMITH_HOME: kHome, KEYSMITH_VAULT: 'keychain', KEYSMITH_KEYCHAIN_SERVICE: 'keysmith-bench' };
    execFileSync(process.execPath, [BIN, 'secret', 'set', 'bench/target', '-'], { env: kEnv, input: 'hunter2' });
    const kGet = ks('secret get', ['secret', 'get', 'bench/target'], kEnv);
    rows.push(compare('secret get, keychain (gnome-keyring)', kGet, node, 3));
    rows.push(compare('secret get, keychain (gnome-keyring)', kGet,
      { label: 'secret-tool lookup', argv: ['secret-tool', 'lookup', 'service', 'keysmith-bench', 'username', 'bench/target'], env: kEnv }));

    for (const n of [10, 10_000]) {
      const env = fileVault(n, base, homes);
      rows.push(compare(`secret get, file vault, ${n} records`, ks('secret get', ['secret', 'get', 'bench/target'], env), node, 3));
      if (n === 10_000) {
        rows.push(compare(`secret set, file vault, ${n} records`, ks('secret set', ['secret', 'set', 'bench/written', '-'], env, 'value'), node, 5, { runs: 11 }));
      }
    }

    // A passphrase vault: scrypt on every call, or once with vault unlock and KEYSMITH_SESSION.
    const pHome = mkdtempSync(join(tmpdir(), 'ks-bench-'));
    homes.push(pHome);
    const pEnv = { ...base, KEYSMITH_HOME: pHome, KEYSMITH_VAULT: 'file', KEYSMITH_PASSPHRASE: 'bench passphrase' };
    execFileSync(process.execPath, [BIN, 'secret', 'set', 'bench/target', '-'], { env: pEnv, input: 'hunter2', stdio: ['pipe', 'ignore', 'ignore'] });
    const session = execFileSync(process.execPath, [BIN, 'vault', 'unlock'], { env: pEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const sEnv = { ...base, KEYSMITH_HOME: pHome, KEYSMITH_VAULT: 'file', KEYSMITH_SESSION: session };
    rows.push(compare('secret get, passphrase vault, KEYSMITH_SESSION', ks('get, session', ['secret', 'get', 'bench/target'], sEnv),
      ks('get, passphrase', ['secret', 'get', 'bench/target'], pEnv), undefined, { runs: 5, warmup: 1 }));
  } finally {
    keyring.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }
  return rows;
}
