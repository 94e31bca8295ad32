import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';

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
  /** The secret's length in characters and the first 8 hex digits of its SHA-256. */
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

export const fingerprint = (value: string) => ({ length: [...value].length, sha256: createHash('sha256').update(value).digest('hex').slice(0, 8) });

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
    out.push({
      kind: 'git-credentials', file, line: i + 1, target: `${protocol}://${username ? `${username}@` : ''}${host}${path ? `/${path}` : ''}`, ...fingerprint(password),
      advice: 'move it into keysmith, git credential.helper keysmith (scan --fix)', fixable: true,
      hidden: new Hidden({ protocol, host, username, password, ...(path ? { path } : {}) }),
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
    tokens.push({ value: m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!, index: m.index });
    if (m[2] === 'macdef') {
      const end = text.indexOf('\n\n', re.lastIndex);
      re.lastIndex = end < 0 ? text.length : end;
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
        out.push({
          kind: 'netrc', file, line: lineAt(text, value.index), target: `${machine === '' ? 'default' : `machine ${machine}`}${login ? ` login ${login}` : ''}`, ...fingerprint(value.value),
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
    // An identity token is a refresh token for the registry; the helper protocol carries it as Username "<token>".
    if (typeof entry.identitytoken === 'string' && entry.identitytoken) [username, secret] = ['<token>', entry.identitytoken];
    if (!secret) continue;
    out.push({
      kind: 'docker-auth', file, line: lineAt(text, text.indexOf(JSON.stringify(registry))), target: `${registry}${username && username !== '<token>' ? ` (${username})` : username ? ' (identity token)' : ''}`, ...fingerprint(secret),
      advice: 'move it into keysmith, credHelpers keysmith (scan --fix)', fixable: true, hidden: new Hidden({ registry, username, secret }),
    });
  }
  return out;
}

/** An INI file as its sections, each key with its value and line (the AWS CLI's and twine's reading: `key = value`, `#`/`;` comments). */
export function iniSections(text: string): Map<string, Map<string, { value: string; line: number }>> {
  const sections = new Map<string, Map<string, { value: string; line: number }>>();
  let current: Map<string, { value: string; line: number }> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
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

function yamlDocument(text: string): { doc: Document; lines: LineCounter } | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  return doc.errors.length > 0 ? undefined : { doc, lines };
}

const lineOf = (node: YamlNode | null | undefined, lines: LineCounter) => (node?.range ? lines.linePos(node.range[0]).line : 1);

/** A kubeconfig: each user with a `token`, a `client-key-data` or a `password`. */
export function kubeconfig(file: string, text: string): Finding[] {
  const parsed = yamlDocument(text);
  if (!parsed) return [];
  const { doc, lines } = parsed;
  const users = doc.get('users', true);
  const out: Finding[] = [];
  if (!isSeq(users)) return out;
  for (const item of users.items as YamlNode[]) {
    if (!isMap(item)) continue;
    const name = String(item.get('name') ?? '');
    const user = item.get('user', true);
    if (!isMap(user)) continue;
    const scalar = (key: string) => {
      const node = user.get(key, true);
      return isScalar(node) && typeof node.value === 'string' && node.value ? { value: node.value, line: lineOf(node, lines) } : undefined;
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
      out.push({
        kind: 'kubeconfig-password', file, line: password.line, target: `user ${name}${scalar('username') ? ` (${scalar('username')!.value})` : ''}`, ...fingerprint(password.value),
        advice: 'basic auth is gone from Kubernetes 1.19 on: remove it, log in with a token or OIDC (keysmith oauth token --exec-credential)', fixable: false,
      });
    }
  }
  return out;
}

/** gh's hosts.yml: `<host>.oauth_token`, and per user under `<host>.users.<user>.oauth_token` (gh 2.40+). */
export function ghHosts(file: string, text: string): Finding[] {
  const parsed = yamlDocument(text);
  if (!parsed || !isMap(parsed.doc.contents)) return [];
  const { doc, lines } = parsed;
  const out: Finding[] = [];
  const push = (host: string, user: string, node: unknown) => {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value) return;
    out.push({
      kind: 'gh-token', file, line: lineOf(node, lines), target: `${host}${user ? ` (${user})` : ''}`, ...fingerprint(node.value),
      advice: 'gh keeps it in the OS keyring when one answers: gh auth logout, then gh auth login (or GH_TOKEN through keysmith exec)', fixable: false,
    });
  };
  for (const pair of (doc.contents as { items: Array<{ key: unknown; value: unknown }> }).items) {
    const host = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!isMap(pair.value)) continue;
    const entry = pair.value;
    push(host, String(entry.get('user') ?? ''), entry.get('oauth_token', true));
    const users = entry.get('users', true);
    if (isMap(users)) {
      for (const u of users.items) {
        if (isMap(u.value)) push(host, isScalar(u.key) ? String(u.key.value) : '', u.value.get('oauth_token', true));
      }
    }
  }
  return out;
}

/**
 * The private keys in a PEM or OpenSSH text, and whether each is encrypted: an OpenSSH key by its
 * cipher name (PROTOCOL.key: "none" is plaintext), PKCS#1/SEC1 by `Proc-Type: 4,ENCRYPTED`
 * (RFC 1421), PKCS#8 by its label (`ENCRYPTED PRIVATE KEY`, RFC 5958). A block that does not
 * decode is no key.
 */
export function privateKeys(text: string): Array<{ label: string; encrypted: boolean; openssh: boolean; line: number }> {
  const out: Array<{ label: string; encrypted: boolean; openssh: boolean; line: number }> = [];
  const re = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----([\s\S]*?)-----END \1-----/g;
  for (let m; (m = re.exec(text)); ) {
    const label = m[1]!;
    const body = m[2]!;
    const line = lineAt(text, m.index);
    if (label === 'OPENSSH PRIVATE KEY') {
      const bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
      const magic = Buffer.from('openssh-key-v1\0');
      if (bytes.length < magic.length + 4 || !bytes.subarray(0, magic.length).equals(magic)) continue;
      const n = bytes.readUInt32BE(magic.length);
      if (n === 0 || n > 64 || magic.length + 4 + n > bytes.length) continue;
      const cipher = bytes.subarray(magic.length + 4, magic.length + 4 + n).toString('latin1');
      out.push({ label, encrypted: cipher !== 'none', openssh: true, line });
    } else if (label === 'ENCRYPTED PRIVATE KEY') {
      out.push({ label, encrypted: true, openssh: false, line });
    } else if (['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'DSA PRIVATE KEY'].includes(label)) {
      out.push({ label, encrypted: /^Proc-Type:\s*4,\s*ENCRYPTED\s*$/m.test(body), openssh: false, line });
    }
  }
  return out;
}
