import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { fetchChain, parseEndpoint } from './remote.js';

export type CheckStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export interface CheckResult {
  target: string;
  kind: 'file' | 'host';
  status: CheckStatus;
  /** Whole days until the earliest notAfter (negative once expired). */
  daysLeft: number | null;
  notAfter: string | null;
  subject: string | null;
  /** Whether the chain ends in a trusted root (system store, NODE_EXTRA_CA_CERTS, --ca-file). */
  trusted: boolean | null;
  /** Hosts only: whether the certificate names the host (or --servername). */
  hostnameMatch: boolean | null;
  /** Why the status is what it is, for people. */
  message: string;
}

/** A threshold: a time before expiry (`30d`, `12h`) or a share of the certificate's lifetime (`20%`). */
export type Threshold = { ms: number } | { percent: number };

export function parseThreshold(text: string, flag: string): Threshold {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (pct) {
    const percent = Number(pct[1]);
    if (percent <= 0 || percent >= 100) throw new UsageError(`${flag}: a percentage between 0 and 100`);
    return { percent };
  }
  return { ms: parseDuration(text, flag) };
}

function within(t: Threshold, notBefore: Date, notAfter: Date, now: Date): boolean {
  const left = notAfter.getTime() - now.getTime();
  return 'ms' in t ? left < t.ms : left < ((notAfter.getTime() - notBefore.getTime()) * t.percent) / 100;
}

export interface CheckOptions {
  warn: Threshold;
  crit: Threshold;
  concurrency: number;
  timeoutMs: number;
  servername?: string;
  /** Extra trusted roots (PEM). */
  caFile?: string;
  now: () => Date;
  /** Called after each target, for a progress line. */
  onProgress?: (done: number, total: number) => void;
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Roots: Node's bundled store, the OS bundle, NODE_EXTRA_CA_CERTS and --ca-file. */
async function trustedRoots(env: NodeJS.ProcessEnv, caFile: string | undefined): Promise<string[]> {
  const roots = [...rootCertificates];
  const extra = [...SYSTEM_BUNDLES, env.NODE_EXTRA_CA_CERTS, caFile].filter((f): f is string => !!f);
  for (const file of extra) {
    const text = await readFile(file, 'utf8').catch((err) => {
      if (file === caFile) throw new UsageError(`--ca-file: cannot read ${file}: ${(err as Error).message}`);
      return '';
    });
    roots.push(...(text.match(PEM_CERT) ?? []));
  }
  if (caFile && !(await readFile(caFile, 'utf8')).match(PEM_CERT)) throw new UsageError(`--ca-file: no PEM certificate in ${caFile}`);
  return [...new Set(roots.map((r) => r.trim()))]; // the OS bundle and NODE_EXTRA_CA_CERTS often repeat Node's own
}

/** Expands `*`, `?` and `**` in file targets (the shell may not have). */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const parts = pattern.split('/');
  const out: string[] = [];
  const toRegex = (seg: string) => new RegExp(`^${seg.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  const walk = async (dir: string, i: number): Promise<void> => {
    if (i === parts.length) {
      if ((await stat(dir).catch(() => null))?.isFile()) out.push(dir);
      return;
    }
    const seg = parts[i]!;
    if (!/[*?[]/.test(seg)) return walk(i === 0 && seg === '' ? '/' : join(dir, seg), i + 1);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    if (seg === '**') {
      await walk(dir, i + 1);
      for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), i);
      return;
    }
    const re = toRegex(seg);
    for (const e of entries) if (re.test(e.name) && !e.name.startsWith('.')) await walk(join(dir, e.name), i + 1);
  };
  await walk(pattern.startsWith('/') ? '/' : '.', pattern.startsWith('/') ? 1 : 0);
  return out.sort().map((p) => (pattern.startsWith('./') || pattern.startsWith('/') ? p : p.replace(/^\.\//, '')));
}

function classify(certs: X509Certificate[], now: Date, o: CheckOptions, trusted: boolean | null, hostnameMatch: boolean | null): Pick<CheckResult, 'status' | 'daysLeft' | 'notAfter' | 'subject' | 'message'> {
  const result = (status: CheckStatus, message: string) => ({ status, ...base, message });
  const leaf = certs[0]!;
  // The earliest expiry of the chain counts: an intermediate can expire first.
  const soonest = certs.reduce((a, c) => (new Date(c.validTo) < new Date(a.validTo) ? c : a), leaf);
  const notAfter = new Date(soonest.validTo);
  const notBefore = new Date(soonest.validFrom);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  const subject = leaf.subject.split('\n').join(', ');
  const base = { daysLeft, notAfter: notAfter.toISOString(), subject };
  const which = soonest === leaf ? '' : ` (${soonest.subject.split('\n').join(', ')})`;
  if (now > notAfter) return result('CRITICAL', `expired ${-daysLeft} day(s) ago${which}`);
  if (certs.some((c) => new Date(c.validFrom) > now)) return result('CRITICAL', 'not yet valid');
  if (hostnameMatch === false) return result('CRITICAL', 'certificate does not match the host name');
  if (trusted === false) return result('CRITICAL', 'chain is not trusted');
  if (within(o.crit, notBefore, notAfter, now)) return result('CRITICAL', `expires in ${daysLeft} day(s)${which}`);
  if (within(o.warn, notBefore, notAfter, now)) return result('WARNING', `expires in ${daysLeft} day(s)${which}`);
  return result('OK', `${daysLeft} day(s) left`);
}

/** Roots by subject, so that finding a certificate's issuer is one lookup, not a scan. */
function indexRoots(pems: string[]): Map<string, X509Certificate[]> {
  const index = new Map<string, X509Certificate[]>();
  for (const pem of pems) {
    const cert = new X509Certificate(pem);
    index.set(cert.subject, [...(index.get(cert.subject) ?? []), cert]);
  }
  return index;
}

/**
 * Follows issuers through the certificates given (a file's bundle, or what a server sent) to a
 * trusted root: each issuer must be a CA and its signature must verify.
 */
function chainTrusted(certs: X509Certificate[], roots: Map<string, X509Certificate[]>): boolean {
  let current = certs[0]!;
  for (let depth = 0; depth < 10; depth++) {
    if ((roots.get(current.issuer) ?? []).some((r) => r.ca && current.verify(r.publicKey))) return true;
    const next = certs.find((c) => c !== current && c.ca && c.subject === current.issuer && current.verify(c.publicKey));
    if (!next) return false;
    current = next;
  }
  return false;
}

/**
 * Checks certificate files and live TLS endpoints: expiry against thresholds, chain trust, host
 * name. Bounded concurrency and a per-target timeout: a dead host is UNKNOWN, never a hang.
 * @example const results = await checkExpiry(['example.com', 'certs/*.pem'], { warn: { ms: 30 * 864e5 }, … })
 */
export async function checkExpiry(targets: string[], o: CheckOptions, env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const expanded: string[] = [];
  /** Files a glob found: one holding no certificate (a key beside it) is passed over, not UNKNOWN. */
  const fromGlob = new Set<string>();
  for (const t of targets) {
    const files = /^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? [t] : await expandGlob(t);
    if (files.length === 0) throw new UsageError(`${t}: no file matches`);
    if (files.length > 1 || files[0] !== t) for (const f of files) fromGlob.add(f);
    expanded.push(...files);
  }
  const roots = indexRoots(await trustedRoots(env, o.caFile));
  // Trust is decided here, from the chain the server sends, as for files. A context trusting one
  // unrelated root keeps Node from also building its own detailed copy of every chain (a quarter of
  // a millisecond per endpoint).
  const context = createSecureContext({ ca: rootCertificates[0] });
  const results: Array<CheckResult | undefined> = new Array(expanded.length);
  let next = 0;
  let done = 0;
  const one = async (target: string): Promise<CheckResult | undefined> => {
    const now = o.now();
    const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
    const isFile = !isUrl && (await stat(target).then((s) => s.isFile(), () => false));
    const kind = isFile || (!isUrl && /[/\\]|\.(pem|crt|cer)$/i.test(target)) ? 'file' : 'host';
    const unknown = (message: string): CheckResult => ({ target, kind, status: 'UNKNOWN', daysLeft: null, notAfter: null, subject: null, message, trusted: null, hostnameMatch: null });
    try {
      if (kind === 'file') {
        const text = await readFile(target, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new UsageError(err.code === 'ENOENT' ? 'no such file' : err.message);
        });
        const pems = text.match(PEM_CERT);
        if (!pems) return fromGlob.has(target) ? undefined : unknown('no PEM certificate in the file');
        const certs = pems.map((p) => new X509Certificate(p));
        const trusted = chainTrusted(certs, roots);
        return { target, kind, ...classify(certs, now, o, trusted, null), trusted, hostnameMatch: null };
      }
      const endpoint = parseEndpoint(target);
      const servername = o.servername ?? (/^[\d.:]+$/.test(endpoint.host) ? undefined : endpoint.host);
      const peer = await fetchChain({ ...endpoint, ...(servername ? { servername } : {}) }, { timeoutMs: o.timeoutMs, secureContext: context });
      if (peer.chain.length === 0) return unknown('the server sent no certificate');
      const certs = peer.chain;
      const trusted = chainTrusted(certs, roots);
      const name = servername ?? endpoint.host;
      const hostnameMatch = (isIP(name) ? certs[0]!.checkIP(name) : certs[0]!.checkHost(name)) !== undefined;
      return { target, kind, ...classify(certs, now, o, trusted, hostnameMatch), trusted, hostnameMatch };
    } catch (err) {
      if (err instanceof Error) return unknown(err.message.replace(`${target}: `, ''));
      throw err;
    } finally {
      o.onProgress?.(++done, expanded.length);
    }
  };
  const worker = async () => {
    while (next < expanded.length) {
      const i = next++;
      results[i] = await one(expanded[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, expanded.length) }, worker));
  return results.filter((r): r is CheckResult => r !== undefined);
}

/** The monitoring-plugin exit code: CRITICAL 2 over UNKNOWN 3 over WARNING 1 over OK 0. */
export function overallStatus(results: CheckResult[]): CheckStatus {
  for (const s of ['CRITICAL', 'UNKNOWN', 'WARNING'] as const) if (results.some((r) => r.status === s)) return s;
  return 'OK';
}

export const STATUS_CODES: Record<CheckStatus, number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };
