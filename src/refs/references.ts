import { NotFoundError, UsageError } from '../errors.js';
import { validateName } from '../vault/names.js';
import { valueBytes } from '../vault/record.js';
import type { SecretRecord, Vault } from '../vault/types.js';

/** `ks://NAME` or `ks://NAME#field`. */
export interface Reference {
  text: string;
  name: string;
  field?: string;
}

const REF = /^ks:\/\/([^#\s]+)(?:#([A-Za-z0-9._-]+))?$/;

export function parseReference(text: string): Reference {
  const m = REF.exec(text);
  if (!m) throw new UsageError(`malformed reference ${JSON.stringify(text)} (expected ks://NAME or ks://NAME#field)`, undefined, 'ERR_REF_MALFORMED');
  validateName(m[1]!);
  return m[2] === undefined ? { text, name: m[1]! } : { text, name: m[1]!, field: m[2] };
}

/** A value that is a reference or a bare secret name (as in `--env VAR=db/password`). */
export function referenceOrName(text: string): Reference {
  return text.startsWith('ks://') ? parseReference(text) : parseReference(`ks://${text}`);
}

/**
 * Resolves a record of a kind whose value is not the record's value as stored (an OAuth record
 * gives a fresh access token). Areas register theirs; the default is the stored value.
 */
export type KindResolver = (name: string, record: SecretRecord) => Promise<Uint8Array | string>;

/**
 * Reads every reference from the vault before anything runs, so one that is missing fails the
 * whole command (not found, exit 3) and names the reference.
 */
export async function resolveReferences(vault: Vault, refs: Reference[], resolvers: Record<string, KindResolver> = {}): Promise<Map<string, Buffer>> {
  const values = new Map<string, Buffer>();
  const records = new Map<string, Promise<SecretRecord>>();
  for (const ref of refs) {
    if (values.has(ref.text)) continue;
    if (!records.has(ref.name)) records.set(ref.name, vault.get(ref.name));
    let record: SecretRecord;
    try {
      record = await records.get(ref.name)!;
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`${ref.text}: no secret named ${ref.name}`, { cause: err }, 'ERR_REF_NOT_FOUND');
      throw err;
    }
    if (ref.field !== undefined) {
      const field = record.fields[ref.field];
      if (field === undefined) throw new NotFoundError(`${ref.text}: ${ref.name} has no field ${JSON.stringify(ref.field)}`, undefined, 'ERR_REF_NOT_FOUND');
      values.set(ref.text, Buffer.from(field));
    } else {
      const resolver = resolvers[record.kind];
      values.set(ref.text, resolver ? Buffer.from(await resolver(ref.name, record)) : valueBytes(record));
    }
  }
  return values;
}
