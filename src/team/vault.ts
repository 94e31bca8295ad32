import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AuthError, FailedError, NotFoundError, UsageError } from '../errors.js';
import { ensurePrivateDir, readIfExists, writeFileAtomic } from '../fs.js';
import { ageDecrypt, ageEncrypt } from '../vault/age.js';
import { matchesPrefix, validateName } from '../vault/names.js';
import { info, parseRecord } from '../vault/record.js';
import type { SecretInfo, SecretRecord, Vault, VaultDescription } from '../vault/types.js';
import { checkCheckout } from './check.js';
import { git, show, signedCommit, type Repo } from './git.js';
import { parseTeam, readersOf, RECIPIENTS_FILE, recipientFiles, serializeTeam, TEAM_FILE, type TeamDocument } from './team.js';

/** Who is using the team vault: the private key that decrypts, and for a writer their name and key file (git signs with it). */
export interface TeamIdentity {
  /** The OpenSSH private key text (or an AGE-SECRET-KEY-1…): the member's, which decrypts. */
  key: string;
  /** A writer: their member name and the private key file git signs commits with. Absent: read-only (CI). */
  signer?: { name: string; keyPath: string };
}

const fileOf = (dir: string, name: string) => join(dir, `${name}.age`);

/**
 * A Vault over a team's git working tree: one age file per secret, encrypted to the members who read
 * its path; every change one signed commit (sync pushes it). Reads need no network.
 */
export class TeamVault implements Vault {
  constructor(
    readonly team: string,
    readonly repo: Repo,
    private readonly identity: TeamIdentity,
    /** A checkout keysmith did not sync (CI): each read first checks every commit that touched the secret or the member list. */
    private readonly checkReads = false,
  ) {}

  async get(name: string): Promise<SecretRecord> {
    validateName(name);
    // A checkout not synced by keysmith is read from the commit checked, never from its files (a workspace may hold others).
    if (this.checkReads) await checkCheckout(this.repo, name, this.repo.env.KEYSMITH_TEAM_ROOT, this.repo.env.KEYSMITH_TEAM_SINCE);
    const bytes = this.checkReads ? await show(this.repo, 'HEAD', `${name}.age`) : await readIfExists(fileOf(this.repo.dir, name));
    if (!bytes) throw new NotFoundError(`no secret named @${this.team}/${name}`, undefined, 'ERR_VAULT_NOT_FOUND');
    return this.open(name, bytes);
  }

  async set(name: string, record: SecretRecord): Promise<void> {
    await this.setMany([[name, record]]);
  }

  async setMany(entries: Array<[string, SecretRecord]>): Promise<void> {
    const signer = this.writer();
    const team = await this.document();
    for (const [name] of entries) {
      validateName(name);
      if (!readersOf(team, name).some(([member]) => member === signer.name)) {
        throw new UsageError(`@${this.team}/${name} is outside the paths ${signer.name} reads; a member who reads it can set it`, undefined, 'ERR_TEAM_OUTSIDE_PATHS');
      }
    }
    const paths: string[] = [];
    for (const [name, record] of entries) paths.push(await this.seal(team, name, record));
    await signedCommit(this.repo, entries.length === 1 ? `set ${entries[0]![0]}` : `set ${entries.length} secrets`, signer, paths);
  }

  async delete(name: string): Promise<boolean> {
    validateName(name);
    const signer = this.writer();
    const path = fileOf(this.repo.dir, name);
    if (!(await readIfExists(path))) return false;
    await rm(path);
    await signedCommit(this.repo, `remove ${name}`, signer, [`${name}.age`]);
    return true;
  }

  /** Names and dates of the committed secrets this identity reads (others are not its to list), sorted. */
  async list(prefix?: string): Promise<SecretInfo[]> {
    const out: SecretInfo[] = [];
    for (const name of await committedSecrets(this.repo)) {
      if (!matchesPrefix(name, prefix)) continue;
      try {
        out.push(info(name, await this.get(name)));
      } catch (err) {
        if (!unreadable(err)) throw err;
      }
    }
    return out;
  }

  describe(): VaultDescription {
    return { backend: 'team', location: this.repo.dir, writable: this.identity.signer !== undefined };
  }

  /** The member list of the working tree. */
  async document(): Promise<TeamDocument> {
    return parseTeam(await readIfExists(join(this.repo.dir, TEAM_FILE)), this.repo.dir);
  }

  /**
   * Writes the member list and the `.age-recipients` files it implies, and removes those it no
   * longer does (not committed). Returns the paths written or removed.
   */
  async writeDocument(team: TeamDocument): Promise<string[]> {
    await writeFileAtomic(join(this.repo.dir, TEAM_FILE), serializeTeam(team), { overwrite: true, mode: 0o644, durable: false });
    const files = recipientFiles(team);
    const stale = (await recipientFilePaths(this.repo)).filter((path) => !files.has(path.slice(0, -RECIPIENTS_FILE.length)));
    for (const path of stale) await rm(join(this.repo.dir, path), { force: true });
    for (const [folder, text] of files) {
      await ensurePrivateDir(join(this.repo.dir, folder));
      await writeFileAtomic(join(this.repo.dir, folder, RECIPIENTS_FILE), text, { overwrite: true, mode: 0o644, durable: false });
    }
    return [TEAM_FILE, ...stale, ...[...files.keys()].map((folder) => `${folder}${RECIPIENTS_FILE}`)];
  }

  /** Encrypts a record to the members who read its name and writes its file (not committed). Returns its path in the repository. */
  async seal(team: TeamDocument, name: string, record: SecretRecord): Promise<string> {
    const recipients = readersOf(team, name).map(([, m]) => m.recipient);
    const path = fileOf(this.repo.dir, name);
    await ensurePrivateDir(dirname(path));
    await writeFileAtomic(path, await ageEncrypt(Buffer.from(JSON.stringify(record)), { recipients }), { overwrite: true, mode: 0o644, durable: false });
    return `${name}.age`;
  }

  async open(name: string, bytes: Uint8Array): Promise<SecretRecord> {
    const where = `@${this.team}/${name}`;
    const plain = Buffer.from(await ageDecrypt(bytes, { identities: [this.identity.key] }, where)).toString('utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(plain);
    } catch {
      // Never JSON.parse's message: it quotes the decrypted text.
      throw new FailedError(`${where} decrypts, but is not a keysmith record (JSON)`, undefined, 'ERR_VAULT_BAD_RECORD');
    }
    return parseRecord(raw, where);
  }

  writer(): { name: string; keyPath: string } {
    if (!this.identity.signer) {
      throw new UsageError(`the team vault ${this.team} is read-only here (no member key to sign with)`, { detail: { kind: 'read-only-vault', backend: 'team' } }, 'ERR_TEAM_READ_ONLY');
    }
    return this.identity.signer;
  }
}

/** The secret names committed in a clone or checkout: every `*.age` file of HEAD, without the extension. */
export async function committedSecrets(repo: Repo): Promise<string[]> {
  return (await git(repo, ['ls-tree', '-r', '-z', '--name-only', 'HEAD'])).split('\0').filter((p) => p.endsWith('.age')).map((p) => p.slice(0, -'.age'.length)).sort();
}

/** A secret file this key cannot read as a team record: not encrypted to it, not age, not a record, or a name no secret has. */
export const unreadable = (err: unknown) =>
  err instanceof AuthError ||
  (err instanceof FailedError && /^ERR_VAULT_(DAMAGED|BAD_RECORD)$/.test(err.code)) ||
  (err instanceof UsageError && err.code === 'ERR_VAULT_BAD_NAME');

/** The `.age-recipients` files committed in a working tree (an untracked one is the user's), relative to it. */
async function recipientFilePaths(repo: Repo): Promise<string[]> {
  return (await git(repo, ['ls-files', '-z'])).split('\0').filter((p) => p === RECIPIENTS_FILE || p.endsWith(`/${RECIPIENTS_FILE}`));
}
