import { createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeBlob, fingerprintSha256 } from './keys.js';

export type HostKeyVerdict =
  | { status: 'match' }
  | { status: 'unknown' }
  | { status: 'revoked' }
  | { status: 'mismatch'; known: string[] };

/** How known_hosts names a host: `host` on port 22, `[host]:port` elsewhere. */
export const hostKeyName = (host: string, port: number) => (port === 22 ? host : `[${host}]:${port}`);

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

/** Whether a comma-separated host field names `name` (a negated pattern that matches wins). */
function hostsMatch(field: string, name: string): boolean {
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) matched = true;
  }
  return matched;
}

export interface KnownKey {
  marker?: '@revoked' | '@cert-authority';
  type: string;
  blob: string;
}

/** The keys known_hosts lists for a host (plain and hashed entries). */
export function keysFor(text: string, host: string, port: number): KnownKey[] {
  const name = hostKeyName(host, port);
  const out: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const marker = parts[0] === '@revoked' || parts[0] === '@cert-authority' ? (parts.shift() as KnownKey['marker']) : undefined;
    const [hosts, type, blob] = parts;
    if (!hosts || !type || !blob || !hostsMatch(hosts, name)) continue;
    out.push(marker ? { marker, type, blob } : { type, blob });
  }
  return out;
}

/** What known_hosts says about the key a host presents. A revoked key is refused even when also listed. */
export function verifyHostKey(text: string, host: string, port: number, presented: Buffer): HostKeyVerdict {
  const blob = presented.toString('base64');
  const keys = keysFor(text, host, port);
  if (keys.some((k) => k.marker === '@revoked' && k.blob === blob)) return { status: 'revoked' };
  const plain = keys.filter((k) => !k.marker);
  if (plain.some((k) => k.blob === blob)) return { status: 'match' };
  if (plain.length === 0) return { status: 'unknown' };
  return { status: 'mismatch', known: plain.map((k) => `${k.type} ${fingerprintSha256(Buffer.from(k.blob, 'base64'))}`) };
}

/**
 * Checks a host certificate (from the host itself) as OpenSSH's check_host_cert does: signed by a
 * CA that known_hosts trusts for this host (`@cert-authority`), neither it nor the key `@revoked`,
 * not signed with ssh-rsa (SHA-1), a host certificate, valid now, naming the host (lower-cased)
 * exactly among its principals (none: any host; a pattern is not expanded, as OpenSSH 9.2's ssh
 * does not), no critical options. Gives the certified key, which the host must then present.
 */
export function checkHostCertificate(text: string, host: string, port: number, certificate: Buffer, now: Date): { key: Buffer } | { error: string } {
  let parsed: ReturnType<typeof describeBlob>;
  try {
    parsed = describeBlob(certificate);
  } catch (err) {
    return { error: `a malformed certificate (${(err as Error).message})` };
  }
  const cert = parsed.certificate;
  if (!cert) return { error: 'not a certificate' };
  const entries = caEntries(text, host, port);
  const ca = cert.signatureKey.blob.toString('base64');
  const caName = fingerprintSha256(cert.signatureKey.blob);
  const revoked = new Set([ca, parsed.blob.toString('base64'), certificate.toString('base64')]);
  if (entries.some((k) => k.marker === '@revoked' && revoked.has(k.blob))) return { error: `the certificate, its key or its CA ${caName} is revoked` };
  if (!entries.some((k) => k.marker === '@cert-authority' && k.blob === ca)) return { error: `signed by ${caName}, which known_hosts does not trust for this host` };
  // ssh's default CASignatureAlgorithms leaves out ssh-rsa (SHA-1).
  if (cert.signatureType === 'ssh-rsa') return { error: 'signed with ssh-rsa (SHA-1), which ssh no longer accepts for certificates' };
  if (cert.type !== 'host') return { error: 'a user certificate, not a host certificate' };
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  if (seconds < cert.validAfter) return { error: 'not valid yet' };
  if (seconds >= cert.validBefore) return { error: 'expired' };
  // ssh compares the host name lower-cased, and principals as they are.
  if (cert.principals.length > 0 && !cert.principals.includes(host.toLowerCase())) return { error: `issued for ${cert.principals.join(', ')}, not ${host}` };
  if (Object.keys(cert.criticalOptions).length > 0) return { error: 'it has critical options, which host certificates may not have' };
  return { key: parsed.blob };
}

/**
 * The lines that can vouch for a host by certificate: those for `[host]:port`, and on another
 * port than 22 also those naming the host without its port, as ssh finds them ("found matching
 * key w/out port").
 */
export function caEntries(text: string, host: string, port: number): KnownKey[] {
  const entries = keysFor(text, host, port);
  return port === 22 ? entries : [...entries, ...keysFor(text, host, 22).filter((k) => k.marker)];
}

export async function readKnownHosts(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
}

/** Records a host key, like StrictHostKeyChecking=accept-new. */
export async function addKnownHost(path: string, host: string, port: number, keyType: string, blob: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const existing = await readKnownHosts(path);
  const sep = existing === '' || existing.endsWith('\n') ? '' : '\n';
  await appendFile(path, `${sep}${hostKeyName(host, port)} ${keyType} ${blob.toString('base64')}\n`, { mode: 0o644 });
}
