/** What a vault holds under one name. */
export interface SecretRecord {
  /** password, token, ssh-key, oauth-tokens, tls-ca, secret, … */
  kind: string;
  /** The secret itself. Binary values are stored base64-encoded with `encoding: 'base64'`. */
  value: string;
  encoding?: 'base64';
  /** Named parts of a multi-part record (user, url, …). */
  fields: Record<string, string>;
  /** ISO-8601. */
  created: string;
  updated: string;
  /** Non-secret facts an area keeps with its records (paths, fingerprints, hosts…). */
  meta?: Record<string, unknown>;
}

/** What `list` shows: never a value. */
export interface SecretInfo {
  name: string;
  kind: string;
  created: string;
  updated: string;
}

export type BackendName = 'keychain' | 'file' | 'env' | 'team';

export interface VaultDescription {
  backend: BackendName;
  /** Where the data lives: a file path, a keychain service, an environment prefix. */
  location: string;
  writable: boolean;
}

/** One interface over the OS keychain, the age-encrypted file and the environment. */
export interface Vault {
  /** Throws NotFoundError when absent. */
  get(name: string): Promise<SecretRecord>;
  set(name: string, record: SecretRecord): Promise<void>;
  /** False when there was nothing to delete. */
  delete(name: string): Promise<boolean>;
  /** Names, kinds and dates, sorted by name; never values. */
  list(prefix?: string): Promise<SecretInfo[]>;
  describe(): VaultDescription;
  /**
   * Applies several changes at once where the backend can (one write of the file vault instead of
   * many). Used by import and migrate.
   */
  setMany?(entries: Array<[string, SecretRecord]>): Promise<void>;
}
