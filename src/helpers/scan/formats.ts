import { createHash, createPrivateKey } from 'node:crypto';
import { readOpenSshContainer } from '../../ssh/keys.js';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';

/**
 * Readers of other tools' credential files, each giving the plaintext credentials it holds as
 * findings: what they are for, where (file:line), and the value's length and hash prefix. The
 * values themselves ride along hidden (Hidden: never in JSON or util.inspect), for --fix only.
 */

export type FindingKind =
  | 'git-credentials' | 'netrc' | 'docker-auth' | 'aws-credentials' | 'kubeconfig-token' | 'kubeconfig-client-key'
  | 'kubeconfig-password' | 'npm-token' | 'pypi-password' | 'pgpass' | 'gh-token' | 'ssh-key-unencrypted' | 'private-key-mode';

/** Values a finding carries for --fix: left out of JSON.stringify and of console.log. */
export class Hidden {
  constructor(readonly values: Record<string, string>) {}
  toJSON(): undefined {
    return undefined;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[hidden]';
  }
}

export interface Finding {
  kind: FindingKind;
  file: string;
  /** 1-based; 0 when the finding is the whole file (a key's mode). */
  line: number;
  /** What the credential is for, without the credential: `https://alice@git.example.com`, `profile prod`. */
  target: string;
  /** The secret's length in characters, and for one of 16 or more the first 8 hex digits of its SHA-256. */
  length?: number;
  sha256?: string;
  /** The file's permission bits, octal, where they matter. */
  mode?: string;
  /** What to do about it, one line. */
  advice: string;
  /** `--fix` can move it into the vault and rewire the tool (or, for a mode, chmod it). */
  fixable: boolean;
  hidden?: Hidden;
}

/**
 * What may be shown of a value: its length, and for a long one (a token, a key: too much entropy
 * to guess) the first 8 hex digits of its SHA-256, to tell two apart. A short one (a password a
 * person chose) gets no hash: 32 bits of an unsalted hash would confirm a guess from a word list.
 */
export const fingerprint = (value: string) => {
  const length = [...value].length;
  return length >= 16 ? { length, sha256: createHash('sha256').update(value).digest('hex').slice(0, 8) } : { length };
};

/** Passwords that say "the user name is the token" (GitHub's https://TOKEN:x-oauth-basic@, GitLab's oauth2). */
const PLACEHOLDERS = new Set(['x-oauth-basic', 'x-oauth-token', 'x-token-auth', 'x-access-token']);

/**
 * A user name that is itself a credential: the password is a placeholder, or the name has a
 * token's shape (a known token prefix, or long and without a separator a person's name has).
 */
export function isTokenUser(user: string, password: string): boolean {
  return PLACEHOLDERS.has(password.toLowerCase()) || /^(gh[pousr]_|github_pat_|glpat-|glptt-|xox[abpors]-|AKIA|ASIA|npm_|pypi-)/.test(user) || (user.length >= 32 && !/[@.\s]/.test(user));
}

/** A path for a shell command in advice: quoted when it holds anything a shell would read. */
export const shellQuote = (path: string) => (/^[A-Za-z0-9_/.,:@%+=-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`);

const lineAt = (text: string, index: number) => (index < 0 ? 1 : text.slice(0, index).split('\n').length);

/** An env reference (`${NPM_TOKEN}`) or an empty value is not a plaintext secret. */
const isReference = (value: string) => value === '' || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value) || /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(value);

/** Percent-decoding as git's url_decode does it: each valid %XX is a byte, anything else stays as written. */
function percentDecode(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * git's credential-store file: one URL a line, `https://user:password@host[/path]`, each part
 * percent-encoded — the host too, its port's colon included (`127.0.0.1%3a8443`), as git writes
 * it — and read back as git's credential_from_url reads it.
 */
export function gitCredentials(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  text.split('\n').forEach((raw, i) => {
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:([^:@/]*):([^@/]*)@)?([^/]*)(?:\/(.*))?$/.exec(raw.replace(/\r$/, '').trim());
    if (!m || m[3] === undefined) return;
    const [protocol, username, password, host, path] = [m[1]!, percentDecode(m[2]!), percentDecode(m[3]), percentDecode(m[4]!), percentDecode(m[5] ?? '')];
    if (!password || !host) return;
    const token = isTokenUser(username, password);
    out.push({
      kind: 'git-credentials', file, line: i + 1, target: `${protocol}://${username && !token ? `${username}@` : ''}${host}${path ? `/${path}` : ''}${token ? ' (a token as the user name)' : ''}`,
      ...fingerprint(token ? username : password),
      advice: 'move it into keysmith, git credential.helper keysmith (scan --fix)', fixable: true,
      // The line as written: --fix takes out this line, wherever it is by then.
      hidden: new Hidden({ protocol, host, username, password, raw: raw.replace(/\r$/, ''), ...(path ? { path } : {}) }),
    });
  });
  return out;
}

/**
 * netrc (curl, ftp, git's netrc helper): `machine HOST login USER password PASS`, `default …`,
 * tokens split by white space, double quotes as curl reads them; `macdef` bodies run to a blank line.
 */
export function netrc(file: string, text: string): Finding[] {
  const tokens: Array<{ value: string; index: number }> = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m; (m = re.exec(text)); ) {
    // A # starts a comment to the end of the line (curl 7.84 on).
    if (m[2]?.startsWith('#')) {
      const end = text.indexOf('\n', m.index);
      re.lastIndex = end < 0 ? text.length : end;
      continue;
    }
    tokens.push({ value: m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!, index: m.index });
    if (m[2] === 'macdef') {
      // The body runs to an empty line, LF or CRLF.
      const end = /\r?\n[ \t]*\r?\n/g;
      end.lastIndex = re.lastIndex;
      re.lastIndex = end.exec(text) ? end.lastIndex : text.length;
    }
  }
  const out: Finding[] = [];
  let machine: string | undefined;
  let login: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!.value;
    if (t === 'machine') [machine, login] = [tokens[++i]?.value, undefined];
    else if (t === 'default') [machine, login] = ['', undefined];
    else if (t === 'login') login = tokens[++i]?.value;
    else if ((t === 'password' || t === 'account') && tokens[i + 1]) {
      const value = tokens[++i]!;
      if (t === 'password' && machine !== undefined && !isReference(value.value)) {
        const token = !!login && isTokenUser(login, value.value);
        out.push({
          kind: 'netrc', file, line: lineAt(text, value.index), target: `${machine === '' ? 'default' : `machine ${machine}`}${login && !token ? ` login ${login}` : ''}${token ? ' (a token as the login)' : ''}`, ...fingerprint(token ? login! : value.value),
          advice: 'no helper contract: keep it in keysmith (secret set), take it out of the file, pass it with keysmith exec', fixable: false,
        });
      }
    }
  }
  return out;
}

/** docker's config.json and containers' auth.json: `auths.<registry>.auth` (base64 user:password), `identitytoken`, `password`. */
export function dockerConfig(file: string, text: string): Finding[] {
  let config: { auths?: Record<string, { auth?: unknown; identitytoken?: unknown; password?: unknown; username?: unknown }> };
  try {
    config = JSON.parse(text) as typeof config;
  } catch {
    return [];
  }
  const out: Finding[] = [];
  if (!config || typeof config.auths !== 'object' || config.auths === null) return out;
  for (const [registry, entry] of Object.entries(config.auths)) {
    if (!entry || typeof entry !== 'object') continue;
    let username = typeof entry.username === 'string' ? entry.username : '';
    let secret = typeof entry.password === 'string' ? entry.password : '';
    if (typeof entry.auth === 'string' && entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) [username, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    }
    const line = lineAt(text, text.indexOf(JSON.stringify(registry)));
    const identity = typeof entry.identitytoken === 'string' && entry.identitytoken ? entry.identitytoken : '';
    // The helper protocol keeps one secret a registry: a password, or an identity token as Username "<token>".
    const both = !!secret && !!identity;
    if (secret) {
      out.push({
        kind: 'docker-auth', file, line, target: `${registry}${username ? ` (${username})` : ''}`, ...fingerprint(secret),
        advice: both ? 'it holds a password and an identity token: docker login again with one, then scan --fix' : 'move it into keysmith, credHelpers keysmith (scan --fix)', fixable: !both,
        hidden: new Hidden({ registry, username, secret }),
      });
    }
    if (identity) {
      out.push({
        kind: 'docker-auth', file, line, target: `${registry} (identity token)`, ...fingerprint(identity),
        advice: both ? 'it holds a password and an identity token: docker login again with one, then scan --fix' : 'move it into keysmith, credHelpers keysmith (scan --fix)', fixable: !both,
        hidden: new Hidden({ registry, username: '<token>', secret: identity }),
      });
    }
  }
  return out;
}

/** An INI section header as Python's configparser (the AWS CLI's, twine's) reads it: "[" first, up to the last "]", anything after ignored. */
export const iniHeader = (line: string): string | undefined => /^\[(.+)\]/.exec(line.replace(/\r$/, ''))?.[1]!.trim();

/** An INI file as its sections, each key with its value and line (the AWS CLI's and twine's reading: `key = value`, `#`/`;` comments). */
export function iniSections(text: string): Map<string, Map<string, { value: string; line: number }>> {
  const sections = new Map<string, Map<string, { value: string; line: number }>>();
  let current: Map<string, { value: string; line: number }> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const name = iniHeader(line);
    if (name !== undefined) {
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      return;
    }
    const kv = /^\s*([^#;=\s][^=]*?)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (kv && current) current.set(kv[1]!.toLowerCase(), { value: kv[2]!, line: i + 1 });
  });
  return sections;
}

/** ~/.aws/credentials: each profile with an aws_secret_access_key. */
export function awsCredentials(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  for (const [profile, keys] of iniSections(text)) {
    const secret = keys.get('aws_secret_access_key');
    if (!secret || isReference(secret.value)) continue;
    const id = keys.get('aws_access_key_id')?.value ?? '';
    const token = keys.get('aws_session_token')?.value;
    out.push({
      kind: 'aws-credentials', file, line: secret.line, target: `profile ${profile}${id ? ` (${id})` : ''}`, ...fingerprint(secret.value),
      advice: 'move it into keysmith, credential_process in ~/.aws/config (scan --fix)', fixable: !!id,
      hidden: new Hidden({ profile, accessKeyId: id, secretAccessKey: secret.value, ...(token ? { sessionToken: token } : {}) }),
    });
  }
  return out;
}

/** ~/.pypirc: each repository section with a password. */
export function pypirc(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  for (const [section, keys] of iniSections(text)) {
    const password = keys.get('password');
    if (!password || isReference(password.value)) continue;
    out.push({
      kind: 'pypi-password', file, line: password.line, target: `[${section}]${keys.get('username') ? ` (${keys.get('username')!.value})` : ''}`, ...fingerprint(password.value),
      advice: `no helper contract: keysmith secret set pypi/${section} -, then keysmith exec --env TWINE_PASSWORD=pypi/${section} -- twine upload …`, fixable: false,
    });
  }
  return out;
}

/** ~/.npmrc: `_authToken`, `_auth` and `_password`, bare or scoped to a registry (`//host/:_authToken=`); `${VAR}` is fine. */
export function npmrc(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  text.split('\n').forEach((raw, i) => {
    const m = /^\s*((?:\/\/[^\s=]*:)?)(_authToken|_auth|_password)\s*=\s*(.*?)\s*$/.exec(raw.replace(/\r$/, ''));
    if (!m || raw.trim().startsWith('#') || raw.trim().startsWith(';')) return;
    const value = m[3]!.replace(/^"(.*)"$/, '$1');
    if (isReference(value)) return;
    const registry = m[1] ? m[1].replace(/^\/\//, '').replace(/:$/, '') : 'default registry';
    out.push({
      kind: 'npm-token', file, line: i + 1, target: `${registry} ${m[2]}`, ...fingerprint(value),
      advice: `write ${m[1] || ''}${m[2]}=\${NPM_TOKEN} instead, and run npm through keysmith exec --env NPM_TOKEN=…`, fixable: false,
    });
  });
  return out;
}

/** ~/.pgpass: `host:port:database:user:password`, `\:` and `\\` escaped, `#` comments. */
export function pgpass(file: string, text: string): Finding[] {
  const out: Finding[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.startsWith('#')) return;
    const fields: string[] = [];
    let field = '';
    for (let j = 0; j < line.length; j++) {
      const c = line[j]!;
      if (c === '\\' && j + 1 < line.length) field += line[++j];
      else if (c === ':' && fields.length < 4) [fields[fields.length], field] = [field, ''];
      else field += c;
    }
    fields.push(field);
    if (fields.length < 5 || !fields[4]) return;
    const [host, port, db, user] = fields;
    out.push({
      kind: 'pgpass', file, line: i + 1, target: `${user}@${host}:${port}/${db}`, ...fingerprint(fields[4]),
      advice: 'no helper contract: keysmith secret set, then keysmith exec --env PGPASSWORD=… -- psql', fixable: false,
    });
  });
  return out;
}

/**
 * Nesting deeper than any credential file has: such a text is not parsed (the YAML parser's
 * stack and regular expressions grow with it; two very deep files ran V8 out of memory).
 */
function tooDeep(text: string): boolean {
  let flow = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++flow > 64) return true;
    } else if ((c === 0x5d || c === 0x7d) && flow > 0) flow--;
  }
  return /^(?:[ \t]*- ){64}|^[ \t]{512}/m.test(text);
}

/** Every YAML document of a file (kubectl reads them all), or none when it is not clean YAML. */
function yamlDocuments(text: string): { docs: Document[]; lines: LineCounter } {
  const lines = new LineCounter();
  if (tooDeep(text)) return { docs: [], lines };
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: false });
  return { docs: Array.isArray(docs) ? docs.filter((d) => d.errors.length === 0) : [], lines };
}

const lineOf = (node: YamlNode | null | undefined, lines: LineCounter) => (node?.range ? lines.linePos(node.range[0]).line : 1);

/**
 * A key of a map, or of what it merges in (`<<: *base`, as kubectl's YAML reader does), as a
 * node; aliases are looked up, never expanded (an alias bomb costs nothing).
 */
function member(doc: Document, map: unknown, key: string, depth = 0): unknown {
  if (!isMap(map) || depth > 8) return undefined;
  const own = map.get(key, true);
  if (own !== undefined) return isAlias(own) ? own.resolve(doc) : own;
  for (const pair of map.items) {
    if (!isScalar(pair.key) || pair.key.value !== '<<') continue;
    const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
    for (const source of sources) {
      const found = member(doc, isAlias(source) ? source.resolve(doc) : source, key, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

const text_ = (node: unknown) => (isScalar(node) && typeof node.value === 'string' && node.value ? node.value : undefined);

/** A kubeconfig: each user with a `token`, a `client-key-data` or a `password`. */
export function kubeconfig(file: string, text: string): Finding[] {
  const { docs, lines } = yamlDocuments(text);
  const out: Finding[] = [];
  for (const doc of docs) {
    const users = member(doc, doc.contents, 'users');
    if (!isSeq(users)) continue;
    for (const item of users.items as YamlNode[]) {
      const name = text_(member(doc, item, 'name')) ?? '';
      const user = member(doc, item, 'user');
      if (!isMap(user)) continue;
      const scalar = (key: string) => {
        const node = member(doc, user, key) as YamlNode | undefined;
        const value = text_(node);
        return value ? { value, line: lineOf(node, lines) } : undefined;
      };
      const token = scalar('token');
      if (token) {
        out.push({
          kind: 'kubeconfig-token', file, line: token.line, target: `user ${name}`, ...fingerprint(token.value),
          advice: 'move it into keysmith, an exec credential plugin (scan --fix)', fixable: true, hidden: new Hidden({ user: name, token: token.value }),
        });
      }
      const key = scalar('client-key-data');
      if (key) {
        const certificate = scalar('client-certificate-data');
        out.push({
          kind: 'kubeconfig-client-key', file, line: key.line, target: `user ${name}`, ...fingerprint(key.value),
          advice: 'move it into keysmith, an exec credential plugin (scan --fix)', fixable: !!certificate,
          hidden: new Hidden({ user: name, clientKeyData: key.value, ...(certificate ? { clientCertificateData: certificate.value } : {}) }),
        });
      }
      const password = scalar('password');
      if (password) {
        const username = scalar('username');
        out.push({
          kind: 'kubeconfig-password', file, line: password.line, target: `user ${name}${username ? ` (${username.value})` : ''}`, ...fingerprint(password.value),
          advice: 'basic auth is gone from Kubernetes 1.19 on: remove it, log in with a token or OIDC (keysmith oauth token --exec-credential)', fixable: false,
          hidden: new Hidden({ password: password.value }),
        });
      }
    }
  }
  return out;
}

/** gh's hosts.yml: `<host>.oauth_token`, and per user under `<host>.users.<user>.oauth_token` (gh 2.40+). */
export function ghHosts(file: string, text: string): Finding[] {
  const { docs, lines } = yamlDocuments(text);
  const out: Finding[] = [];
  for (const doc of docs.slice(0, 1)) {
    if (!isMap(doc.contents)) continue;
    const push = (host: string, user: string, node: unknown) => {
      const value = text_(node);
      if (!value) return;
      out.push({
        kind: 'gh-token', file, line: lineOf(node as YamlNode, lines), target: `${host}${user ? ` (${user})` : ''}`, ...fingerprint(value),
        advice: 'gh keeps it in the OS keyring when one answers: gh auth logout, then gh auth login (or GH_TOKEN through keysmith exec)', fixable: false,
      });
    };
    for (const pair of doc.contents.items) {
      const host = isScalar(pair.key) ? String(pair.key.value) : '';
      const entry = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
      if (!isMap(entry)) continue;
      push(host, text_(member(doc, entry, 'user')) ?? '', member(doc, entry, 'oauth_token'));
      const users = member(doc, entry, 'users');
      if (isMap(users)) {
        for (const u of users.items) push(host, isScalar(u.key) ? String(u.key.value) : '', member(doc, u.value, 'oauth_token'));
      }
    }
  }
  return out;
}

/**
 * The private keys in a PEM or OpenSSH text that open, and whether each needs a passphrase: an
 * OpenSSH key by its cipher name (PROTOCOL.key: "none" is plaintext), after its container reads
 * whole; a PEM or PKCS#8 key by whether OpenSSL opens it with an empty passphrase (a key
 * "encrypted" with an empty one is as open as a plain one). A block that opens in neither way
 * and asks for no passphrase is damaged: no key.
 */
export function privateKeys(text: string): Array<{ label: string; encrypted: boolean; openssh: boolean; line: number }> {
  const out: Array<{ label: string; encrypted: boolean; openssh: boolean; line: number }> = [];
  const re = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----([\s\S]*?)-----END \1-----/g;
  for (let m; (m = re.exec(text)); ) {
    const label = m[1]!;
    const line = lineAt(text, m.index);
    if (label === 'OPENSSH PRIVATE KEY') {
      try {
        const container = readOpenSshContainer(m[0]);
        if (container) out.push({ label, encrypted: container.cipher !== 'none', openssh: true, line });
      } catch {
        // damaged: no key
      }
    } else if (['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY'].includes(label)) {
      let encrypted: boolean;
      try {
        createPrivateKey({ key: m[0], format: 'pem', passphrase: '' });
        encrypted = false;
      } catch {
        encrypted = label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,\s*ENCRYPTED\s*$/m.test(m[2]!);
        if (!encrypted) continue;
      }
      out.push({ label, encrypted, openssh: false, line });
    }
  }
  return out;
}
