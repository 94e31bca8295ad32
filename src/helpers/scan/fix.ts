import { spawn } from 'node:child_process';
import { chmod, copyFile, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, parseDocument } from 'yaml';
import { childEnvironment } from '../../child-env.js';
import { ensurePrivateDir, exists, writeFileAtomic } from '../../fs.js';
import { nameOf } from '../../vault/names.js';
import { findSecret } from '../../vault/secrets.js';
import type { SecretRecord, Vault } from '../../vault/types.js';
import { credentialRecordName } from '../git-credential.js';
import { registryRecordName } from '../docker-credential.js';
import { gitCredentials, iniHeader, iniSections, type Finding } from './formats.js';

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
  /**
   * The user's environment. A check that makes a tool ask keysmith (git credential fill, the
   * docker helper, the AWS CLI, the exec plugin) gets it whole, KEYSMITH_* included, since that is
   * how the tool will open the vault; every other command (git config, kubectl config view,
   * aws --version) gets it without KEYSMITH_*.
   */
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

/** A message with every known value in it blanked out. */
const redact = (text: string, secrets: string[]) => secrets.reduce((t, v) => t.split(v).join('[value]'), text);

const firstLine = (text: string) => text.trim().split('\n')[0]?.slice(0, 200) ?? '';

/** Moves a file's findings and rewires the tool; `verify` asks the tool, and may say how it could only partly check. */
type Fixer = (file: string, findings: Finding[], changes: Changes, o: FixOptions) => Promise<{ details: string[]; verify: () => Promise<string | undefined | void> }>;

/** A `store` helper that writes this file: plain `store` for git's default files, or `store --file PATH` naming it. */
function storeWrites(helper: string, file: string, env: NodeJS.ProcessEnv): boolean {
  const m = /^store(?:\s+--file(?:=|\s+)(\S+))?\s*$/.exec(helper.trim());
  if (!m) return false;
  const home = env.HOME ?? '';
  if (m[1]) return resolve(m[1].replace(/^~(?=\/)/, home)) === resolve(file);
  return [join(home, '.git-credentials'), join(env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'credentials')].includes(resolve(file));
}

/** Every credential helper git has for any URL, with where it is set. */
async function gitHelpers(env: NodeJS.ProcessEnv): Promise<Array<{ scope: string; origin: string; key: string; value: string }>> {
  const r = await run('git', ['config', '--show-scope', '--show-origin', '--get-regexp', '^credential\\.(.*\\.)?helper$'], childEnvironment(env));
  return r.stdout.split('\n').filter(Boolean).map((line) => {
    const [scope, origin, rest] = line.split('\t');
    const space = rest!.indexOf(' ');
    return { scope: scope!, origin: origin!.replace(/^file:/, ''), key: rest!.slice(0, space < 0 ? undefined : space), value: space < 0 ? '' : rest!.slice(space + 1) };
  });
}

/**
 * ~/.git-credentials: records git/…, credential.helper keysmith in the global git config, every
 * store helper that writes this file taken out (git tells each helper what worked: one left in
 * writes the plaintext back), and the lines taken out by their text.
 */
const fixGit: Fixer = async (file, findings, changes, o) => {
  const details: string[] = [];
  const asked: Array<Record<string, string>> = [];
  for (const f of findings) {
    const v = f.hidden!.values;
    // A path only where git sends one (credential.useHttpPath); credential-store serves a line with a path to any request for its host.
    const usePath = !!v.path && (await run('git', ['config', '--type=bool', '--get-urlmatch', 'credential.useHttpPath', `${v.protocol}://${v.host}/${v.path}`], childEnvironment(o.env))).stdout.trim() === 'true';
    const a: Record<string, string> = { protocol: v.protocol!, host: v.host!, username: v.username!, ...(usePath ? { path: v.path! } : {}) };
    const name = credentialRecordName(a);
    await keep(o.vault, changes, name, { kind: 'git-credential', value: v.password!, fields: { ...a, host: a.host!.toLowerCase() } }, o.now);
    details.push(name);
    asked.push({ ...a, password: v.password! });
  }
  const home = o.env.HOME ?? '';
  for (const config of [o.env.GIT_CONFIG_GLOBAL, join(home, '.gitconfig'), join(o.env.XDG_CONFIG_HOME || join(home, '.config'), 'git', 'config')]) if (config) await changes.backup(config);
  for (const h of await gitHelpers(o.env)) {
    if (h.scope === 'global' && storeWrites(h.value, file, o.env)) await run('git', ['config', '--global', '--fixed-value', '--unset-all', h.key, h.value], childEnvironment(o.env));
  }
  if (!(await gitHelpers(o.env)).some((h) => h.scope === 'global' && h.key === 'credential.helper' && h.value === 'keysmith')) {
    const r = await run('git', ['config', '--global', '--add', 'credential.helper', 'keysmith'], childEnvironment(o.env));
    if (r.code !== 0) throw new Error(`git config --global: exit ${r.code}`);
  }
  const left = (await gitHelpers(o.env)).find((h) => storeWrites(h.value, file, o.env));
  if (left) throw new Error(`a store helper set in ${left.origin} (${left.key}) would write the plaintext back: take it out there`);
  const lines = (await readFile(file, 'utf8')).split('\n');
  for (const f of findings) {
    const at = lines.findIndex((l) => l.replace(/\r$/, '') === f.hidden!.values.raw);
    if (at < 0) throw new Error(`${file} changed meanwhile: scan again`);
    lines.splice(at, 1);
  }
  // With the store helper gone git reads the file no more: what is left in it would be lost.
  const rest = gitCredentials(file, lines.join('\n'));
  if (rest.length > 0) throw new Error(`${file} holds ${rest.length} credential(s) not moved (declined, or new since the scan): git would lose them; move them all, or scan again`);
  if (lines.join('').trim() === '') await changes.remove(file);
  else await changes.write(file, lines.join('\n'));
  return {
    details,
    async verify() {
      for (const a of asked) {
        const input = `protocol=${a.protocol}\nhost=${a.host}\n${a.path ? `path=${a.path}\n` : ''}username=${a.username}\n\n`;
        const r = await run('git', ['credential', 'fill'], { ...o.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '' }, input);
        if (r.code !== 0 || !r.stdout.split('\n').includes(`password=${a.password}`)) throw new Error(`git credential fill for ${a.protocol}://${a.host} did not get it from keysmith (exit ${r.code}): is git-credential-keysmith on PATH?`);
      }
    },
  };
};

/** The key docker looks a registry up by: its host name (a scheme and path dropped), Docker Hub's URL as it is. */
const helperKey = (registry: string) => (registry === 'https://index.docker.io/v1/' ? registry : registry.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0]!);

/** docker's config.json / containers' auth.json: records registry/…, credHelpers.<registry> keysmith, the auth out. */
const fixDocker: Fixer = async (file, findings, changes, o) => {
  const config = JSON.parse(await readFile(file, 'utf8')) as { auths: Record<string, Record<string, unknown>>; credHelpers?: Record<string, string> };
  const details: string[] = [];
  for (const f of findings) {
    const { registry, username, secret } = f.hidden!.values as { registry: string; username: string; secret: string };
    const name = registryRecordName(registry);
    await keep(o.vault, changes, name, { kind: 'registry-credential', value: secret, fields: { serverURL: registry, username } }, o.now);
    details.push(name);
    // credHelpers: read by docker, podman, skopeo and buildah alike, ahead of auths and credsStore,
    // under the registry's host name (docker looks it up so), Docker Hub's own URL excepted.
    config.credHelpers = { ...config.credHelpers, [helperKey(registry)]: 'keysmith' };
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
        if (written.credHelpers?.[helperKey(registry)] !== 'keysmith') throw new Error(`${file} does not name keysmith for ${registry}`);
        // As the tools do: docker-credential-<helper> from PATH, the registry's key on stdin.
        const r = await run('docker-credential-keysmith', ['get'], o.env, helperKey(registry));
        let got: { Username?: string; Secret?: string } = {};
        try {
          got = JSON.parse(r.stdout) as typeof got;
        } catch {
          // checked below
        }
        if (r.code !== 0 || got.Username !== username || got.Secret !== secret) throw new Error(`docker-credential-keysmith get ${registry} did not give it back (exit ${r.code}): is it on PATH?`);
      }
    },
  };
};

/** Whether the `aws` on PATH is the AWS CLI v2 (v1 has no `configure export-credentials` to check with). */
async function awsV2(env: NodeJS.ProcessEnv): Promise<boolean> {
  return /^aws-cli\/2\./.test((await run('aws', ['--version'], childEnvironment(env))).stdout.trim());
}

/** Sets `key = value` in an INI section (headers read as configparser reads them), appending the section when it is not there. */
function iniSet(text: string, section: string, key: string, value: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => iniHeader(l) === section);
  if (start < 0) return `${text}${text && !text.endsWith('\n') ? '\n' : ''}${text ? '\n' : ''}[${section}]\n${key} = ${value}\n`;
  let end = lines.findIndex((l, i) => i > start && iniHeader(l) !== undefined);
  if (end < 0) end = lines.length;
  const at = lines.findIndex((l, i) => i > start && i < end && new RegExp(`^\\s*${key}\\s*=`).test(l));
  if (at >= 0) lines[at] = `${key} = ${value}`;
  else lines.splice(start + 1, 0, `${key} = ${value}`);
  return lines.join('\n');
}

/**
 * ~/.aws/credentials: records aws/<profile>, credential_process in the config the AWS CLI reads
 * with it (AWS_CONFIG_FILE for the user's own credentials file, else the config beside it), the
 * keys out of the credentials file (they would win over credential_process).
 */
const fixAws: Fixer = async (file, findings, changes, o) => {
  const home = o.env.HOME ?? '';
  const usersOwn = resolve(file) === resolve(o.env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'));
  const configFile = usersOwn ? resolve(o.env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config')) : join(dirname(file), 'config');
  let config = (await exists(configFile)) ? await readFile(configFile, 'utf8') : '';
  let credentials = await readFile(file, 'utf8');
  const details: string[] = [];
  for (const f of findings) {
    const v = f.hidden!.values;
    const name = nameOf('aws', [v.profile!]);
    await keep(o.vault, changes, name, { kind: 'aws-credential', value: v.secretAccessKey!, fields: { aws_access_key_id: v.accessKeyId!, ...(v.sessionToken ? { aws_session_token: v.sessionToken } : {}) } }, o.now);
    details.push(name);
    config = iniSet(config, v.profile === 'default' ? 'default' : `profile ${v.profile}`, 'credential_process', `keysmith secret get ${name} --aws-credential-process`);
    const keys = iniSections(credentials).get(v.profile!)!;
    const drop = new Set(['aws_access_key_id', 'aws_secret_access_key', 'aws_session_token'].map((k) => keys.get(k)?.line).filter((l): l is number => !!l));
    const lines = credentials.split('\n').filter((_, i) => !drop.has(i + 1));
    if (keys.size === drop.size) {
      const header = lines.findIndex((l) => iniHeader(l) === v.profile);
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
      // The AWS CLI v2 reads the files as every SDK will; without it, only keysmith's side is checked, and said.
      const cli = await awsV2(o.env);
      const env = { ...o.env, AWS_EC2_METADATA_DISABLED: 'true', ...(usersOwn ? {} : { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: file }) };
      for (const f of findings) {
        const v = f.hidden!.values;
        const r = cli
          ? await run('aws', ['configure', 'export-credentials', '--profile', v.profile!, '--format', 'process'], env)
          : await run('keysmith', ['secret', 'get', nameOf('aws', [v.profile!]), '--aws-credential-process'], o.env);
        let got: { AccessKeyId?: string; SecretAccessKey?: string } = {};
        try {
          got = JSON.parse(r.stdout) as typeof got;
        } catch {
          // checked below
        }
        if (r.code !== 0 || got.AccessKeyId !== v.accessKeyId || got.SecretAccessKey !== v.secretAccessKey) throw new Error(`${cli ? 'aws configure export-credentials' : 'keysmith secret get … --aws-credential-process'} for profile ${v.profile} did not get it from keysmith (exit ${r.code}): ${firstLine(r.stderr) || 'another answer'}`);
      }
      return cli ? undefined : 'checked through keysmith only: no AWS CLI v2 on PATH';
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
      const kubectl = await run('kubectl', ['config', 'view', '--raw', '-o', 'json', '--kubeconfig', file], childEnvironment(o.env));
      // kubectl's own message can quote the file (a whole users list, passwords and all): not relayed.
      if (kubectl.code !== 127 && kubectl.code !== 0) throw new Error(`kubectl cannot read ${file} now (kubectl config view: exit ${kubectl.code})`);
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
        if (!ok) throw new Error(`the exec plugin for user ${user} did not give it back (exit ${r.code}): is keysmith on PATH?`);
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
  // No value found may reach a message, whatever a tool said.
  const secrets = findings.flatMap((f) => Object.entries(f.hidden?.values ?? {}).filter(([k, v]) => !['protocol', 'host', 'registry', 'profile', 'user', 'username', 'path', 'accessKeyId'].includes(k) && v.length >= 4).map(([, v]) => v));
  await ensurePrivateDir(o.backupDir);
  let copies = 0;
  const backupName = (path: string) => join(o.backupDir, `${++copies}-${basename(path)}`);
  for (const [key, { fixer, findings: group }] of groups) {
    const file = key.split('\0')[1]!;
    const changes = new Changes(backupName);
    try {
      const { details, verify } = await fixer(file, group, changes, o);
      const note = await verify();
      group.forEach((f, i) => result(f, 'fixed', `${details[i] ?? details[0]!}${note ? ` (${note})` : ''}`));
    } catch (err) {
      await changes.undo(o.vault);
      for (const f of group) result(f, 'failed', `${redact((err as Error).message, secrets)}; put back as it was`);
    }
  }
  return results;
}
