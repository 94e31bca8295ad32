/**
 * authorized_keys edits that keep every other line — options, comments, spacing, line endings —
 * byte for byte.
 */
const KEY_TYPE = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-\S+@openssh\.com|\S+-cert-v01@openssh\.com)$/;

/** The key blob (base64) of an authorized_keys line, or undefined for comments, blanks and junk. */
export function lineBlob(line: string): string | undefined {
  const text = line.trim();
  if (!text || text.startsWith('#')) return undefined;
  const tokens: string[] = [];
  // Split on whitespace outside double quotes (options may hold quoted spaces).
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (/\s/.test(ch) && !quoted) {
      if (current) tokens.push(current);
      current = '';
    } else current += ch;
  }
  if (current) tokens.push(current);
  const at = KEY_TYPE.test(tokens[0] ?? '') ? 0 : KEY_TYPE.test(tokens[1] ?? '') ? 1 : -1;
  return at < 0 ? undefined : tokens[at + 1];
}

function lines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

export function hasKey(text: string, blobBase64: string): boolean {
  return lines(text).some((l) => lineBlob(l) === blobBase64);
}

/** Appends `line` unless a line with the same key is there already. */
export function addKey(text: string, line: string, blobBase64: string): { text: string; added: boolean } {
  if (hasKey(text, blobBase64)) return { text, added: false };
  const sep = text === '' || text.endsWith('\n') ? '' : '\n';
  return { text: `${text}${sep}${line}\n`, added: true };
}

/** Removes every line holding this key, whatever its options or comment. */
export function removeKey(text: string, blobBase64: string): { text: string; removed: number } {
  const all = lines(text);
  const kept = all.filter((l) => lineBlob(l) !== blobBase64);
  return { text: kept.join(''), removed: all.length - kept.length };
}
