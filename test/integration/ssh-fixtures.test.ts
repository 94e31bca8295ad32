import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fingerprintKeyFiles, renderFingerprint } from '../../src/ssh/fingerprint.js';
import { baseEnv, runMain, tempHome } from '../helpers/cli.js';
import { prng } from '../helpers/random.js';
import { describeWith } from '../helpers/system.js';

const DIR = fileURLToPath(new URL('../../fixtures/ssh/', import.meta.url));
// ssh-keygen printed paths relative to the repository (pair-nocomment.key names its .pub): run from there too.
const REL = relative(process.cwd(), DIR) || '.';
const REF = '.ssh-keygen.txt';
const fixtures = readdirSync(DIR).filter((f) => !f.endsWith(REF) && f !== 'README.md').sort();

/** What ssh-keygen -l -f printed for a fixture (recorded by scripts/make-ssh-fixtures.sh). */
function reference(name: string): { ok: boolean; stdout: string } {
  const [first, ...rest] = readFileSync(join(DIR, name + REF), 'utf8').split('\n');
  return { ok: first === 'exit 0', stdout: rest.join('\n') };
}

/**
 * Where keysmith deliberately reads more than OpenSSH 9.2 does. Each entry says why; nothing else
 * may differ. (OpenSSH 9.6 reads Ed25519 PKCS#8 as well.)
 */
const DEVIATIONS: Record<string, string> = {
  'ed25519-openssl-pkcs8.key': '256 SHA256:', // OpenSSH 9.2 cannot read Ed25519 keys in PKCS#8 (openssl genpkey's format)
};

describe('every fixture through `ssh fingerprint`, against what ssh-keygen -l printed', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks') });

  it('has a corpus with a reference beside every fixture', () => {
    expect(fixtures.length).toBeGreaterThan(100);
    for (const f of fixtures) expect(() => reference(f), f).not.toThrow();
  });

  it.each(fixtures)('%s', async (name) => {
    const ref = reference(name);
    const got = await runMain(['ssh', 'fingerprint', join(REL, name)], env);
    if (DEVIATIONS[name]) {
      expect(ref.ok).toBe(false);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toContain(DEVIATIONS[name]);
      return;
    }
    if (ref.ok) {
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(ref.stdout);
    } else {
      expect(got.code, got.stdout).toBe(2);
      expect(got.stdout).toBe('');
      expect(got.stderr).not.toMatch(/\n\s+at |TypeError|RangeError|interrupted or cancelled/);
    }
  });

  it('many files in one call: each key once, in order; a bad file is named on stderr and makes exit 2', async () => {
    const good = ['ed25519.pub', 'rsa3072-cert.pub', 'sk-ecdsa.pub', 'ecdsa384.key'];
    const got = await runMain(['ssh', 'fingerprint', ...good.map((f) => join(REL, f))], env);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe(good.map((f) => reference(f).stdout).join(''));
    const mixed = await runMain(['ssh', 'fingerprint', join(REL, 'ed25519.pub'), join(REL, 'garbage.pub'), join(REL, 'dsa.pub')], env);
    expect(mixed.code).toBe(2);
    expect(mixed.stdout).toBe(reference('ed25519.pub').stdout + reference('dsa.pub').stdout);
    expect(mixed.stderr).toContain('garbage.pub');
    const json = JSON.parse((await runMain(['ssh', 'fingerprint', join(REL, 'ed25519-cert.pub'), '--json'], env)).stdout);
    expect(json).toMatchObject({ bits: 256, type: 'ED25519-CERT', comment: 'ed25519@fixtures', fingerprint: reference('ed25519.pub').stdout.split(' ')[1] });
  });
});


const SEEDS = fixtures.filter((f) => /^(ed25519|ed25519-nocomment|ecdsa(256|384|521)|rsa(1024|3072)|dsa|sk-ecdsa|sk-ed25519)(-cert)?\.pub$|^(host-ed25519|options-ecdsa256)-cert\.pub$/.test(f));
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SPECIAL = '=-_ \t\r\v\n!.\0';

/** One-byte mutants: half of the base64 text, half of the decoded blob (re-encoded). */
function mutants(count: number, seed: number): Array<{ from: string; how: string; bytes: Buffer }> {
  const rand = prng(seed);
  const pick = (n: number) => Math.floor(rand() * n);
  const out = [];
  for (let i = 0; i < count; i++) {
    const from = SEEDS[i % SEEDS.length]!;
    const [kind, b64, ...comment] = readFileSync(join(DIR, from), 'latin1').replace(/\n$/, '').split(' ');
    const rest = comment.length ? ` ${comment.join(' ')}` : '';
    if (i % 2 === 0) {
      const at = pick(b64!.length);
      const r = rand();
      const ch = r < 0.6 ? ALPHABET[pick(64)]! : r < 0.85 ? SPECIAL[pick(SPECIAL.length)]! : String.fromCharCode(pick(256));
      out.push({ from, how: `base64[${at}]=${JSON.stringify(ch)}`, bytes: Buffer.from(`${kind} ${b64!.slice(0, at)}${ch}${b64!.slice(at + 1)}${rest}\n`, 'latin1') });
    } else {
      const blob = Buffer.from(b64!, 'base64');
      const at = pick(blob.length);
      const r = rand();
      const value = r < 0.5 ? blob[at]! ^ (1 << pick(8)) : r < 0.7 ? [0, 0xff, 0x80, 0x7f, 1][pick(5)]! : pick(256);
      blob[at] = value;
      out.push({ from, how: `blob[${at}]=0x${value.toString(16)}`, bytes: Buffer.from(`${kind} ${blob.toString('base64')}${rest}\n`, 'latin1') });
    }
  }
  return out;
}

/** ssh-keygen -l -f on every file, PARALLEL at a time: its stdout, or null when it refuses. */
async function sshKeygenAll(files: string[], parallel = 16): Promise<Array<string | null>> {
  const results: Array<string | null> = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      results[i] = await new Promise<string | null>((resolve) =>
        execFile('ssh-keygen', ['-l', '-f', files[i]!], { env: { ...process.env, LC_ALL: 'C' }, encoding: 'latin1' }, (err, stdout) => resolve(err ? null : stdout)),
      );
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

describeWith(['ssh-keygen'], 'differential: 1,000 seeded one-byte mutants of valid public keys, keysmith vs ssh-keygen -l', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keysmith-mutants-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('agree on every accept/refuse, and on the fingerprint line where both accept', async () => {
    expect(SEEDS.length).toBeGreaterThanOrEqual(20);
    // A longer run: KEYSMITH_MUTANTS=20000 KEYSMITH_MUTANT_SEED=7 npx vitest run test/integration/ssh-fixtures.test.ts
    const cases = mutants(Number(process.env.KEYSMITH_MUTANTS ?? 1000), Number(process.env.KEYSMITH_MUTANT_SEED ?? 20240611));
    const files = cases.map((c, i) => {
      const file = join(dir, `m${String(i).padStart(4, '0')}.pub`);
      writeFileSync(file, c.bytes);
      return file;
    });
    const [theirs, ours] = await Promise.all([
      sshKeygenAll(files),
      fingerprintKeyFiles(files).then((all) => all.map((r) => ('error' in r ? null : r.keys.map((k) => `${renderFingerprint(k)}\n`).join('')))),
    ]);
    const disagreements = cases.flatMap((c, i) => (theirs[i] === ours[i] ? [] : [`${c.from} ${c.how}: ssh-keygen ${JSON.stringify(theirs[i])}, keysmith ${JSON.stringify(ours[i])}`]));
    const accepted = theirs.filter((t) => t !== null).length;
    console.log(`mutants: ${cases.length}, ssh-keygen accepted ${accepted}, disagreements ${disagreements.length}`);
    expect(disagreements).toEqual([]);
    expect(accepted / cases.length).toBeGreaterThan(0.05); // the corpus exercises both verdicts
    expect(accepted / cases.length).toBeLessThan(0.95);
  }, Number(process.env.KEYSMITH_MUTANTS ?? 1000) * 60);
});
