import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FailedError, NotFoundError, UsageError } from '../errors.js';
import { assertPrivate, ensurePrivateDir, exists, readIfExists, withFileLock, writeFileAtomic } from '../fs.js';
import { ageDecrypt, ageEncrypt, recipientOf } from './age.js';
import { createIdentity, loadIdentity, type IdentityContext, type LoadedIdentity } from './identity.js';
import { matchesPrefix, validateName } from './names.js';
import { info, parseRecord } from './record.js';
import type { SecretInfo, SecretRecord, Vault, VaultDescription } from './types.js';

/**
 * The decrypted vault file: plain JSON, so `age -d -i identity.txt vault.age` is a full backup and
 * a document written by hand and encrypted with `age -r` is a vault keysmith reads.
 */
export interface VaultDocument {
  format: 'keysmith-vault';
  version: 1;
  records: Record<string, unknown>;
}

export function parseDocument(bytes: Uint8Array, where: string): VaultDocument {
  let doc: Partial<VaultDocument>;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as Partial<VaultDocument>;
  } catch {
    throw new FailedError(`${where} decrypts, but is not a keysmith vault (not JSON)`, undefined, 'ERR_VAULT_DAMAGED');
  }
  if (!doc || typeof doc !== 'object' || typeof doc.records !== 'object' || doc.records === null || Array.isArray(doc.records)) {
    throw new FailedError(`${where} decrypts, but is not a keysmith vault (no "records" object)`, undefined, 'ERR_VAULT_DAMAGED');
  }
  // A hand-written document may leave the format out; another tool's document that has "records" is not ours to rewrite.
  if (doc.format !== undefined && doc.format !== 'keysmith-vault') {
    throw new FailedError(`${where} decrypts, but is not a keysmith vault (format ${JSON.stringify(doc.format)})`, undefined, 'ERR_VAULT_DAMAGED');
  }
  if (doc.version !== undefined && doc.version !== 1) {
    throw new FailedError(`${where} is vault format version ${String(doc.version)}, newer than this keysmith reads`, undefined, 'ERR_VAULT_VERSION');
  }
  return { format: 'keysmith-vault', version: 1, records: doc.records };
}

/** Decrypts and parses a vault file (or a backup, which has the same form). */
export async function openDocument(bytes: Uint8Array, identities: string[], where: string): Promise<VaultDocument> {
  return parseDocument(await ageDecrypt(bytes, { identities }, `the vault file ${where}`), where);
}

/** Identifies one state of the file: an atomic rename gives a new inode, a rewrite a new mtime or size. */
async function fileVersion(path: string): Promise<string> {
  const s = await stat(path).catch(() => undefined);
  return s ? `${s.ino}:${s.size}:${s.mtimeMs}` : 'absent';
}

export const missingIdentity = (path: string) =>
  new UsageError(`cannot open the file vault ${path}: no identity`, {
    hint: 'set KEYSMITH_AGE_IDENTITY (an AGE-SECRET-KEY-1… or a file of them), or KEYSMITH_SESSION from unlockVault',
    detail: { kind: 'no-identity', path },
  }, 'ERR_IDENTITY_MISSING');

export const emptyDocument = (): VaultDocument => ({ format: 'keysmith-vault', version: 1, records: {} });

/**
 * All records in one age file encrypted to an X25519 identity. Readers need no lock (writes are an
 * atomic rename); writers hold an inter-process lock around read-modify-write, so concurrent
 * writers lose nothing, and a crash mid-write leaves the previous file.
 */
export class FileVault implements Vault {
  private doc: VaultDocument | undefined;
  private version: string | undefined;
  private identity: LoadedIdentity | undefined;

  constructor(readonly path: string, private readonly ctx: IdentityContext) {}

  async get(name: string): Promise<SecretRecord> {
    validateName(name);
    const raw = (await this.load()).records[name];
    if (raw === undefined) throw new NotFoundError(`no secret named ${name} in ${this.path}`, undefined, 'ERR_VAULT_NOT_FOUND');
    return parseRecord(raw, `record ${name} in ${this.path}`);
  }

  async set(name: string, record: SecretRecord): Promise<void> {
    await this.setMany([[name, record]]);
  }

  async setMany(entries: Array<[string, SecretRecord]>): Promise<void> {
    for (const [name] of entries) validateName(name);
    await this.mutate((records) => {
      for (const [name, record] of entries) records[name] = record;
      return { changed: true, result: undefined };
    });
  }

  async delete(name: string): Promise<boolean> {
    validateName(name);
    if (!(await exists(this.path))) return false;
    return this.mutate((records) => {
      if (!(name in records)) return { changed: false, result: false };
      delete records[name];
      return { changed: true, result: true };
    });
  }

  async list(prefix?: string): Promise<SecretInfo[]> {
    const { records } = await this.load();
    return Object.keys(records)
      .filter((name) => matchesPrefix(name, prefix))
      .sort()
      .map((name) => info(name, parseRecord(records[name], `record ${name} in ${this.path}`)));
  }

  describe(): VaultDescription {
    return { backend: 'file', location: this.path, writable: true };
  }

  /** The decrypted document, read again whenever the file changed (another process may have written). */
  private async load(): Promise<VaultDocument> {
    const version = await fileVersion(this.path);
    if (this.doc && version === this.version) return this.doc;
    await this.assertPrivate();
    const bytes = await readIfExists(this.path);
    this.doc = bytes ? await this.decrypt(bytes) : emptyDocument();
    this.version = version;
    return this.doc;
  }

  /** A vault others could rewrite is not read: its folder and file must be the owner's alone to change. */
  private async assertPrivate(): Promise<void> {
    await assertPrivate(dirname(this.path), 'folder');
    await assertPrivate(this.path, 'file');
  }

  private async unlock(): Promise<LoadedIdentity> {
    this.identity ??= await loadIdentity(this.ctx);
    if (!this.identity) throw missingIdentity(this.path);
    return this.identity;
  }

  private async decrypt(bytes: Uint8Array): Promise<VaultDocument> {
    return openDocument(bytes, (await this.unlock()).identities, this.path);
  }

  private async mutate<T>(change: (records: Record<string, unknown>) => { changed: boolean; result: T }): Promise<T> {
    await ensurePrivateDir(dirname(this.path));
    await this.assertPrivate();
    return withFileLock(this.path, async () => {
      const bytes = await readIfExists(this.path);
      // Identity first, so a new vault gets one; always re-read under the lock: another process may have written.
      if (!bytes && !this.identity) this.identity = (await loadIdentity(this.ctx)) ?? (await createIdentity(this.ctx));
      const doc = bytes ? await this.decrypt(bytes) : emptyDocument();
      const { changed, result } = change(doc.records);
      if (changed) {
        const { identities } = await this.unlock();
        const sealed = await ageEncrypt(Buffer.from(JSON.stringify(doc)), { recipients: [await recipientOf(identities[0]!)] });
        await writeFileAtomic(this.path, sealed, { overwrite: true, throughSymlink: true });
      }
      this.doc = doc;
      this.version = await fileVersion(this.path);
      return result;
    });
  }
}
