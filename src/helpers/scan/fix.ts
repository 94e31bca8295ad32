import { spawn } from 'node:child_process';
import { chmod, copyFile, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { ensurePrivateDir, exists, writeFileAtomic } from '../../fs.js';
import { nameOf } from '../../vault/names.js';
import { findSecret } from '../../vault/secrets.js';
import type { SecretRecord, Vault } from '../../vault/types.js';
import { credentialRecordName } from '../git-credential.js';
import { registryRecordName } from '../docker-credential.js';
import { iniSections, type Finding } from './formats.js';

/**
 * `scan --fix`: per file, the accepted findings move into the vault, the tool's configuration is
 * rewired to ask keysmith (git credential.helper, docker credHelpers, AWS credential_process, a
 * kubeconfig exec plugin), the plaintext is taken out, and the tool is asked, as it would ask,
 * for each credential. Every file changed is first copied to a 0600 backup; when the check fails,
 * every change of that file's fix is undone (files restored, new records removed).
 */

export interface FixOptions {
  vault: Vault;
  now: Date;
  /** The environment the tools run in for the checks (the user's: HOME, PATH, the vault's). */
  env: NodeJS.ProcessEnv;
  /** A fresh 0700 folder for the backups. */
  backupDir: string;
  /** Whether to fix this finding (a prompt, or yes to all). */
  accept: (finding: Finding) => Promise<boolean>;
}

export interface FixResult {
  kind: Finding['kind'];
  file: string;
  line: number;
  target: string;
  outcome: 'fixed' | 'declined' | 'not-fixable' | 'failed';
  /** The record it went to, the change made, or why it failed. */
  detail: string;
}

/** Changes to files, each backed up before its first change, and records created, for undoing. */
class Changes {
  private readonly backups = new Map<string, string | undefined>();
  private readonly modes = new Map<string, number>();
  readonly records: string[] = [];
  /** `backupName` is shared by every fix of a run: two files called config never share a backup. */
  constructor(private readonly backupName: (path: string) => string) {}

  async backup(path: string): Promise<void> {
    if (this.backups.has(path)) return;
    if (!(await exists(path))) return void this.backups.set(path, undefined);
    const copy = this.backupName(path);
    await copyFile(path, copy);
    await chmod(copy, 0o600);
    this.backups.set(path, copy);
    this.modes.set(path, (await stat(path)).mode & 0o777);
  }

  async write(path: string, text: string): Promise<void> {
    await this.backup(path);
    // A dotfile kept as a link (to a dotfiles checkout) stays a link: the change goes to its target.
    await writeFileAtomic(path, text, { overwrite: true, throughSymlink: true, mode: this.modes.get(path) ?? 0o600 });
  }

  async remove(path: string): Promise<void> {
    await this.backup(path);
    await rm(path, { force: true });
  }

  /** Undoes every file change and removes the records it created. */
  async undo(vault: Vault): Promise<void> {
    for (const [path, copy] of this.backups) {
      if (copy === undefined) await rm(path, { force: true });
      else await writeFileAtomic(path, await readFile(copy), { overwrite: true, throughSymlink: true, mode: this.modes.get(path) ?? 0o600 });
    }
    for (const name of this.records) await vault.delete(name);
  }

  get files(): string[] {
    return [...this.backups.values()].filter((c): c is string => !!c);
  }
}

/** Stores a record unless the vault holds a different one at that name; notes it for undoing when new. */
async function keep(vault: Vault, changes: Changes, name: string, record: Omit<SecretRecord, 'created' | 'updated'>, now: Date): Promise<void> {
  const previous = await findSecret(vault, name);
  if (previous) {
    if (previous.kind !== record.kind || previous.value !== record.value || JSON.stringify(previous.fields) !== JSON.stringify(record.fields)) {
      throw new Error(`the vault already holds a different ${name}`);
    }
    return;
  }
  const at = now.toISOString();
  await vault.set(name, { ...record, created: at, updated: at });
  changes.records.push(name);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

const firstLine = (text: string) => text.trim().split('\n')[0]?.slice(0, 200) ?? '';

type Fixer = (file: string, findings: Finding[], changes: Changes, o: FixOptions) => Promise<{ details: string[]; verify: () => Promise<void> }>;

/** ~/.git-credentials: records git/…, credential.helper keysmith (instead of store) in the global config, the lines out. */
const fixGit: Fixer = async (file, findings, changes, o) => {
  const details: string[] = [];
  const moved = new Set<number>();
  for (const f of findings) {
    const v = f.hidden!.values;
    const name = credentialRecordName(v);
    await keep(o.vault, changes, name, { kind: 'git-credential', value: v.password!, fields: { protocol: v.protocol!, host: v.host!.toLowerCase(), username: v.username!, ...(v.path ? { path: v.path } : {}) } }, o.now);
    details.push(name);
    moved.add(f.line);
  }
  const home = o.env.HOME ?? '';
  for (const config of [join(home, '.gitconfig'), join(o.env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config')]) await changes.backup(config);
  const helpers = (await run('git', ['config', '--global', '--get-all', 'credential.helper'], o.env)).stdout.split('\n').filter(Boolean);
  // git asks every helper in turn and tells each what worked: a store helper left in would write the plaintext back.
  if (helpers.some((h) => /^store(\s|$)/.test(h))) await run('git', ['config', '--global', '--unset-all', 'credential.helper', '^store([[:space:]]|$)'], o.env);
  if (!helpers.includes('keysmith')) {
    const r = await run('git', ['config', '--global', '--add', 'credential.helper', 'keysmith'], o.env);
    if (r.code !== 0) throw new Error(`git config: ${firstLine(r.stderr)}`);
  }
  const text = await readFile(file, 'utf8');
  const rest = text.split('\n').filter((_, i) => !moved.has(i + 1));
  if (rest.join('').trim() === '') await changes.remove(file);
  else await changes.write(file, rest.join('\n'));
  return {
    details,
    async verify() {
      for (const f of findings) {
        const v = f.hidden!.values;
        const input = `protocol=${v.protocol}\nhost=${v.host}\n${v.path ? `path=${v.path}\n` : ''}username=${v.username}\n\n`;
        const r = await run('git', ['credential', 'fill'], { ...o.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' }, input);
        if (r.code !== 0 || !r.stdout.split('\n').includes(`password=${v.password}`)) throw new Error(`git credential fill for ${v.protocol}://${v.host} did not get it from keysmith: ${firstLine(r.stderr) || 'another answer'}`);
      }
    },
  };
};

/** docker's config.json / containers' auth.json: records registry/…, credHelpers.<registry> keysmith, the auth out. */
const fixDocker: Fixer = async (file, findings, changes, o) => {
  const config = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, Record<string, unknown>>; credHelpers?: Record<string, string> };
  const details: string[] = [];
  for (const f of findings) {
    const { registry, username, secret } = f.hidden!.values as { registry: string; username: string; secret: string };
    const name = registryRecordName(registry);
    await keep(o.vault, changes, name, { kind: 'registry-credential', value: secret, fields: { serverURL: registry, username } }, o.now);
    details.push(name);
    // credHelpers: read by docker, podman, skopeo and buildah alike, and ahead of auths and credsStore.
    config.credHelpers = { ...config.credHelpers, [registry]: 'keysmith' };
    const entry = config.auths[registry]!;
    for (const key of ['auth', 'password', 'identitytoken', 'username']) delete entry[key];
    if (Object.keys(entry).length === 0) delete config.auths[registry];
  }
  await changes.write(file, `${JSON.stringify(config, null, '\t')}\n`);
  return {
    details,
    async verify() {
      const written = JSON.parse(await readFile(file, 'utf8')) as typeof config;
      for (const f of findings) {
        const { registry, username, secret } = f.hidden!.values as { registry: string; username: string; secret: string };
        if (written.credHelpers?.[registry] !== 'keysmith') throw new Error(`${file} does not name keysmith for ${registry}`);
        // As the tools do: docker-credential-<helper> from PATH, the server URL on stdin.
        const r = await run('docker-credential-keysmith', ['get'], o.env, registry);
        let got: { Username?: string; Secret?: string } = {};
        try {
          got = JSON.parse(r.stdout) as typeof got;
        } catch {
          // checked below
        }
        if (r.code !== 0 || got.Username !== username || got.Secret !== secret) throw new Error(`docker-credential-keysmith get ${registry} did not give it back: ${firstLine(r.stderr || r.stdout) || 'another answer'}`);
      }
    },
  };
};

/** The first `aws` on PATH with `configure export-credentials` (AWS CLI v2). */
async function awsCli(env: NodeJS.ProcessEnv): Promise<boolean> {
  return (await run('aws', ['configure', 'export-credentials', 'help'], { ...env, PAGER: 'cat', MANPAGER: 'cat' })).code === 0;
}

/** Sets `key = value` in an INI section, appending the section when it is not there. */
function iniSet(text: string, section: string, key: string, value: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `[${section}]`);
  if (start < 0) return `${text}${text && !text.endsWith('\n') ? '\n' : ''}${text ? '\n' : ''}[${section}]\n${key} = ${value}\n`;
  let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  const at = lines.findIndex((l, i) => i > start && i < end && new RegExp(`^\\s*${key}\\s*=`).test(l));
  if (at >= 0) lines[at] = `${key} = ${value}`;
  else lines.splice(start + 1, 0, `${key} = ${value}`);
  return lines.join('\n');
}

/** ~/.aws/credentials: records aws/<profile>, credential_process in the config beside it, the keys out. */
const fixAws: Fixer = async (file, findings, changes, o) => {
  const configFile = join(dirname(file), 'config');
  let config = (await exists(configFile)) ? await readFile(configFile, 'utf8') : '';
  let credentials = await readFile(file, 'utf8');
  const details: string[] = [];
  for (const f of findings) {
    const v = f.hidden!.values;
    const name = nameOf('aws', [v.profile!]);
    await keep(o.vault, changes, name, { kind: 'aws-credential', value: v.secretAccessKey!, fields: { aws_access_key_id: v.accessKeyId!, ...(v.sessionToken ? { aws_session_token: v.sessionToken } : {}) } }, o.now);
    details.push(name);
    config = iniSet(config, v.profile === 'default' ? 'default' : `profile ${v.profile}`, 'credential_process', `keysmith secret get ${name} --aws-credential-process`);
    // The credentials file wins over credential_process: its keys for the profile go.
    const keys = iniSections(credentials).get(v.profile!)!;
    const drop = new Set(['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'].map((k) => keys.get(k)?.line).filter((l): l is number => !!l));
    const lines = credentials.split('\n').filter((_, i) => !drop.has(i + 1));
    if (keys.size === drop.size) {
      const header = lines.findIndex((l) => l.trim() === `[${v.profile}]`);
      if (header >= 0) lines.splice(header, 1);
    }
    credentials = lines.join('\n');
  }
  await changes.write(configFile, config);
  if (credentials.trim() === '') await changes.remove(file);
  else await changes.write(file, credentials);
  return {
    details,
    async verify() {
      const cli = await awsCli(o.env);
      for (const f of findings) {
        const v = f.hidden!.values;
        const name = nameOf('aws', [v.profile!]);
        const r = cli
          ? await run('aws', ['configure', 'export-credentials', '--profile', v.profile!, '--format', 'process'], { ...o.env, AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: file, AWS_EC2_METADATA_DISABLED: 'true' })
          : await run('keysmith', ['secret', 'get', name, '--aws-credential-process'], o.env);
        let got: { AccessKeyId?: string; SecretAccessKey?: string } = {};
        try {
          got = JSON.parse(r.stdout) as typeof got;
        } catch {
          // checked below
        }
        if (r.code !== 0 || got.AccessKeyId !== v.accessKeyId || got.SecretAccessKey !== v.secretAccessKey) throw new Error(`${cli ? 'aws configure export-credentials' : 'the credential_process'} for profile ${v.profile} did not get it from keysmith: ${firstLine(r.stderr) || 'another answer'}`);
      }
    },
  };
};

/** A kubeconfig: records kube/<user>, an exec plugin (keysmith secret get … --exec-credential) instead of the token or key. */
const fixKube: Fixer = async (file, findings, changes, o) => {
  const doc = parseDocument(await readFile(file, 'utf8'), { uniqueKeys: false });
  if (doc.errors.length > 0) throw new Error(`${file} is not YAML keysmith can rewrite: ${doc.errors[0]!.message.split('\n')[0]}`);
  const byUser = new Map<string, Record<string, string>>();
  for (const f of findings) byUser.set(f.hidden!.values.user!, { ...byUser.get(f.hidden!.values.user!), ...f.hidden!.values });
  for (const [user, v] of byUser) {
    const item = (doc.get('users') as { items: unknown[] }).items.find((i) => isMap(i) && String(i.get('name')) === user);
    const entry = isMap(item) ? item.get('user') : undefined;
    if (!isMap(entry)) throw new Error(`no user ${user} in ${file}`);
    if (entry.has('exec') || entry.has('auth-provider')) throw new Error(`user ${user} already has an exec or auth-provider plugin`);
    const name = nameOf('kube', [user]);
    const fields: Record<string, string> = {};
    if (v.clientKeyData) {
      fields.clientKeyData = Buffer.from(v.clientKeyData, 'base64').toString('utf8');
      fields.clientCertificateData = Buffer.from(v.clientCertificateData!, 'base64').toString('utf8');
    }
    await keep(o.vault, changes, name, { kind: 'kube-credential', value: v.token ?? '', fields }, o.now);
    if (v.token) entry.delete('token');
    if (v.clientKeyData) for (const k of ['client-key-data', 'client-certificate-data']) entry.delete(k);
    entry.set('exec', doc.createNode({ apiVersion: 'client.authentication.k8s.io/v1', command: 'keysmith', args: ['secret', 'get', name, '--exec-credential'], interactiveMode: 'Never' }));
  }
  await changes.write(file, doc.toString());
  return {
    details: findings.map((f) => nameOf('kube', [f.hidden!.values.user!])),
    async verify() {
      const kubectl = await run('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', file], o.env);
      if (kubectl.code !== 127 && kubectl.code !== 0) throw new Error(`kubectl cannot read ${file} now: ${firstLine(kubectl.stderr)}`);
      for (const [user, v] of byUser) {
        // As kubectl runs the plugin: KUBERNETES_EXEC_INFO set, the command from PATH.
        const info = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } });
        const r = await run('keysmith', ['secret', 'get', nameOf('kube', [user]), '--exec-credential'], { ...o.env, KUBERNETES_EXEC_INFO: info });
        let status: { token?: string; clientKeyData?: string } = {};
        try {
          status = (JSON.parse(r.stdout) as { status: typeof status }).status;
        } catch {
          // checked below
        }
        const ok = r.code === 0 && (!v.token || status.token === v.token) && (!v.clientKeyData || status.clientKeyData === Buffer.from(v.clientKeyData, 'base64').toString('utf8'));
        if (!ok) throw new Error(`the exec plugin for user ${user} did not give it back: ${firstLine(r.stderr) || 'another answer'}`);
      }
    },
  };
};

/** A private key others can read: chmod 600. */
const fixMode: Fixer = async (file, _findings, _changes, o) => {
  void o;
  await chmod(file, 0o600);
  return {
    details: ['chmod 600'],
    async verify() {
      if (((await stat(file)).mode & 0o077) !== 0) throw new Error(`${file} is still readable by others`);
    },
  };
};

const FIXERS: Partial<Record<Finding['kind'], Fixer>> = {
  'git-credentials': fixGit, 'docker-auth': fixDocker, 'aws-credentials': fixAws,
  'kubeconfig-token': fixKube, 'kubeconfig-client-key': fixKube, 'private-key-mode': fixMode,
};

export async function fix(findings: Finding[], o: FixOptions): Promise<FixResult[]> {
  const results: FixResult[] = [];
  const result = (f: Finding, outcome: FixResult['outcome'], detail: string) => results.push({ kind: f.kind, file: f.file, line: f.line, target: f.target, outcome, detail });
  // One fix per file and tool: a file's findings change together, and are undone together.
  const groups = new Map<string, { fixer: Fixer; findings: Finding[] }>();
  for (const f of findings) {
    const fixer = FIXERS[f.kind];
    if (!f.fixable || !fixer) {
      result(f, 'not-fixable', f.advice);
      continue;
    }
    if (!(await o.accept(f))) {
      result(f, 'declined', f.advice);
      continue;
    }
    const key = `${fixer === fixKube ? 'kube' : f.kind}\0${f.file}`;
    const group = groups.get(key) ?? { fixer, findings: [] };
    group.findings.push(f);
    groups.set(key, group);
  }
  await ensurePrivateDir(o.backupDir);
  let copies = 0;
  const backupName = (path: string) => join(o.backupDir, `${++copies}-${basename(path)}`);
  for (const [key, { fixer, findings: group }] of groups) {
    const file = key.split('\0')[1]!;
    const changes = new Changes(backupName);
    try {
      const { details, verify } = await fixer(file, group, changes, o);
      await verify();
      group.forEach((f, i) => result(f, 'fixed', details[i] ?? details[0]!));
    } catch (err) {
      await changes.undo(o.vault);
      for (const f of group) result(f, 'failed', `${(err as Error).message}; put back as it was`);
    }
  }
  return results;
}
