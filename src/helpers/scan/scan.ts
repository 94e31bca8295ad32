import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { awsCredentials, dockerConfig, ghHosts, gitCredentials, kubeconfig, netrc, npmrc, pgpass, privateKeys, pypirc, shellQuote, type Finding } from './formats.js';

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

/** Files are read for keys up to this size; a key is far smaller. */
const MAX_BYTES = 256 * 1024;
/** A tool's credential file is read whole up to this (a kubeconfig with many clusters runs to megabytes). */
const MAX_CREDENTIAL_BYTES = 32 * 1024 * 1024;

export interface ScanOptions {
  /** Folders not to enter (keysmith's own data). */
  exclude?: string[];
  /**
   * Called for what cannot be read: a path given that does not exist (`root`), a folder or file
   * that refuses, a credential file too big. The scan goes on.
   */
  onError?: (path: string, reason: string, root: boolean) => void;
}

/**
 * Walks the roots. Links are not followed, but for a tool's credential file kept as a link (a
 * dotfiles checkout): its target is read when it is a regular file owned by the link's owner.
 * Roots themselves are followed (a HOME that is a link).
 */
export function scan(roots: string[], o: ScanOptions = {}): Finding[] {
  const excluded = new Set((o.exclude ?? []).map((p) => resolve(p)));
  const findings: Finding[] = [];
  const buffer = Buffer.alloc(MAX_BYTES);
  const seen = new Set<string>();
  const fail = (path: string, err: unknown, root = false) => o.onError?.(path, (err as NodeJS.ErrnoException).code ?? (err as Error).message, root);
  const visitFile = (path: string, follow: boolean, root = false) => {
    if (seen.has(path)) return;
    seen.add(path);
    const reader = readerFor(path);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (follow ? 0 : constants.O_NOFOLLOW));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOOP') fail(path, err, root);
      return;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size === 0) return;
      if (follow && !root && st.uid !== lstatSync(path).uid) return;
      let text: string;
      if (st.size <= MAX_BYTES) text = buffer.toString('utf8', 0, readSync(fd, buffer, 0, MAX_BYTES, 0));
      else if (reader && st.size <= MAX_CREDENTIAL_BYTES) {
        const big = Buffer.alloc(st.size);
        text = big.toString('utf8', 0, readSync(fd, big, 0, st.size, 0));
      } else {
        if (reader) o.onError?.(path, `too big to read (${st.size} bytes)`, root);
        return;
      }
      if (reader) findings.push(...reader(path, text));
      if (st.size <= MAX_BYTES && text.includes('PRIVATE KEY-----')) findings.push(...keyFindings(path, text, st.mode & 0o777));
    } catch (err) {
      fail(path, err, root);
    } finally {
      closeSync(fd);
    }
  };
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      fail(dir, err);
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED.has(e.name) && !excluded.has(path)) walk(path);
      } else if (e.isFile()) visitFile(path, false);
      else if (e.isSymbolicLink() && readerFor(path)) visitFile(path, true);
    }
  };
  for (const root of roots.map((r) => resolve(r))) {
    let st;
    try {
      st = statSync(root);
    } catch (err) {
      fail(root, err, true);
      continue;
    }
    if (st.isDirectory()) walk(root);
    else visitFile(root, true, true);
  }
  return findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

/**
 * A file with private keys: unencrypted OpenSSH keys (and PEM keys under .ssh) are to move into
 * the vault; a private key others can read is to chmod 600 (OpenSSH refuses such a key:
 * "UNPROTECTED PRIVATE KEY FILE", sshkey_perm_ok, for any group or other bit).
 */
function keyFindings(file: string, text: string, mode: number): Finding[] {
  const inSsh = file.split(sep).includes('.ssh');
  // A key file: under .ssh, or one that starts as key files do (a PEM block, openssl's Bag
  // Attributes), or PEM blocks and little else. A page that quotes a key among prose is not one.
  const keyFile = inSsh || /^\s*(-----BEGIN |Bag Attributes|Key Attributes)/.test(text) || text.replace(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g, '').trim().length <= 1024;
  if (!keyFile) return [];
  const keys = privateKeys(text);
  if (keys.length === 0) return [];
  const out: Finding[] = [];
  for (const key of keys) {
    if (!key.encrypted && (key.openssh || inSsh)) {
      out.push({
        kind: 'ssh-key-unencrypted', file, line: key.line, target: `${key.label}, no passphrase`,
        advice: `keysmith ssh import ${shellQuote(file)} --vault-only --remove-file (then keysmith ssh agent start), or ssh-keygen -p -f ${shellQuote(file)}`, fixable: false,
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
