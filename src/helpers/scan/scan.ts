import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync, constants } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { awsCredentials, dockerConfig, ghHosts, gitCredentials, kubeconfig, netrc, npmrc, pgpass, privateKeys, pypirc, type Finding } from './formats.js';

/**
 * `keysmith scan`: walks the given folders (not following links, not into other people's
 * packages or version control) and reads each tool's credential file it meets, by its place, and
 * every small file for private keys.
 */

type Reader = (file: string, text: string) => Finding[];

/** Which reader a file gets, by its place: the tools' own default paths. */
export function readerFor(path: string): Reader | undefined {
  const name = basename(path);
  const p = path.split(sep).join('/');
  if (name === '.git-credentials' || p.endsWith('/git/credentials')) return gitCredentials;
  if (name === '.netrc' || name === '_netrc') return netrc;
  if (p.endsWith('/.docker/config.json') || p.endsWith('/containers/auth.json')) return dockerConfig;
  if (p.endsWith('/.aws/credentials')) return awsCredentials;
  if (p.endsWith('/.kube/config') || name === 'kubeconfig' || name.endsWith('.kubeconfig')) return kubeconfig;
  if (name === '.npmrc') return npmrc;
  if (name === '.pypirc') return pypirc;
  if (name === '.pgpass') return pgpass;
  if (p.endsWith('/gh/hosts.yml')) return ghHosts;
  return undefined;
}

/** Folders never entered: other people's code and caches, where no credential of yours is kept. */
const SKIPPED = new Set([
  'node_modules', '.git', '.hg', '.svn', '__pycache__', '.npm', '.cache', '.cargo', '.rustup', '.gradle', '.m2', 'Trash',
  // Installed languages and their packages, which ship test keys by the dozen.
  '.pyenv', '.rbenv', '.nvm', '.volta', 'site-packages', 'dist-packages', '.venv', '.tox',
]);

/** Files are read whole up to this size; a credential file or a key is far smaller. */
const MAX_BYTES = 256 * 1024;

export interface ScanOptions {
  /** Folders not to enter (keysmith's own data). */
  exclude?: string[];
  /** Called for a file that cannot be read (permission denied): scan goes on. */
  onError?: (path: string, err: NodeJS.ErrnoException) => void;
}

export function scan(roots: string[], o: ScanOptions = {}): Finding[] {
  const excluded = new Set((o.exclude ?? []).map((p) => resolve(p)));
  const findings: Finding[] = [];
  const buffer = Buffer.alloc(MAX_BYTES);
  const seen = new Set<string>();
  const visitFile = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOOP') o.onError?.(path, err as NodeJS.ErrnoException);
      return;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > MAX_BYTES || st.size === 0) return;
      const n = readSync(fd, buffer, 0, MAX_BYTES, 0);
      const text = buffer.toString('utf8', 0, n);
      const reader = readerFor(path);
      if (reader) findings.push(...reader(path, text));
      if (text.includes('PRIVATE KEY-----')) findings.push(...keyFindings(path, text, st.mode & 0o777));
    } catch (err) {
      o.onError?.(path, err as NodeJS.ErrnoException);
    } finally {
      closeSync(fd);
    }
  };
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      o.onError?.(dir, err as NodeJS.ErrnoException);
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name) && !excluded.has(path)) walk(path);
      } else if (e.isFile()) visitFile(path);
    }
  };
  for (const root of roots.map((r) => resolve(r))) {
    let st;
    try {
      st = lstatSync(root);
    } catch (err) {
      o.onError?.(root, err as NodeJS.ErrnoException);
      continue;
    }
    if (st.isDirectory()) walk(root);
    else visitFile(root);
  }
  return findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

/**
 * A file with private keys: unencrypted OpenSSH keys (and PEM keys under .ssh) are to move into
 * the vault; a private key others can read is to chmod 600 (OpenSSH refuses such a key:
 * "UNPROTECTED PRIVATE KEY FILE", sshkey_perm_ok, for any group or other bit).
 */
function keyFindings(file: string, text: string, mode: number): Finding[] {
  const keys = privateKeys(text);
  // A key file is PEM blocks and little else (openssl's Bag Attributes): a page that quotes a key is not one.
  if (keys.length === 0 || text.replace(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g, '').trim().length > 1024) return [];
  const out: Finding[] = [];
  const inSsh = file.split(sep).includes('.ssh');
  for (const key of keys) {
    if (!key.encrypted && (key.openssh || inSsh)) {
      out.push({
        kind: 'ssh-key-unencrypted', file, line: key.line, target: `${key.label}, no passphrase`,
        advice: `keysmith ssh import ${file} --vault-only --remove-file (then keysmith ssh agent start), or ssh-keygen -p -f ${file}`, fixable: false,
      });
    }
  }
  if (mode & 0o077) {
    out.push({
      kind: 'private-key-mode', file, line: 0, target: `${keys[0]!.label}${keys[0]!.encrypted ? '' : ', no passphrase'}`, mode: mode.toString(8).padStart(4, '0'),
      advice: 'chmod 600 (scan --fix)', fixable: true,
    });
  }
  return out;
}
