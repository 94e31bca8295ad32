import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../errors.js';

export type SanType = 'dns' | 'ip' | 'email' | 'url';
export interface San {
  type: SanType;
  value: string;
}

const DNS = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * `net.isIP`, but an IPv6 address always has a colon: a name without one never reaches Node's
 * IPv6 regular expression, which takes 3–7 ms to compile on first use (most of a `tls issue`'s own
 * start-up cost besides ASN.1). Checked against `net.isIP` in test/unit/tls/names.test.ts.
 */
export function isIP(text: string): 0 | 4 | 6 {
  if (!text.includes(':')) return isIPv4(text) ? 4 : 0;
  return isIPv6(text) ? 6 : 0;
}

/**
 * What a name on the command line is: an IP address, an email address, a URI (has a scheme), or
 * a DNS name (a leading `*.` wildcard allowed), like mkcert.
 */
export function parseSan(text: string): San {
  if (isIP(text)) return { type: 'ip', value: text };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    if (URL.canParse(text)) return { type: 'url', value: text };
  }
  if (/^[^@\s]+@[^@\s]+$/.test(text)) return { type: 'email', value: text };
  if (DNS.test(text) && text.length <= 253) return { type: 'dns', value: text.toLowerCase() };
  throw new UsageError(`not a host name, IP address, email address or URI: ${JSON.stringify(text)}`, undefined, 'ERR_TLS_BAD_NAME');
}

/** The file stem mkcert would use: first name, `*` as `_wildcard`, `+N` for the other names. */
export function fileStem(names: string[]): string {
  const first = names[0]!.replace(/^\*/, '_wildcard').replace(/[:/]/g, '_');
  return names.length > 1 ? `${first}+${names.length - 1}` : first;
}
