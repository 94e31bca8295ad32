// OAuth benchmarks: a cached token against `secret get` on the same vault; the refresh path against a bare fetch of the token endpoint.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actAsUser } from '../test/helpers/oidc.js';
import { measureTogether, type Comparison } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');

export async function oauthBenchmarks(): Promise<{ rows: Comparison[]; notes: string[] }> {
  const home = mkdtempSync(join(tmpdir(), 'ks-bench-'));
  const server = spawn(process.execPath, [join(process.cwd(), '.bench', 'oidc-server.mjs')], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const { issuer, caFile } = await new Promise<{ issuer: string; caFile: string }>((resolve) => server.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))));
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-'))!;
    const env = { ...process.env, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity, NODE_EXTRA_CA_CERTS: caFile };
    execFileSync(process.execPath, [BIN, '-q', 'oauth', 'add', 'corp', '--issuer', issuer, '--client-id', 'cli'], { env });
    const ca = execFileSync('cat', [caFile], { encoding: 'utf8' });
    // Log in once: the login prints its URL; a scripted user answers.
    const login = spawn(process.execPath, [BIN, 'oauth', 'login', 'corp', '--no-browser'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    await new Promise<void>((resolve, reject) => login.stderr.on('data', (d: Buffer) => {
      text += d.toString();
      const m = /https:\/\/\S+/.exec(text);
      if (m && !(login as { acting?: boolean }).acting) {
        (login as { acting?: boolean }).acting = true;
        actAsUser(m[0], ca).then(() => resolve(), reject);
      }
    }));
    await new Promise((r) => login.on('close', r));
    execFileSync(process.execPath, [BIN, '-q', 'secret', 'set', 'bench/plain', '--from-env', 'HOME'], { env });
    const ks = (label: string, args: string[]) => ({ label, argv: [process.execPath, BIN, ...args], env });
    const [token, get] = measureTogether([ks('oauth token (cached)', ['oauth', 'token', 'corp']), ks('secret get', ['secret', 'get', 'bench/plain'])]);
    const tokenEndpoint = `${issuer}/token`;
    const bare = `fetch(${JSON.stringify(tokenEndpoint)}, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=x&client_id=cli' }).then((r) => r.text())`;
    const [refresh, fetchOnly] = measureTogether([
      ks('oauth token (refresh)', ['oauth', 'token', 'corp', '--min-valid', '2h']),
      { label: 'node: bare fetch of the token endpoint', argv: [process.execPath, '-e', bare], env },
    ], { runs: 11 });
    return {
      rows: [
        { name: 'oauth token, cached token', subject: token!, against: get!, target: 1.2 },
        { name: 'oauth token, refresh (one token-endpoint round trip)', subject: refresh!, against: fetchOnly! },
      ],
      notes: [],
    };
  } finally {
    server.kill();
    rmSync(home, { recursive: true, force: true });
  }
}
