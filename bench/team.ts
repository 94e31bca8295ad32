// Team vault benchmarks (issue 13): `secret get @acme/NAME` in a 1,000-secret team vault against
// `secret get` on the file vault, `team add` of an 11th member (re-encrypting all 1,000 secrets)
// against its 5 s budget, and `team sync` with nothing new against `git fetch` of the same file://
// remote. Every side runs with NODE_EXTRA_CA_CERTS and SSH_AUTH_SOCK unset, a temp HOME holding an
// ed25519 key from ssh-keygen, and GIT_CONFIG_GLOBAL an empty file (GIT_CONFIG_NOSYSTEM too).
// The vault is built through the library (createTeam, ageEncrypt, one signedCommit), not 1,000 CLI runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTeam, teamDir } from '../src/team/manage.js';
import { push, signedCommit } from '../src/team/git.js';
import { readersOf, type TeamDocument } from '../src/team/team.js';
import { ageEncrypt, generateIdentity, recipientOf } from '../src/vault/age.js';
import { sshRecipient } from '../src/vault/age-ssh.js';
import { encryptAge, type Wrap } from '../src/vault/x25519-age.js';
import { measureTogether, type Cmd, type Comparison, type Measured } from './lib.js';

const BIN = join(process.cwd(), 'bin', 'keysmith.js');
const SECRETS = 1_000;
const TARGET_VALUE = 'hunter2';

const record = (value: string, i: number, now: string) => ({ kind: 'password', value, fields: { user: `u${i}` }, created: now, updated: now });
const secretName = (i: number) => `app${i % 100}/secret-${i}`;

/** An ed25519 key made by ssh-keygen, no passphrase: its private key path and public line. */
function sshKey(path: string, comment: string): { keyPath: string; line: string } {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
  return { keyPath: path, line: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/** A file vault of `records` records plus bench/target, in KEYSMITH_HOME=`home`, as keysmith writes it (age to an x25519 identity). */
async function fileVault(home: string, records: number, identity: string): Promise<void> {
  const now = new Date().toISOString();
  const doc = { format: 'keysmith-vault', version: 1, records: {} as Record<string, unknown> };
  for (let i = 0; i < records; i++) doc.records[secretName(i)] = record(`value-${i}-${'x'.repeat(40)}`, i, now);
  doc.records['bench/target'] = record(TARGET_VALUE, -1, now);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileSync(join(home, 'vault.age'), await ageEncrypt(Buffer.from(JSON.stringify(doc)), { recipients: [await recipientOf(identity)] }), { mode: 0o600 });
}

/** Runs a command once and returns its wall time; a failure throws with its stderr. */
function timeOnce(cmd: Cmd): { ms: number; stderr: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd.argv[0]!, cmd.argv.slice(1), { env: cmd.env ?? process.env, input: cmd.input ?? '', stdio: ['pipe', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd.label}: exit ${r.status}: ${r.stderr?.toString()}`);
  return { ms, stderr: r.stderr.toString() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function teamBenchmarks(): Promise<{ rows: Comparison[]; notes: string[] }> {
  const root = mkdtempSync(join(tmpdir(), 'ks-bench-team-'));
  try {
    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(base)) {
      if (k.startsWith('KEYSMITH_') || k.startsWith('GIT_') || k === 'NODE_EXTRA_CA_CERTS' || k === 'SSH_AUTH_SOCK') delete base[k];
    }
    const home = join(root, 'home');
    mkdirSync(home, { mode: 0o700 });
    writeFileSync(join(root, 'gitconfig'), '');
    Object.assign(base, { HOME: home, XDG_CACHE_HOME: join(home, 'cache'), GIT_CONFIG_GLOBAL: join(root, 'gitconfig'), GIT_CONFIG_NOSYSTEM: '1' });
    const owner = sshKey(join(home, '.ssh', 'id_ed25519'), 'owner@bench');
    const others = Array.from({ length: 10 }, (_, i) => sshKey(join(root, 'keys', `m${i + 1}`), `m${i + 1}@bench`));

    // The remote, and the owner's clone in KEYSMITH_HOME=ks (its file vault beside it: 1,000 records).
    const bare = join(root, 'remote.git');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], { env: base });
    const remote = `file://${bare}`;
    const identity = await generateIdentity();
    const ks = join(root, 'ks');
    await fileVault(ks, SECRETS, identity);
    const ks10 = join(root, 'ks10');
    await fileVault(ks10, 10, identity);
    const env = { ...base, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: identity };
    const env10 = { ...env, KEYSMITH_HOME: ks10 };
    const ctx = { paths: { config: ks, data: ks }, env };

    // 10 members (owner, m1…m9) reading everything; 1,000 secrets encrypted to all of them; one signed commit, pushed.
    const setupStart = Date.now();
    const vault = await createTeam(ctx, 'acme', { member: 'owner', keyPath: owner.keyPath, remote });
    const team: TeamDocument = await vault.document();
    for (let i = 0; i < 9; i++) team.members[`m${i + 1}`] = { recipient: others[i]!.line, paths: [''] };
    await vault.writeDocument(team);
    const now = new Date().toISOString();
    // What ageEncrypt does, with each recipient line parsed once rather than once a file (~1 ms each: the Ed25519 → X25519 conversion).
    const wraps = new Map<string, Wrap>();
    const wrapOf = (line: string) => wraps.get(line) ?? wraps.set(line, sshRecipient(line).wrap).get(line)!;
    const write = (name: string, value: string, i: number) => {
      const path = join(vault.repo.dir, `${name}.age`);
      mkdirSync(dirname(path), { recursive: true });
      const recipients = readersOf(team, name).map(([, m]) => wrapOf(m.recipient));
      writeFileSync(path, encryptAge(Buffer.from(JSON.stringify(record(value, i, now))), recipients), { mode: 0o644 });
    };
    for (let i = 0; i < SECRETS - 1; i++) write(secretName(i), `value-${i}-${'x'.repeat(40)}`, i);
    write('bench/target', TARGET_VALUE, -1);
    await signedCommit(vault.repo, `set ${SECRETS} secrets, add m1…m9`, { name: 'owner', keyPath: owner.keyPath }, ['.']);
    await push(vault.repo);
    const setupMs = Date.now() - setupStart;

    const ksCmd = (label: string, args: string[], e: NodeJS.ProcessEnv = env): Cmd => ({ label, argv: [process.execPath, BIN, ...args], env: e });
    const node: Cmd = { label: 'node -e 0', argv: [process.execPath, '-e', '0'], env: base };
    const check = (cmd: Cmd, expected: string) => {
      const out = execFileSync(cmd.argv[0]!, cmd.argv.slice(1), { env: cmd.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (out.trim() !== expected) throw new Error(`${cmd.label}: printed ${JSON.stringify(out)}, not ${expected}`);
    };

    // 1. secret get: team vault (1,000 age files, 10 recipients each) against the file vault (1,000 and 10 records).
    const teamGet = ksCmd('secret get @acme/…', ['secret', 'get', '@acme/bench/target']);
    const fileGet = ksCmd('get, file, 1,000', ['secret', 'get', 'bench/target']);
    const fileGet10 = ksCmd('get, file, 10', ['secret', 'get', 'bench/target'], env10);
    for (const c of [teamGet, fileGet, fileGet10]) check(c, TARGET_VALUE);
    const [tGet, fGet, fGet10, n1] = measureTogether([teamGet, fileGet, fileGet10, node]);

    // 3. sync with nothing new against git fetch of the same remote into the same clone.
    const clone = teamDir(ctx.paths, 'acme');
    const gitFetch: Cmd = { label: 'git fetch', argv: ['git', '-C', clone, 'fetch', '--quiet', 'origin'], env: base };
    const sync = ksCmd('team sync acme', ['team', 'sync', 'acme']);
    const [tSync, gFetch, n3] = measureTogether([sync, gitFetch, node]);

    // 2. team add of an 11th member: one shot on a fresh copy of KEYSMITH_HOME each time (cp not timed), median of 3.
    const addTimes: number[] = [];
    const nodeTimes: number[] = [];
    let addSays = '';
    for (let run = 0; run < 3; run++) {
      const copy = join(root, `ks-add-${run}`);
      execFileSync('cp', ['-a', ks, copy]);
      const add = ksCmd('team add', ['team', 'add', 'acme', 'm10', others[9]!.line], { ...env, KEYSMITH_HOME: copy });
      const r = timeOnce(add);
      addTimes.push(r.ms);
      addSays = r.stderr.trim();
      if (!addSays.includes(`${SECRETS} secret(s) re-encrypted`)) throw new Error(`team add: said ${JSON.stringify(addSays)}`);
      nodeTimes.push(timeOnce(node).ms);
      rmSync(copy, { recursive: true, force: true });
    }
    const tAdd: Measured = { label: 'team add', medianMs: median(addTimes) };
    const n2: Measured = { label: 'node -e 0', medianMs: median(nodeTimes) };

    const rows: Comparison[] = [
      { name: `secret get @acme/…, team vault, ${SECRETS} secrets, 10 members`, subject: tGet!, against: fGet!, target: 1.2 },
      { name: `secret get @acme/…, team vault, ${SECRETS} secrets, 10 members`, subject: tGet!, against: fGet10!, target: 1.2 },
      { name: `team add (11th member, ${SECRETS} secrets re-encrypted), median of 3 one-shots`, subject: tAdd, against: n2, limitMs: 5000 },
      { name: 'team sync acme, nothing new (file:// remote)', subject: tSync!, against: gFetch!, slackMs: 100 },
    ];
    const notes = [
      `- team rows: NODE_EXTRA_CA_CERTS and SSH_AUTH_SOCK unset on every side, temp HOME with an ssh-keygen ed25519 key, GIT_CONFIG_GLOBAL an empty file, GIT_CONFIG_NOSYSTEM=1; git ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim().replace(/^git version /, '')}; vault built through the library in ${setupMs} ms`,
      `- secret get: node -e 0 ${n1!.medianMs.toFixed(1)} ms in the same rounds; team get − file get (1,000) = ${(tGet!.medianMs - fGet!.medianMs).toFixed(1)} ms`,
      `- team add: runs ${addTimes.map((t) => t.toFixed(0)).join(', ')} ms, each on a fresh cp -a of KEYSMITH_HOME (not timed); node -e 0 is context, the target is the issue's absolute < 5 s`,
      `- team sync: keysmith ${tSync!.medianMs.toFixed(1)} ms − git fetch ${gFetch!.medianMs.toFixed(1)} ms = ${(tSync!.medianMs - gFetch!.medianMs).toFixed(1)} ms (budget 100 ms); node -e 0 ${n3!.medianMs.toFixed(1)} ms in the same rounds`,
    ];
    return { rows, notes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
