import { parseReference, type Reference } from './references.js';

/** `{{ ks://NAME }}` or `{{ ks://NAME#field }}`, spaces inside the braces optional. */
const PLACEHOLDER = /\{\{\s*(ks:\/\/[^\s}]+)\s*\}\}/g;

/** The references a template uses (malformed ones are a usage error). */
export function templateReferences(template: Buffer): Reference[] {
  return [...template.toString('latin1').matchAll(PLACEHOLDER)].map((m) => parseReference(m[1]!));
}

/** Replaces each placeholder with its value; everything else is copied byte for byte. */
export function renderTemplate(template: Buffer, values: Map<string, Buffer>): Buffer {
  const text = template.toString('latin1'); // byte-preserving: placeholders are ASCII
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    parts.push(template.subarray(last, m.index), values.get(m[1]!)!);
    last = m.index + m[0].length;
  }
  parts.push(template.subarray(last));
  return Buffer.concat(parts);
}
