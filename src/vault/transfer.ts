import { isDeepStrictEqual } from 'node:util';
import { FailedError, UsageError } from '../errors.js';
import { ageDecrypt, ageEncrypt, type AgeKey } from './age.js';
import { parseDocument, type VaultDocument } from './file.js';
import { validateName } from './names.js';
import { parseRecord } from './record.js';
import type { SecretRecord, Vault } from './types.js';

/** Every record of a vault, values included, by name. */
export async function readAllRecords(vault: Vault): Promise<Array<[string, SecretRecord]>> {
  const infos = await vault.list();
  return Promise.all(infos.map(async ({ name }) => [name, await vault.get(name)] as [string, SecretRecord]));
}

async function writeAll(vault: Vault, entries: Array<[string, SecretRecord]>, force: boolean): Promise<void> {
  if (!force) {
    const present = new Set((await vault.list()).map((i) => i.name));
    const clashes = entries.map(([name]) => name).filter((name) => present.has(name));
    if (clashes.length > 0) {
      throw new UsageError(`${clashes.length} record(s) already exist in the target: ${clashes.slice(0, 10).join(', ')}${clashes.length > 10 ? ', …' : ''}`, {
        hint: 'nothing was changed; replace them with the force option',
        detail: { kind: 'exists', what: 'records', names: clashes },
      }, 'ERR_VAULT_CONFLICT');
    }
  }
  if (vault.setMany) await vault.setMany(entries);
  else for (const [name, record] of entries) await vault.set(name, record);
}

export interface MigrateResult {
  moved: string[];
}

/**
 * Moves every record from one vault to another: copy, read each back and compare, and only then
 * delete from the source. A failure before the deletes leaves the source complete.
 */
export async function migrateVault(from: Vault, to: Vault, options: { force?: boolean } = {}): Promise<MigrateResult> {
  if (!from.describe().writable) throw new UsageError(`cannot migrate from the ${from.describe().backend} vault: it is read-only`);
  const entries = await readAllRecords(from);
  await writeAll(to, entries, options.force ?? false);
  for (const [name, record] of entries) {
    if (!isDeepStrictEqual(await to.get(name), record)) {
      throw new FailedError(`verification failed for ${name}: the copy differs; the source was left complete`, undefined, 'ERR_VAULT_VERIFY');
    }
  }
  for (const [name] of entries) await from.delete(name);
  return { moved: entries.map(([name]) => name) };
}

/** An age-encrypted backup: the same JSON document as the file vault. */
export async function exportVault(vault: Vault, to: { recipients: string[] } | { passphrase: string }): Promise<{ bytes: Uint8Array; count: number }> {
  // Before anything is read or written: an empty passphrase would protect nothing.
  if ('passphrase' in to && to.passphrase === '') throw new UsageError('an empty passphrase protects nothing: give a passphrase, or recipients', { detail: { kind: 'empty-passphrase' } }, 'ERR_VAULT_EMPTY_PASSPHRASE');
  const entries = await readAllRecords(vault);
  const doc: VaultDocument = { format: 'keysmith-vault', version: 1, records: Object.fromEntries(entries) };
  return { bytes: await ageEncrypt(Buffer.from(JSON.stringify(doc)), to), count: entries.length };
}

/** Whether an age file is passphrase-encrypted (its header has an scrypt stanza). */
export function isPassphraseEncrypted(file: Uint8Array): boolean {
  const head = Buffer.from(file.subarray(0, 4096)).toString('latin1');
  if (head.startsWith('-----BEGIN AGE')) return false; // armored: decided when decrypting
  return /\n-> scrypt /.test(head);
}

/** Reads a backup (or any vault file) and adds its records to `vault`. */
export async function importVault(vault: Vault, file: Uint8Array, key: AgeKey, options: { force?: boolean; what: string }): Promise<{ imported: string[] }> {
  const doc = parseDocument(await ageDecrypt(file, key, options.what), options.what);
  const entries = Object.entries(doc.records).map(([name, raw]) => {
    validateName(name);
    return [name, parseRecord(raw, `record ${name} in ${options.what}`)] as [string, SecretRecord];
  });
  await writeAll(vault, entries, options.force ?? false);
  return { imported: entries.map(([name]) => name) };
}
