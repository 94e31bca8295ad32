/**
 * PEM blocks, found in linear time. A regular expression like /BEGIN[\s\S]*?END/g rescans the rest of
 * the text from every BEGIN that has no END: 80,000 BEGIN lines took 34 s. Here the END markers are
 * indexed in one pass, and a BEGIN whose body holds another marker is skipped past it.
 */
export interface PemBlock {
  label: string;
  /** The base64 body, whitespace removed. */
  base64: string;
}

const LABEL = /^[A-Z0-9 ]{1,64}$/;

/** Positions of `-----<word> LABEL-----` markers, by label, in order. */
function markers(text: string, word: 'BEGIN' | 'END'): Array<{ label: string; start: number; end: number }> {
  const found: Array<{ label: string; start: number; end: number }> = [];
  const prefix = `-----${word} `;
  for (let at = text.indexOf(prefix); at >= 0; at = text.indexOf(prefix, at + 1)) {
    const close = text.indexOf('-----', at + prefix.length);
    if (close < 0) break;
    const label = text.slice(at + prefix.length, close);
    if (LABEL.test(label)) found.push({ label, start: at, end: close + 5 });
  }
  return found;
}

export function pemBlocks(text: string): PemBlock[] {
  const ends = new Map<string, number[]>();
  for (const m of markers(text, 'END')) ends.set(m.label, [...(ends.get(m.label) ?? []), m.start]);
  const next = new Map<string, number>(); // per label, the first END not yet passed
  const blocks: PemBlock[] = [];
  let from = 0;
  for (const begin of markers(text, 'BEGIN')) {
    if (begin.start < from) continue;
    const list = ends.get(begin.label) ?? [];
    let i = next.get(begin.label) ?? 0;
    while (i < list.length && list[i]! < begin.end) i++;
    next.set(begin.label, i);
    if (i === list.length) continue;
    const body = text.slice(begin.end, list[i]!);
    // Another marker inside: this BEGIN was garbage. Carry on from the last BEGIN inside (every
    // BEGIN before it has it in its body too), else after the last marker inside.
    if (body.includes('-----')) {
      const inner = body.lastIndexOf('-----BEGIN ');
      from = begin.end + (inner >= 0 ? inner : body.lastIndexOf('-----') + 5);
      continue;
    }
    blocks.push({ label: begin.label, base64: body.replace(/\s+/g, '') });
    from = list[i]! + begin.label.length + 14;
  }
  return blocks;
}

/** The certificates' base64 bodies (CERTIFICATE, X509 CERTIFICATE) of a PEM text. */
export function pemCertificates(text: string): string[] {
  return pemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE')
    .map((b) => b.base64);
}
