import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { createSecureContext, rootCertificates } from 'node:tls';
import { glob } from 'tinyglobby';
import { parseDuration } from '../duration.js';
import { KeysmithError, UsageError } from '../errors.js';
import { MAX_PEM_BYTES } from './pem.js';
import { fetchChain, parseEndpoint } from './remote.js';
import type { OcspStatus } from './ocsp.js';
import type { Cert as CertType, ServerVerdict, TrustError } from './validate.js';
import { isIP } from './names.js';
import { mapLimit } from '../concurrency.js';

export type CheckStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export interface CheckResult {
  target: string;
  kind: 'file' | 'host';
  status: CheckStatus;
  /** Whole days until the earliest notAfter (negative once expired). */
  daysLeft: number | null;
  notAfter: string | null;
  subject: string | null;
  /** Why the status is what it is, for people. */
  message: string;
  /** Whether the chain validates to a trusted root (null: not checked, --no-verify). */
  trusted: boolean | null;
  /** The rule the chain breaks and the certificate that breaks it, when not trusted. */
  trustError: TrustError | null;
  /** Hosts only: whether the certificate names the host (or --servername); null when not checked. */
  hostnameMatch: boolean | null;
  /** With `ocsp`: the leaf's revocation status, or why it could not be had; null when not asked. */
  ocsp: OcspResult | null;
}

/** A verified OCSP answer, or why there is none (`none`: the certificate names no responder). */
export type OcspResult = OcspStatus | { status: 'unavailable' | 'invalid' | 'none'; message: string };

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
  /** false: expiry only; trust and host name are not checked (reported as null). */
  verify?: boolean;
  /** Check revocation: a stapled response from hosts, else the responder in the leaf's AIA. */
  ocsp?: boolean;
  /** The STARTTLS protocol for bare `host:port` targets (URL schemes such as smtp:// say it themselves). */
  starttls?: string;
  /** The clock; every target is judged at this time (`--at` moves it). */
  now: () => Date;
  /** Called after each target, for a progress line. */
  onProgress?: (done: number, total: number) => void;
}

const DOT_ENTRY = /(^|\/)\.[^./]/;

/**
 * Expands a file target as bash with globstar would (`*`, `?`, `[!…]`, `**`, `{a,b}`; dot entries
 * only when named), for shells that did not: files only, symlinks followed. A path with no glob
 * characters is returned as it is.
 */
export async function expandGlob(pattern: string): Promise<string[]> {
  if (!/[*?[{]/.test(pattern)) return [pattern];
  const files = await glob(pattern, { onlyFiles: true, expandDirectories: false, absolute: isAbsolute(pattern), followSymbolicLinks: true });
  // picomatch lets `[!a]` match a leading dot; bash never does unless the pattern writes the dot.
  const dotNamed = DOT_ENTRY.test(pattern);
  return files
    .filter((f) => dotNamed || !DOT_ENTRY.test(f))
    .sort()
    .map((f) => (pattern.startsWith('./') ? `./${f}` : f));
}

function classify(certs: CertType[], now: Date, o: CheckOptions, verdict: ServerVerdict | null, ocsp: OcspResult | null): Pick<CheckResult, 'status' | 'daysLeft' | 'notAfter' | 'subject' | 'message'> {
  const result = (status: CheckStatus, message: string) => ({ status, ...base, message });
  const leaf = certs[0]!;
  // The earliest expiry of the chain counts, the root included once it is known: an intermediate can expire first.
  const chain = verdict?.trusted ? verdict.path : certs;
  const subject = leaf.subject.split('\n').join(', ');
  try {
    for (const c of certs) void [c.notBefore, c.notAfter];
  } catch (err) {
    // A validity that is not RFC 5280's UTCTime or GeneralizedTime: no dates, and never OK.
    const why = verdict && !verdict.trusted ? `not trusted: ${verdict.trustError!.message}` : `malformed validity (${(err as Error).message})`;
    return { status: verdict ? 'CRITICAL' : 'UNKNOWN', daysLeft: null, notAfter: null, subject, message: why };
  }
  const soonest = chain.reduce((a, c) => (c.notAfter < a.notAfter ? c : a), leaf);
  const { notAfter, notBefore } = soonest;
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
  const base = { daysLeft, notAfter: notAfter.toISOString(), subject };
  const which = soonest === leaf ? '' : ` (${soonest.label})`;
  if (now > notAfter) return result('CRITICAL', `expired ${-daysLeft} day(s) ago${which}`);
  const early = certs.find((c) => c.notBefore > now);
  if (early) return result('CRITICAL', `not yet valid${early === leaf ? '' : ` (${early.label})`}`);
  if (verdict && !verdict.trusted) return result('CRITICAL', `not trusted: ${verdict.trustError!.message}`);
  if (verdict?.hostnameMatch === false) return result('CRITICAL', 'certificate does not match the host name');
  if (ocsp?.status === 'revoked') return result('CRITICAL', `revoked ${ocsp.revokedAt}${ocsp.reason ? ` (${ocsp.reason})` : ''}, says the OCSP ${ocsp.source === 'stapled' ? 'response the server stapled' : `responder ${ocsp.responder}`}`);
  if (within(o.crit, notBefore, notAfter, now)) return result('CRITICAL', `expires in ${daysLeft} day(s)${which}`);
  if (within(o.warn, notBefore, notAfter, now)) return result('WARNING', `expires in ${daysLeft} day(s)${which}`);
  // An OCSP answer that could not be had is never silently OK.
  if (ocsp?.status === 'unknown') return result('WARNING', `OCSP: ${ocsp.source === 'stapled' ? 'the stapled response' : `the responder ${ocsp.responder}`} does not know the certificate`);
  if (ocsp && 'message' in ocsp && ocsp.status !== 'none') return result('WARNING', `OCSP: ${ocsp.message}`);
  return result('OK', `${daysLeft} day(s) left${ocsp?.status === 'good' ? ', not revoked (OCSP)' : ocsp && 'message' in ocsp ? ` (OCSP not checked: ${ocsp.message})` : ''}`);
}


/**
 * A certificate file's bytes, or why it is not read: a FIFO would never end and /dev/zero never stop,
 * so only regular files of a sane size are. Opened without blocking (a FIFO would block the open
 * itself), then judged by fstat on the open file. Synchronous on purpose: for thousands of small
 * files, four thread-pool round trips each cost more than the reads (5,000 files: 2.3 s → 1.65 s).
 */
function readBundle(path: string): Buffer | string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return info.isDirectory() ? 'is a folder' : 'not a regular file';
    if (info.size > MAX_PEM_BYTES) return `larger than ${MAX_PEM_BYTES / 1024 / 1024} MiB: not a certificate bundle`;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

const isUrl = (t: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(t);

/**
 * Checks certificate files and live TLS endpoints: expiry against thresholds, and (unless
 * `verify: false`) trust by RFC 5280 path validation and the host name — one validator for files
 * and hosts alike. Bounded concurrency and a per-target timeout: a dead host is UNKNOWN, never a hang.
 * @example const results = await checkExpiry(['example.com', 'certs/*.pem'], { warn: { ms: 30 * 864e5 }, … })
 */
export async function checkExpiry(targets: string[], o: CheckOptions, env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  const expanded: string[] = [];
  /** Files a glob found: one holding no certificate (a key beside it) is passed over, not UNKNOWN. */
  const fromGlob = new Set<string>();
  for (const t of targets) {
    const files = isUrl(t) ? [t] : await expandGlob(t);
    if (files.length === 0) throw new UsageError(`${t}: no file matches`);
    if (files.length > 1 || files[0] !== t) for (const f of files) fromGlob.add(f);
    expanded.push(...files);
  }
  const { verifyServer, parseCertificates, Cert } = await import('./validate.js'); // loaded only when checking
  const store = o.verify === false ? null : await (await import('./roots.js')).loadTrustStore(env, o.caFile);
  // Trust is decided by our validator, from the chain the server sends, as for files. A context
  // trusting one unrelated root keeps Node from also building its own detailed copy of every chain.
  const context = createSecureContext({ ca: rootCertificates[0] });
  /** Certificates met before in this run, by base64 (files) or fingerprint (hosts). */
  const certCache = new Map<string, CertType>();
  let done = 0;
  const one = async (target: string): Promise<CheckResult | undefined> => {
    const now = o.now();
    const isFile = fromGlob.has(target) || (!isUrl(target) && (await stat(target).then((s) => s.isFile(), () => false)));
    const kind = isFile || (!isUrl(target) && /[/\\]|\.(pem|crt|cer)$/i.test(target)) ? 'file' : 'host';
    const unknown = (message: string): CheckResult => ({ target, kind, status: 'UNKNOWN', daysLeft: null, notAfter: null, subject: null, message, trusted: null, trustError: null, hostnameMatch: null, ocsp: null });
    const judge = async (certs: CertType[], host: string | null, staple?: Uint8Array): Promise<CheckResult> => {
      const verdict = store ? await verifyServer(certs, store, { at: now, host }) : null;
      const ocsp = o.ocsp ? await revocation(certs, verdict, { staple, timeoutMs: o.timeoutMs, now }) : null;
      return { target, kind, ...classify(certs, now, o, verdict, ocsp), trusted: verdict?.trusted ?? null, trustError: verdict?.trustError ?? null, hostnameMatch: verdict?.hostnameMatch ?? null, ocsp };
    };
    try {
      if (kind === 'file') {
        const bytes = readBundle(target);
        if (typeof bytes === 'string') return unknown(bytes);
        let certs: CertType[];
        try {
          certs = parseCertificates(bytes, certCache);
        } catch (err) {
          return unknown(`malformed certificate (${(err as Error).message})`);
        }
        if (certs.length === 0) return fromGlob.has(target) ? undefined : unknown('no PEM certificate in the file');
        return await judge(certs, null);
      }
      const endpoint = parseEndpoint(target, o.starttls);
      const servername = o.servername ?? (isIP(endpoint.host) ? undefined : endpoint.host);
      const peer = await fetchChain({ ...endpoint, ...(servername ? { servername } : {}) }, { timeoutMs: o.timeoutMs, secureContext: context, requestOcsp: o.ocsp === true });
      if (peer.chain.length === 0) return unknown('the server sent no certificate');
      // Servers behind one CA send the same intermediates: each is parsed once.
      const certs = peer.chain.map((c) => {
        const cert = certCache.get(c.fingerprint256) ?? new Cert(c);
        certCache.set(c.fingerprint256, cert);
        return cert;
      });
      return await judge(certs, servername ?? endpoint.host, peer.ocspResponse);
    } catch (err) {
      if (err instanceof Error) return unknown(err.message.replace(`${target}: `, ''));
      throw err;
    } finally {
      o.onProgress?.(++done, expanded.length);
    }
  };
  const results = await mapLimit(expanded, o.concurrency, one);
  return results.filter((r): r is CheckResult => r !== undefined);
}

/**
 * The leaf's OCSP status, for the chain `certs` as sent and its `verdict` (null: not verified). The
 * issuer is the validated path's, else the next certificate sent.
 */
export async function revocation(certs: CertType[], verdict: Pick<ServerVerdict, 'trusted' | 'path'> | null, options: { staple?: Uint8Array; timeoutMs: number; now: Date }): Promise<OcspResult> {
  const trusted = verdict?.trusted === true;
  const [leaf, issuer] = [certs[0]!, trusted ? verdict!.path[1] : certs[1]];
  if (!issuer) return { status: 'invalid', message: 'cannot check revocation without the issuer certificate (the chain has only the leaf)' };
  // The responder's URL comes from the certificate: keysmith asks it only for a chain it trusts, so an
  // untrusted certificate cannot send keysmith's requests wherever it likes. A staple costs no request.
  if (!options.staple && !trusted) return { status: 'none', message: 'the responder was not asked: the chain is not trusted (or not verified)' };
  const { checkOcsp } = await import('./ocsp.js');
  try {
    return await checkOcsp(leaf.der, issuer.der, { ...(options.staple ? { staple: options.staple } : {}), timeoutMs: options.timeoutMs, now: options.now });
  } catch (err) {
    if (!(err instanceof KeysmithError)) throw err;
    const status = err.code === 'ERR_TLS_OCSP_NO_URL' ? 'none' : err.kind === 'unavailable' ? 'unavailable' : 'invalid';
    return { status, message: err.message };
  }
}

/** The monitoring-plugin exit code: CRITICAL 2 over UNKNOWN 3 over WARNING 1 over OK 0. */
export function overallStatus(results: ReadonlyArray<{ status: CheckStatus }>): CheckStatus {
  for (const s of ['CRITICAL', 'UNKNOWN', 'WARNING'] as const) if (results.some((r) => r.status === s)) return s;
  return 'OK';
}

export const STATUS_CODES: Record<CheckStatus, number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };
