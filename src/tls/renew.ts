import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { childEnvironment } from '../child-env.js';
import { ensurePrivateDir, readIfExists, withFileLock, writeFileAtomic } from '../fs.js';
import { findSecret } from '../vault/secrets.js';
import type { Vault } from '../vault/types.js';
import { loadCa } from './ca.js';
import { certRecordName, issueCertificate, recordIssued, type IssuedCertificate, type IssueParameters } from './issue.js';

export interface RenewResult {
  name: string;
  /** The certificate file, when keysmith knows it. */
  file?: string;
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
  await writePair(meta.files, issued.keyPem!, meta.acme ? [issued.certificatePem, ...issuer.chain].join('') : issued.certificatePem);
  const { files, days, client, acme } = meta;
  await recordIssued(vault, stem, issuer, issued, o.now, { files, key, ...(acme ? { acme } : { days, client: !!client }) });
  return { name: stem, file: files.certificate, status: 'renewed', notAfter: issued.notAfter.toISOString() };
}

/**
 * Writes a key and its certificate over the old pair, so that they never end up mismatched: the
 * key first, then the certificate; if the certificate cannot be written, the old key goes back.
 * A file that is a link is written through only when the link is the user's own (a dotfiles or
 * /etc/nginx layout); another's link is replaced, never followed.
 */
async function writePair(files: { certificate: string; key: string }, keyPem: string, certificatePem: string): Promise<void> {
  const own = async (path: string) => {
    const st = await lstat(path).catch(() => undefined);
    return !!st?.isSymbolicLink() && st.uid === process.getuid?.();
  };
  const oldKey = await readIfExists(files.key);
  await writeFileAtomic(files.key, keyPem, { overwrite: true, throughSymlink: await own(files.key) });
  try {
    await writeFileAtomic(files.certificate, certificatePem, { overwrite: true, throughSymlink: await own(files.certificate), mode: 0o644 });
  } catch (err) {
    if (oldKey) await writeFileAtomic(files.key, oldKey, { overwrite: true, throughSymlink: await own(files.key) });
    throw err;
  }
}

/** Runs a deploy hook (`sh -c`) once after renewals: RENEWED_CERTIFICATES holds the certificate files, one a line. The error, or undefined. */
export function runDeployHook(hook: string, files: string[], env: NodeJS.ProcessEnv): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', hook], { stdio: ['ignore', 2, 2], env: { ...childEnvironment(env), RENEWED_CERTIFICATES: files.join('\n') } });
    child.on('error', (err) => resolve(err.message));
    child.on('close', (code, signal) => resolve(code === 0 ? undefined : `exit ${code ?? signal}`));
  });
}

/**
 * Runs `fn` holding the renewal lock (`<data>/renew.lock`): two renewals at once, two cron jobs say,
 * take turns, and the second finds the certificates renewed. It waits up to 15 minutes.
 */
export async function renewing<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  await ensurePrivateDir(dataDir);
  return withFileLock(join(dataDir, 'renew'), fn, { timeoutMs: 15 * 60_000 });
}
