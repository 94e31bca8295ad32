/**
 * PEM blocks as OpenSSL's PEM reader sees them (RFC 7468's strict form): a BEGIN line that starts
 * the line, base64 lines, the matching END line; anything else between blocks is passed over. So
 * keysmith reads the certificates OpenSSL, nginx and Node would serve from the same file — not a
 * block commented out with `#`, indented, or with garbage in its base64 — and in linear time: a
 * regular expression over the whole text took 34 s on 80,000 BEGIN lines.
 */
import { UsageError } from '../errors.js';
import { readTlv } from './der.js';

/** The most keysmith reads as certificates, keys or a list of targets (the Mozilla root store is 0.2 MiB). */
export const MAX_PEM_BYTES = 16 * 1024 * 1024;

export interface PemBlock {
  label: string;
  /** The base64 body, line breaks removed. */
  base64: string;
}

const BEGIN = /^-----BEGIN ([A-Z0-9]+(?: [A-Z0-9]+)*)-----[ \t]*$/;
/** Base64, with the spaces and tabs OpenSSL's decoder skips. */
const BASE64_LINE = /^[A-Za-z0-9+/= \t]*$/;

/** A block whose body is not base64 (or has headers): the file is damaged, as OpenSSL would say. */
export class PemError extends UsageError {
  constructor(message: string) {
    super(message, undefined, 'ERR_TLS_MALFORMED');
  }
}

export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const begin = BEGIN.exec(lines[i]!.replace(/\r$/, ''));
    if (!begin) continue;
    const label = begin[1]!;
    const end = `-----END ${label}-----`;
    const body: string[] = [];
    let j = i + 1;
    let badEnd = false;
    for (; j < lines.length; j++) {
      const line = lines[j]!.replace(/\r$/, '');
      if (line.startsWith('-----END ')) {
        // Only the exact END line closes the block; OpenSSL drops a block whose END line is anything else.
        badEnd = line.trimEnd() !== end;
        break;
      }
      if (!BASE64_LINE.test(line)) throw new PemError(`a ${label} block whose body is not base64 (line ${j + 1})`);
      body.push(line.replace(/[ \t]+/g, ''));
    }
    if (j === lines.length) return blocks; // no END: OpenSSL stops here too
    if (badEnd) {
      i = j;
      continue;
    }
    const base64 = body.join('');
    if (base64.length % 4 !== 0 || /=[^=]/.test(base64)) throw new PemError(`a ${label} block whose base64 is cut or padded inside (line ${i + 1})`);
    blocks.push({ label, base64 });
    i = j;
  }
  return blocks;
}

/**
 * The certificates of a PEM text, as base64 of their DER: CERTIFICATE, X509 CERTIFICATE and, as
 * OpenSSL reads them, TRUSTED CERTIFICATE (the certificate without OpenSSL's trust settings after it).
 */
export function pemCertificates(text: string): string[] {
  return pemBlocks(text).flatMap((b) => {
    if (b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE') return [b.base64];
    if (b.label !== 'TRUSTED CERTIFICATE') return [];
    const der = Buffer.from(b.base64, 'base64');
    return [der.subarray(0, readTlv(der).bytes.length).toString('base64')];
  });
}
