import type { CertificateInfo, RequestInfo } from '../../../tls/inspect.js';

/** The human view of an inspected certificate or request. */
export function renderInfo(item: CertificateInfo | RequestInfo): string {
  const sans = item.sans.map((s) => `${s.type.toUpperCase()}:${s.value}`).join(', ') || '-';
  const key = `${item.key.type}${item.key.bits ? ` ${item.key.bits} bits` : ''}${item.key.curve ? ` (${item.key.curve})` : ''}`;
  const rows: Array<[string, string | undefined]> =
    item.type === 'csr'
      ? [['request', item.subject], ['names', sans], ['key', key], ['signature', `${item.signatureAlgorithm} (${item.signatureValid ? 'valid' : 'INVALID'})`]]
      : [
          ['subject', item.subject],
          ['issuer', item.issuer + (item.selfSigned ? ' (self-signed)' : '')],
          ['names', sans],
          ['valid', `${item.notBefore} → ${item.notAfter}`],
          ['status', item.status === 'valid' ? `valid, ${item.daysLeft} days left` : item.status === 'expired' ? `EXPIRED ${-item.daysLeft} days ago` : 'NOT YET VALID'],
          ['serial', item.serial],
          ['key', key],
          ['signature', item.signatureAlgorithm],
          ['sha256', item.fingerprints.sha256],
          ['sha1', item.fingerprints.sha1],
          ['usage', item.keyUsage.join(', ') || '-'],
          ['ext usage', item.extKeyUsage.join(', ') || '-'],
          ['ca', item.basicConstraints ? `${item.basicConstraints.ca ? 'yes' : 'no'}${item.basicConstraints.pathLength !== undefined ? `, path length ${item.basicConstraints.pathLength}` : ''}` : '-'],
          ['ocsp', item.ocsp.join(', ') || undefined],
          ['ca issuers', item.caIssuers.join(', ') || undefined],
          ['crl', item.crl.join(', ') || undefined],
        ];
  return rows.filter(([, v]) => v !== undefined).map(([k, v]) => `${`${k}:`.padEnd(12)}${v}\n`).join('');
}
