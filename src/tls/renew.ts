import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { ensurePrivateDir, withFileLock, writeFileAtomic } from '../fs.js';
import { findSecret } from '../vault/secrets.js';
import type { Vault } from '../vault/types.js';
import { loadCa } from './ca.js';
import { certRecordName, issueCertificate, recordIssued, type IssuedCertificate, type IssueParameters } from './issue.js';

export interface RenewResult {
  name: string;
  status: 'renewed' | 'not-due' | 'cannot';
  /** The end of the certificate now in place. */
  notAfter: string;
  /** Why it was not renewed. */
  reason?: string;
}

/**
 * Issues a certificate keysmith issued again, when it ends within `beforeMs` (or always with
 * `force`): the same names, CA (a local one, or the ACME directory and challenge), key type,
 * lifetime and usages, a new key, written over the same files (key first, each atomically) and
 * kept in the vault as before. A certificate recorded without its files (issued before keysmith
 * kept them) cannot be renewed in place. A failure leaves the old certificate and key in place.
 */
export async function renewIssued(vault: Vault, stem: string, o: { now: Date; beforeMs: number; force?: boolean; dryRun?: boolean; env: NodeJS.ProcessEnv }): Promise<RenewResult> {
  const record = await findSecret(vault, certRecordName(stem));
  const meta = record?.meta as (Partial<IssueParameters> & { certificate?: string; ca?: string; names?: Array<{ value: string }> }) | undefined;
  if (record?.kind !== 'tls-cert' || !meta?.certificate) return { name: stem, status: 'cannot', notAfter: '', reason: `no issued certificate named ${stem}` };
  const notAfter = new Date(new X509Certificate(meta.certificate).validTo);
  if (!o.force && notAfter.getTime() - o.now.getTime() >= o.beforeMs) return { name: stem, status: 'not-due', notAfter: notAfter.toISOString() };
  if (!meta.files || !meta.ca || !meta.names || (meta.days === undefined && !meta.acme)) {
    return { name: stem, status: 'cannot', notAfter: notAfter.toISOString(), reason: 'issued before keysmith kept its files: issue it again with tls issue --force' };
  }
  if (o.dryRun) return { name: stem, status: 'renewed', notAfter: notAfter.toISOString(), reason: 'dry run: nothing written' };
  const names = meta.names.map((n) => n.value);
  const key = meta.key ?? 'ec:p256';
  let issuer: { name: string; chain: string[] };
  let issued: IssuedCertificate;
  if (meta.acme) {
    const { issueAcme } = await import('./acme.js');
    const got = await issueAcme(vault, names, { ...meta.acme, key, env: o.env });
    [issued, issuer] = [got, { name: 'acme', chain: got.chain }];
  } else {
    const ca = await loadCa(vault, meta.ca);
    issued = await issueCertificate(ca, names, { key, days: meta.days, client: !!meta.client, now: o.now });
    issuer = { name: ca.name, chain: [ca.certificatePem] };
  }
  await writeFileAtomic(meta.files.key, issued.keyPem!, { overwrite: true, throughSymlink: true });
  await writeFileAtomic(meta.files.certificate, meta.acme ? [issued.certificatePem, ...issuer.chain].join('') : issued.certificatePem, { overwrite: true, throughSymlink: true, mode: 0o644 });
  const { files, days, client, acme } = meta;
  await recordIssued(vault, stem, issuer, issued, o.now, { files, key, ...(acme ? { acme } : { days, client: !!client }) });
  return { name: stem, status: 'renewed', notAfter: issued.notAfter.toISOString() };
}

/**
 * Runs `fn` holding the renewal lock (`<data>/renew.lock`): two renewals at once, two cron jobs say,
 * take turns, and the second finds the certificates renewed. It waits up to 15 minutes.
 */
export async function renewing<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(dataDir);
  return withFileLock(join(dataDir, 'renew'), fn, { timeoutMs: 15 * 60_000 });
}
