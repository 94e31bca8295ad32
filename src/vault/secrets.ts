import { NotFoundError } from '../errors.js';
import { newRecord } from './record.js';
import type { SecretRecord, Vault } from './types.js';

/** The record, or undefined when there is none (other errors, such as a locked keychain, propagate). */
export async function findSecret(vault: Vault, name: string): Promise<SecretRecord | undefined> {
  try {
    return await vault.get(name);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/**
 * Stores a value under a name, keeping the creation date of a record it replaces.
 * @example await putSecret(vault, 'db/password', 'hunter2', { kind: 'password', now: new Date() })
 */
export async function putSecret(
  vault: Vault,
  name: string,
  value: Uint8Array | string,
  options: { kind: string; fields?: Record<string, string>; now: Date; meta?: Record<string, unknown> },
): Promise<{ created: boolean }> {
  const previous = await findSecret(vault, name);
  const record = newRecord(value, options.kind, options.now, options.fields);
  if (previous) record.created = previous.created;
  if (options.meta) record.meta = options.meta;
  await vault.set(name, record);
  return { created: !previous };
}
