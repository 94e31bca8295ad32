/**
 * Every case of the fixtures corpus for the non-SSH formats (fixtures/csr, p12, x509, vault, env,
 * templates; made by scripts/make-fixtures.sh, described in fixtures/README.md) through the keysmith
 * command that reads it, compared with the verdict stored beside it in CASE.expected.json.
 *
 * The recorded reference verdicts (openssl, age, bash, Node's util.parseEnv) are first re-checked
 * against the real tools, so the corpus cannot drift from them. Where keysmith and the reference tool
 * disagree on accept/refuse, the case must carry a note naming the rule (RFC, spec or README line).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromPkcs12 } from '../../src/tls/p12.js';
import { baseEnv, runBin, tempHome, type Run } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;

interface Reference {
  command: string[];
  exit: number;
  output: string[];
}
interface Case<K = Record<string, unknown>> {
  name: string;
  file: string;
  about: string;
  reference: Record<string, Reference> & { facts?: Record<string, unknown> };
  keysmith: K;
  note: string | null;
  dir: string;
}

function cases<K>(folder: string): Array<Case<K>> {
  const dir = join(FIXTURES, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.expected.json'))
    .sort()
    .map((f) => ({ ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<Case<K>, 'dir'>), dir }));
}

const path = (c: Case<unknown>) => join(c.dir, c.file);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/** The ERR_… code `--debug` prints on its own line after the message and hint. */
const errorCode = (r: Run) => /^(ERR_[A-Z0-9_]+)$/m.exec(r.stderr)?.[1] ?? null;
/**
 * A crash: an error keysmith did not type (TypeError, RangeError …) reaches the user as "unexpected
 * error" (with --debug a typed error also prints its cause's stack, which may name a TypeError).
 */
const assertNoCrash = (r: Run) => {
  expect(r.stderr).not.toMatch(/unexpected error/);
  expect(r.signal).toBeNull();
};
/** Exit code and ERR_ code against the expectation (a code is checked when one is expected; success has none). */
const verdict = (r: Run, expected: { exit: number; code?: string }) =>
  expect({ exit: r.code, ...(expected.code !== undefined || r.code === 0 ? { code: r.code === 0 ? null : errorCode(r) } : {}) }).toEqual({
    exit: expected.exit,
    ...(expected.code !== undefined || r.code === 0 ? { code: expected.code ?? null } : {}),
  });
/** JSON text with its object keys sorted, to compare values whatever the order a tool printed them in. */
const canon = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

/**
 * One test per case. A case whose expectation carries `knownBug` is a bug found and not fixed yet:
 * its test states the right behaviour and is expected to fail (it.fails) — when the bug is fixed
 * the test fails until `knownBug` is removed from the case.
 */
function eachCase<K extends { knownBug?: string }>(all: Array<Case<K>>, run: (c: Case<K>) => Promise<void>) {
  it('has cases', () => expect(all.length).toBeGreaterThan(10));
  for (const c of all) (c.keysmith.knownBug ? it.fails : it)(c.keysmith.knownBug ? `${c.name} (known bug)` : c.name, () => run(c));
}

/** Re-runs every recorded reference command: exit code and output (less OpenSSL's error-stack lines) must match. */
function checkReferences(c: Case<unknown>) {
  for (const [label, ref] of Object.entries(c.reference)) {
    // Node's util.parseEnv is recorded beside env files for comparison only: it changed between
    // Node 22 and 24 (the spaces after `export`), so it is not re-run on whatever Node runs the tests.
    if (label === 'facts' || label.startsWith('node-')) continue;
    const { command, exit, output } = ref as Reference;
    const r = spawnSync(command[0]!, command.slice(1), { cwd: c.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = [
      ...new Set(
        `${r.stdout}\n${r.stderr}`
          .split('\n')
          .map((l) => l.replace(/^[0-9A-F]{8,}:error:/, 'error:').trimEnd())
          .filter((l) => l && !/^[A-Za-z0-9+/=]{40,}$/.test(l) && !/^-----(BEGIN|END) /.test(l)),
      ),
    ].slice(0, 40);
    expect({ label, exit: r.status }).toEqual({ label, exit });
    // Recorded with stderr and stdout interleaved: compare as sets, less OpenSSL's error stack (source lines vary).
    const stable = (ls: string[]) => ls.filter((l) => !l.startsWith('error:')).sort();
    expect(stable(lines)).toEqual(stable(output));
  }
}

/** Where keysmith and the reference tool disagree on accept/refuse, the case must say why. */
function disagreementNoted(c: Case<unknown>, reference: boolean, keysmith: boolean) {
  if (reference !== keysmith) expect(c.note, `${c.name}: ${reference ? 'the reference accepts, keysmith refuses' : 'keysmith accepts what the reference refuses'} — the case needs a note naming the rule`).toBeTruthy();
}

const ENV = baseEnv({ NODE_EXTRA_CA_CERTS: undefined });

// ---------------------------------------------------------------------------------------------

interface CsrExpect {
  knownBug?: string;
  args: string[];
  exit: number;
  code?: string;
  signatureValid?: boolean;
  sign: { exit: number; code?: string };
}

/** OpenSSL's SAN text (`DNS:a`, `IP Address:…`, `email:…`, `URI:…`) as keysmith's { type, value }. */
function opensslSan(text: string): { type: string; value: string } {
  const [kind, ...rest] = text.split(':');
  const value = rest.join(':');
  const type = ({ DNS: 'dns', 'IP Address': 'ip', email: 'email', URI: 'url' } as Record<string, string>)[kind!] ?? kind!;
  return { type, value: type === 'ip' ? canonicalIp(value) : value };
}
function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

describeWith(['openssl', 'age', 'age-keygen', 'bash'], 'fixtures corpus: every case through keysmith, against the reference tools', () => {
  describe('csr: tls inspect and tls sign, against openssl req -verify', () => {
    const all = cases<CsrExpect>('csr');
    let ca: { home: string; cleanup: () => void; env: NodeJS.ProcessEnv };

    beforeAll(async () => {
      // A file vault with a CA in it, for tls sign.
      const t = tempHome();
      const identity = join(t.home, 'identity.txt');
      spawnSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
      chmodSync(identity, 0o600);
      const vaultHome = join(t.home, 'ks');
      mkdirSync(vaultHome, { mode: 0o700 });
      const env = baseEnv({ KEYSMITH_HOME: vaultHome, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity, NODE_EXTRA_CA_CERTS: undefined });
      const r = await runBin(['tls', 'ca', 'create', 'fx'], { env });
      expect(r.code, r.stderr).toBe(0);
      ca = { ...t, env };
    });
    afterAll(() => ca?.cleanup());

    eachCase(all, async (c) => {
      checkReferences(c);
      const refVerifies = c.reference.verify!.output.some((l) => /verify OK/.test(l));
      const refLoads = !c.reference.verify!.output.some((l) => /Unable to load/.test(l));

      const r = await runBin(['--debug', ...c.keysmith.args.map((a) => (a === 'FILE' ? path(c) : a))], { env: ENV });
      assertNoCrash(r);
      verdict(r, c.keysmith);
      if (c.keysmith.exit === 0) {
        const info = JSON.parse(r.stdout) as { type: string; subject: string; sans: Array<{ type: string; value: string }>; signatureValid: boolean };
        expect(info.type).toBe('csr');
        expect(info.signatureValid).toBe(c.keysmith.signatureValid);
        // The facts OpenSSL shows: subject and SANs, in order.
        const facts = c.reference.facts as { subject: string; sans: string[] };
        expect(info.subject).toBe(facts.subject);
        expect(info.sans.map((s) => ({ type: s.type, value: s.type === 'ip' ? canonicalIp(s.value) : s.value }))).toEqual(facts.sans.map(opensslSan));
        // keysmith's signature verdict is OpenSSL's.
        expect(info.signatureValid).toBe(refVerifies);
      }
      disagreementNoted(c, refLoads, c.keysmith.exit === 0);

      // tls sign is the command whose verdict matters: it signs only what openssl req -verify accepts.
      const out = join(ca.home, `${c.name}.pem`);
      const s = await runBin(['--debug', 'tls', 'sign', path(c), '--ca', 'fx', '--days', '30', '--out', out], { env: ca.env });
      assertNoCrash(s);
      verdict(s, c.keysmith.sign);
      expect(existsSync(out)).toBe(s.code === 0);
      disagreementNoted(c, refVerifies, s.code === 0);
    });
  });

  // -------------------------------------------------------------------------------------------

  interface P12Expect {
  knownBug?: string;
    args: string[];
    stdin: string;
    exit: number;
    code?: string;
    key?: boolean;
  }

  describe('p12: tls inspect, against openssl pkcs12 -info', () => {
    const all = cases<P12Expect>('p12');
    eachCase(all, async (c) => {
      checkReferences(c);
      const refAccepts = c.reference.openssl!.exit === 0 || c.reference['openssl-legacy']?.exit === 0;
      const r = await runBin(['--debug', ...c.keysmith.args.map((a) => (a === 'FILE' ? path(c) : a))], { env: ENV, input: c.keysmith.stdin });
      assertNoCrash(r);
      verdict(r, c.keysmith);
      const facts = c.reference.facts as { subjects?: string[]; key?: boolean } | undefined;
      if (r.code === 0) {
        // The same certificates as OpenSSL, in the same order.
        const shown = JSON.parse(r.stdout) as Array<{ subject: string }>;
        expect(shown.map((s) => s.subject)).toEqual(facts!.subjects);
        // And the key, where OpenSSL finds one (the library call tls inspect makes).
        const { key } = await fromPkcs12(readFileSync(path(c)), c.keysmith.stdin.replace(/\n$/, ''), c.file);
        expect(key !== undefined).toBe(c.keysmith.key);
        expect(key !== undefined).toBe(facts!.key);
      }
      // A file OpenSSL reads but that holds no certificate is a refusal of tls inspect, not a disagreement.
      disagreementNoted(c, refAccepts && (facts?.subjects?.length ?? 0) > 0, r.code === 0);
    });
  });

  // -------------------------------------------------------------------------------------------

  interface X509Expect {
  knownBug?: string;
    args: string[];
    exit: number;
    code?: string;
    count?: number;
    first?: Record<string, unknown>;
  }

  describe('x509: tls inspect --chain, against openssl x509 and openssl storeutl', () => {
    const all = cases<X509Expect>('x509');
    eachCase(all, async (c) => {
      checkReferences(c);
      const x509 = c.reference.x509!;
      const count = Number(/Total found: (\d+)/.exec(c.reference.storeutl!.output.join('\n'))?.[1] ?? 0);
      const r = await runBin(['--debug', ...c.keysmith.args.map((a) => (a === 'FILE' ? path(c) : a))], { env: ENV });
      assertNoCrash(r);
      verdict(r, c.keysmith);
      if (r.code === 0) {
        const shown = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
        expect(shown.length).toBe(c.keysmith.count);
        expect(shown[0]!.subject).toBe(x509.output.find((l) => l.startsWith('subject='))!.slice('subject='.length));
        if (c.keysmith.first) expect(shown[0]).toMatchObject(c.keysmith.first);
        // As many certificates as OpenSSL's store loader finds, or a note.
        if (shown.length !== count) expect(c.note).toBeTruthy();
      }
      disagreementNoted(c, x509.exit === 0, r.code === 0);
    });
  });

  // -------------------------------------------------------------------------------------------

  interface VaultExpect {
  knownBug?: string;
    list: { exit: number; code?: string; names?: string[] };
    set: { exit: number; code?: string };
    unchanged?: boolean;
  }

  describe('vault: secret list / secret set on the file vault, against age -d', () => {
    const all = cases<VaultExpect>('vault');
    eachCase(all, async (c) => {
      checkReferences(c);
      const { home, cleanup } = tempHome();
      try {
        // KEYSMITH_HOME/vault.age is the vault (src/paths.ts, src/vault/open.ts); private, as keysmith requires.
        const vaultHome = join(home, 'ks');
        mkdirSync(vaultHome, { mode: 0o700 });
        const vault = join(vaultHome, 'vault.age');
        copyFileSync(path(c), vault);
        chmodSync(vault, 0o600);
        const identity = join(home, 'identity.txt');
        copyFileSync(join(c.dir, 'identity.txt'), identity);
        chmodSync(identity, 0o600);
        const before = sha256(vault);
        const env = baseEnv({ KEYSMITH_HOME: vaultHome, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity, NODE_EXTRA_CA_CERTS: undefined });

        const list = await runBin(['--debug', '--json', 'secret', 'list'], { env });
        assertNoCrash(list);
        verdict(list, c.keysmith.list);
        if (list.code === 0) expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((s) => s.name)).toEqual(c.keysmith.list.names);
        // age refuses → keysmith refuses (it may refuse more: a document that is not a keysmith vault).
        if (c.reference.age!.exit !== 0) expect(list.code).not.toBe(0);

        const set = await runBin(['--debug', 'secret', 'set', 'fx/new', '-'], { env, input: 'fixture-new-value' });
        assertNoCrash(set);
        verdict(set, c.keysmith.set);
        if (c.keysmith.unchanged) {
          // A refused vault file is never rewritten: the same bytes after a read and a write.
          expect(sha256(vault)).toBe(before);
        } else if (set.code === 0) {
          // What keysmith wrote, the age tool reads with the same identity, and nothing was lost.
          const dec = spawnSync('age', ['-d', '-i', identity, vault], { encoding: 'utf8' });
          expect(dec.status, dec.stderr).toBe(0);
          const doc = JSON.parse(dec.stdout) as { format: string; version: number; records: Record<string, unknown> };
          expect(doc.format).toBe('keysmith-vault');
          expect(Object.keys(doc.records).sort()).toEqual([...(c.keysmith.list.names ?? Object.keys(doc.records).filter((n) => n !== 'fx/new')), 'fx/new'].sort());
        }
      } finally {
        cleanup();
      }
    });
  });

  // -------------------------------------------------------------------------------------------

  interface EnvExpect {
  knownBug?: string;
    exit: number;
    code?: string;
    message?: string;
    vars?: Record<string, string>;
  }

  describe('env: exec --env-file, against its documented rules (bash and dotenv recorded beside)', () => {
    const all = cases<EnvExpect>('env');
    const dump = 'const o={};for(const[k,v]of Object.entries(process.env))if(k.startsWith("FX_"))o[k]=v;process.stdout.write(JSON.stringify(o))';
    const env = baseEnv({ KEYSMITH_VAULT: 'env', KEYSMITH_SECRET_FX_SECRET: 'resolved-secret-value', NODE_EXTRA_CA_CERTS: undefined });
    eachCase(all, async (c) => {
      checkReferences(c);
      const r = await runBin(['--debug', 'exec', '--no-mask', '--env-file', path(c), '--', process.execPath, '-e', dump], { env });
      assertNoCrash(r);
      verdict(r, c.keysmith);
      if (c.keysmith.message) expect(r.stderr).toContain(`${path(c)}${c.keysmith.message}`);
      if (r.code === 0) {
        expect(JSON.parse(r.stdout)).toEqual(c.keysmith.vars);
        // Where keysmith's values differ from bash's or dotenv's (a ks:// reference aside), the case says why.
        const plain = Object.fromEntries(Object.entries(c.keysmith.vars!).map(([k, v]) => [k, v === 'resolved-secret-value' ? 'ks://fx/secret' : v]));
        const printed = (ref: Reference) => JSON.parse(ref.output.find((l) => l.startsWith('{')) ?? 'null') as unknown;
        const sameAsBash = c.reference.bash!.exit === 0 && canon(printed(c.reference.bash!)) === canon(plain);
        const sameAsDotenv = canon(printed(c.reference['node-parseEnv']!)) === canon(plain);
        if (!sameAsBash || !sameAsDotenv) expect(c.note, `${c.name}: keysmith differs from ${sameAsBash ? '' : 'bash '}${sameAsDotenv ? '' : 'dotenv'}`).toBeTruthy();
      } else {
        expect(r.stdout).toBe(''); // the command never ran
      }
    });
  });

  // -------------------------------------------------------------------------------------------

  interface TemplateExpect {
  knownBug?: string;
    exit: number;
    code?: string;
    out?: boolean;
  }

  describe('templates: inject, against hand-checked output bytes', () => {
    const all = cases<TemplateExpect>('templates');
    const secrets = existsSync(join(FIXTURES, 'templates/secrets.json'))
      ? (JSON.parse(readFileSync(join(FIXTURES, 'templates/secrets.json'), 'utf8')) as Record<string, string>)
      : {};
    const env = baseEnv({
      KEYSMITH_VAULT: 'env',
      NODE_EXTRA_CA_CERTS: undefined,
      ...Object.fromEntries(Object.entries(secrets).map(([name, value]) => [`KEYSMITH_SECRET_${name.toUpperCase().replace(/[/.-]/g, '_')}`, value])),
    });
    eachCase(all, async (c) => {
      const r = await runBin(['--debug', 'inject', '-i', path(c)], { env });
      assertNoCrash(r);
      verdict(r, c.keysmith);
      if (c.keysmith.out) expect(r.stdoutBytes.equals(readFileSync(path(c).replace(/\.tmpl$/, '.out')))).toBe(true);
      else expect(r.stdoutBytes.length).toBe(0);
      // With -o: written only when every reference resolved, else no file at all.
      const { home, cleanup } = tempHome();
      try {
        const out = join(home, 'out');
        const w = await runBin(['inject', '-i', path(c), '-o', out], { env });
        expect(w.code).toBe(c.keysmith.exit);
        expect(existsSync(out)).toBe(c.keysmith.exit === 0);
        if (c.keysmith.out) expect(readFileSync(out).equals(readFileSync(path(c).replace(/\.tmpl$/, '.out')))).toBe(true);
      } finally {
        cleanup();
      }
    });
  });
});
