import { X509Certificate } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { certificateInfo, readCertificateLines, type CertificateInfo } from '../ssh/certificates.js';
import { checkExpiry, overallStatus, STATUS_CODES, type CheckOptions, type CheckResult, type CheckStatus } from '../tls/check.js';
import { findSecret } from '../vault/secrets.js';
import type { SecretInfo, Vault } from '../vault/types.js';

/**
 * The expiry radar: every credential keysmith holds or watches that ends on a date, soonest
 * first, each with its status against the thresholds and the command that renews it.
 */

export type RadarKind = 'tls' | 'ssh' | 'oauth' | 'secret';
export const RADAR_KINDS: RadarKind[] = ['tls', 'ssh', 'oauth', 'secret'];

export interface RadarItem {
  kind: RadarKind;
  /** What it is: `tls-cert`, `tls-ca`, `tls-watch`, `ssh-key`, `ssh-cert`, `oauth-refresh-token`, `oauth-client-secret`, or a secret's kind. */
  type: string;
  name: string;
  /** Where it lives: the vault record, the file or the endpoint. */
  where: string;
  /** ISO 8601; null when it could not be read (a watched endpoint that is down). */
  ends: string | null;
  /** Whole days left, rounded down (negative once ended). */
  daysLeft: number | null;
  status: CheckStatus;
  message: string;
  /** The command that renews it, for a person or for `--renew`. */
  renew: string;
  /** `expiry --renew` can renew it without a person. */
  automatic: boolean;
}

export interface RadarOptions {
  warnMs: number;
  critMs: number;
  now: Date;
  kinds?: RadarKind[];
  /** The watched files and endpoints, checked as `tls check` checks them (not called when there are none); a target that cannot be checked is an UNKNOWN result. */
  watched?: () => Promise<CheckResult[]>;
}

const DAY = 86_400_000;

/** What a record says of its end: `meta.expires`, or `meta.rotateEvery` (ms) counted from its last change. */
export function plannedEnd(meta: Record<string, unknown> | undefined, since: string): Date | undefined {
  if (typeof meta?.expires === 'string') return new Date(meta.expires);
  if (typeof meta?.rotateEvery === 'number') return new Date(new Date(since).getTime() + meta.rotateEvery);
  return undefined;
}

function judge(ends: Date, o: RadarOptions): { status: CheckStatus; daysLeft: number; message: string } {
  const left = ends.getTime() - o.now.getTime();
  const daysLeft = Math.floor(left / DAY);
  const ago = Math.floor(-left / DAY);
  if (left <= 0) return { status: 'CRITICAL', daysLeft, message: ago === 0 ? 'ended today' : `ended ${ago} day(s) ago` };
  return { status: left < o.critMs ? 'CRITICAL' : left < o.warnMs ? 'WARNING' : 'OK', daysLeft, message: `${daysLeft} day(s) left` };
}

/** The `exp` of a JWT refresh token, if it is one (most are opaque: then nothing). */
function jwtExpiry(token: string): Date | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    // Dates JavaScript can hold; anything else is no end a person could mean.
    return typeof exp === 'number' && Number.isFinite(exp) && Math.abs(exp) < 8.64e12 ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** The certificate beside an SSH key (`KEY-cert.pub`, where ssh looks for it), if there is one that reads. */
function sshCertificate(keyPath: string, now: Date): CertificateInfo | undefined {
  let text: string;
  let fd: number | undefined;
  try {
    // A regular file only (a FIFO there would block the whole report), and a certificate's size.
    fd = openSync(`${keyPath}-cert.pub`, constants.O_RDONLY | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(64 * 1024);
    text = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const first = readCertificateLines(text)[0];
  return first && 'key' in first ? certificateInfo(first.key, now) : undefined;
}

export async function radar(vault: Vault, o: RadarOptions): Promise<RadarItem[]> {
  const kinds = new Set(o.kinds ?? RADAR_KINDS);
  const items: RadarItem[] = [];
  const infos = await vault.list();
  // SSH CAs by fingerprint, to name the one that signed a certificate.
  const sshCas = new Map(infos.filter((i) => i.kind === 'ssh-ca').map((i) => [i.name, i.name.slice('ssh-ca/'.length)]));
  const caNames = new Map<string, string>();
  for (const [record, name] of sshCas) {
    const fingerprint = (await findSecret(vault, record))?.meta?.fingerprint;
    if (typeof fingerprint === 'string') caNames.set(fingerprint, name);
  }
  const add = (item: Omit<RadarItem, 'daysLeft' | 'status' | 'message' | 'ends'>, ends: Date, message?: string) => {
    const verdict = judge(ends, o);
    items.push({ ...item, ends: ends.toISOString(), ...verdict, ...(message ? { message: `${verdict.message}; ${message}` } : {}) });
  };
  const look = async (info: SecretInfo): Promise<void> => {
    const record = await findSecret(vault, info.name);
    if (!record) return;
    const meta = record.meta as Record<string, unknown> | undefined;
    if (record.kind === 'tls-cert' && kinds.has('tls') && typeof meta?.certificate === 'string') {
      const files = meta.files as { certificate?: string } | undefined;
      // Named as its files are (example.test+1; the record writes + as _).
      const stem = files?.certificate ? basename(files.certificate).replace(/\.pem$/, '') : info.name.slice('tls/cert/'.length);
      const names = Array.isArray(meta.names) ? (meta.names as Array<{ value: string }>).map((n) => n.value) : [];
      add({
        kind: 'tls', type: 'tls-cert', name: stem, where: files?.certificate ?? info.name,
        renew: files?.certificate ? `keysmith tls renew ${stem}` : `keysmith tls issue ${names.join(' ')} --ca ${String(meta.ca)} --force`,
        automatic: !!files?.certificate,
      }, new Date(new X509Certificate(meta.certificate).validTo));
    } else if (record.kind === 'tls-ca' && kinds.has('tls') && typeof meta?.certificate === 'string') {
      const name = info.name.slice('tls/ca/'.length);
      add({ kind: 'tls', type: 'tls-ca', name, where: info.name, renew: `keysmith tls ca create ${name}-next, then issue from it and trust it where ${name} is trusted`, automatic: false }, new Date(new X509Certificate(meta.certificate).validTo));
    } else if (record.kind === 'ssh-key' && kinds.has('ssh')) {
      const ends = plannedEnd(meta, String(meta?.rotated ?? meta?.created ?? record.created));
      const name = info.name.slice('ssh/'.length);
      if (ends) add({ kind: 'ssh', type: 'ssh-key', name, where: String(meta?.path ?? info.name), renew: `keysmith ssh rotate ${name}`, automatic: Array.isArray(meta?.hosts) && meta.hosts.length > 0 }, ends, 'rotation due');
      const cert = typeof meta?.path === 'string' ? sshCertificate(meta.path, o.now) : undefined;
      if (cert?.validBefore && /^\d{4}-/.test(cert.validBefore)) {
        const ca = caNames.get(cert.signingCa.fingerprint);
        const principals = cert.principals.length ? `--principals ${cert.principals.join(',')}` : '--any-principal';
        add({
          kind: 'ssh', type: 'ssh-cert', name, where: `${String(meta!.path)}-cert.pub`,
          renew: `keysmith ssh ca sign ${ca ?? 'CA'} ${String(meta!.path)}.pub ${principals}${cert.type === 'host' ? ' --host' : ''} --valid …`, automatic: false,
        }, new Date(cert.validBefore), ca ? `signed by ${ca}` : `signed by ${cert.signingCa.fingerprint}`);
      }
    } else if (record.kind === 'oauth-tokens' && kinds.has('oauth')) {
      const name = info.name.slice('oauth/'.length);
      const ends = record.fields.refresh_token ? jwtExpiry(record.fields.refresh_token) : undefined;
      // A refresh renews it where the provider rotates refresh tokens; else a login does.
      if (ends) add({ kind: 'oauth', type: 'oauth-refresh-token', name, where: info.name, renew: `keysmith expiry --renew (a refresh), else keysmith oauth login ${name}`, automatic: true }, ends);
      const secretEnds = typeof meta?.clientSecretExpires === 'string' ? new Date(meta.clientSecretExpires) : undefined;
      if (secretEnds) add({ kind: 'oauth', type: 'oauth-client-secret', name, where: info.name, renew: `a new client secret from the provider, then keysmith oauth add ${name} … --client-secret-stdin`, automatic: false }, secretEnds);
    } else if (kinds.has('secret') && !['tls-cert', 'tls-ca', 'ssh-key', 'oauth-tokens'].includes(record.kind)) {
      const ends = plannedEnd(meta, record.updated);
      if (ends) add({ kind: 'secret', type: record.kind, name: info.name, where: info.name, renew: `keysmith secret set ${info.name}${meta?.rotateEvery ? '' : ' --expires DATE'}`, automatic: false }, ends, meta?.rotateEvery ? 'rotation due' : undefined);
    }
  };
  for (const info of infos) {
    try {
      await look(info);
    } catch (err) {
      // One record that cannot be read (a certificate that does not parse, a date out of range) is one UNKNOWN row.
      items.push({ kind: 'secret', type: info.kind, name: info.name, where: info.name, ends: null, daysLeft: null, status: 'UNKNOWN', message: `cannot read its end: ${(err as Error).message.split('\n')[0]!.slice(0, 120)}`, renew: `keysmith secret get ${info.name} --json`, automatic: false });
    }
  }
  if (kinds.has('tls') && o.watched) {
    const seen = new Set<string>();
    for (const r of await o.watched()) {
      // A file two patterns name is one row (and one Prometheus series).
      if (seen.has(r.target)) continue;
      seen.add(r.target);
      items.push({
        kind: 'tls', type: 'tls-watch', name: r.target, where: r.target, ends: r.notAfter, daysLeft: r.daysLeft, status: r.status, message: r.message,
        renew: `renew it where it is issued, then keysmith tls check ${r.target}`, automatic: false,
      });
    }
  }
  // Soonest first; what could not be read (no date) last, then by name.
  return items.sort((a, b) => (a.ends === b.ends ? 0 : a.ends === null ? 1 : b.ends === null ? -1 : a.ends < b.ends ? -1 : 1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The watched targets through `tls check`'s validator. A target that cannot be checked at all (a
 * glob that matches nothing today) is one UNKNOWN row, not the end of the report.
 */
export async function checkWatched(targets: string[], o: CheckOptions, env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  try {
    return await checkExpiry(targets, o, env);
  } catch {
    const out: CheckResult[] = [];
    for (const target of targets) {
      try {
        out.push(...(await checkExpiry([target], o, env)));
      } catch (err) {
        out.push({ target, kind: 'file', status: 'UNKNOWN', daysLeft: null, notAfter: null, subject: null, message: (err as Error).message.split('\n')[0]!, trusted: null, trustError: null, hostnameMatch: null, ocsp: null });
      }
    }
    return out;
  }
}

/** The worst status, for the exit code, ranked as `tls check` ranks them: CRITICAL, UNKNOWN, WARNING, OK. */
export function worst(items: RadarItem[]): CheckStatus {
  return overallStatus(items);
}

const label = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * The node_exporter textfile-collector format (Prometheus text exposition format 0.0.4): the end
 * of each item as a Unix time, and its status as 0 ok, 1 warning, 2 critical, 3 unknown.
 */
export function prometheus(items: RadarItem[]): string {
  const lines = [
    '# HELP keysmith_credential_expiry_timestamp_seconds When the credential ends, as a Unix time.',
    '# TYPE keysmith_credential_expiry_timestamp_seconds gauge',
    ...items.filter((i) => i.ends).map((i) => `keysmith_credential_expiry_timestamp_seconds{kind="${label(i.type)}",name="${label(i.name)}"} ${Math.floor(Date.parse(i.ends!) / 1000)}`),
    '# HELP keysmith_credential_status The credential\'s status: 0 ok, 1 warning, 2 critical, 3 unknown.',
    '# TYPE keysmith_credential_status gauge',
    ...items.map((i) => `keysmith_credential_status{kind="${label(i.type)}",name="${label(i.name)}"} ${STATUS_CODES[i.status]}`),
  ];
  return `${lines.join('\n')}\n`;
}
