import { createPublicKey, randomBytes, scrypt, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fingerprintSha256, parsePublicKeyLine, publicOf } from '../keys.js';
import type { PublicKey } from '../public-key.js';
import { rsaSignatureOf, sshSign, type SigningKey } from '../sign.js';

/** A key the agent holds: in memory only, for as long as its lifetime allows. */
export interface AgentKey {
  /** The vault's name for it, or the comment of a key a client added. */
  name: string;
  signer: SigningKey;
  comment: string;
  /** `<key path>-cert.pub`: its certificate, read afresh at each listing (a renewed one shows at once). */
  certificatePath?: string;
  /** Ask before each signature. */
  confirm: boolean;
  /** Epoch milliseconds after which the key is forgotten. */
  expiresAt?: number;
}

export interface KeyringOptions {
  /** Whether clients may add and remove keys (ssh-add, ssh-add -d/-D). */
  allowAdd: boolean;
  /** Asks the person whether a key may sign now; false refuses the signature. */
  confirm: (key: AgentKey, fingerprint: string) => Promise<boolean>;
  now: () => number;
}

export interface Identity {
  blob: Buffer;
  comment: string;
}

/** The certificate line of a key's `-cert.pub`, when it is there and certifies this very key. */
async function certificateOf(key: AgentKey): Promise<Buffer | undefined> {
  if (!key.certificatePath) return undefined;
  try {
    const cert = parsePublicKeyLine(await readFile(key.certificatePath, 'utf8'), key.certificatePath);
    if (cert.certificate && cert.blob.equals(key.signer.publicKey.blob)) return cert.certificate.blob;
  } catch {
    /* none, or unreadable: the plain key is still listed */
  }
  return undefined;
}


/**
 * The agent's keys and its rules: what is listed, what may sign, who may add or remove, the lock
 * (ssh-add -x), lifetimes and confirmation. It never gives a private key out.
 */
export class Keyring {
  private keys: AgentKey[];
  private lockHash: { salt: Buffer; hash: Buffer } | undefined;
  private failures = 0;
  private unlocking: Promise<boolean> = Promise.resolve(false);

  constructor(keys: AgentKey[], private readonly options: KeyringOptions) {
    this.keys = keys;
  }

  /** Keys whose lifetime is over are dropped, so their private key objects can go. */
  private live(): AgentKey[] {
    const now = this.options.now();
    this.keys = this.keys.filter((k) => k.expiresAt === undefined || k.expiresAt > now);
    return this.keys;
  }

  get size(): number {
    return this.live().length;
  }

  get locked(): boolean {
    return this.lockHash !== undefined;
  }

  /** Each key, and its certificate after it when there is one (as ssh-agent lists a key loaded with its certificate). */
  async identities(): Promise<Identity[]> {
    if (this.locked) return [];
    const out: Identity[] = [];
    for (const key of this.live()) {
      out.push({ blob: key.signer.publicKey.blob, comment: key.comment });
      const cert = await certificateOf(key);
      if (cert) out.push({ blob: cert, comment: key.comment });
    }
    return out;
  }

  /** The key a sign request names (its plain blob or its current certificate), if held. */
  private async find(blob: Buffer): Promise<AgentKey | undefined> {
    for (const key of this.live()) {
      if (key.signer.publicKey.blob.equals(blob)) return key;
      const cert = await certificateOf(key);
      if (cert?.equals(blob)) return key;
    }
    return undefined;
  }

  /** A signature, or undefined (refused: unknown key, locked, not confirmed, or a type it cannot sign). */
  async sign(blob: Buffer, data: Buffer, flags: number): Promise<Buffer | undefined> {
    if (this.locked) return undefined;
    const key = await this.find(blob);
    if (!key) return undefined;
    if (key.confirm && !(await this.options.confirm(key, fingerprintSha256(key.signer.publicKey.blob)))) return undefined;
    // Forgotten, locked or out of its lifetime while the person was asked: the yes comes too late.
    if (this.locked || !this.live().includes(key)) return undefined;
    return sshSign(key.signer, data, rsaSignatureOf(flags));
  }

  /**
   * SSH_AGENTC_ADD_IDENTITY: a private key read from the agent's wire format (the fields of an
   * OpenSSH key file's private section). Refused unless clients may add; it replaces a key with the
   * same public half.
   */
  add(algorithm: string, comment: string, key: (() => KeyObject) | undefined, constraints: { lifetimeSeconds?: number; confirm: boolean }): boolean {
    if (!this.options.allowAdd || this.locked || !key) return false;
    const privateKey = key();
    const publicKey: PublicKey = { ...publicOf(createPublicKey(privateKey)), comment };
    if (publicKey.algorithm !== algorithm) return false;
    this.keys = this.live().filter((k) => !k.signer.publicKey.blob.equals(publicKey.blob));
    this.keys.push({
      name: comment, comment, signer: { publicKey, privateKey }, confirm: constraints.confirm,
      ...(constraints.lifetimeSeconds ? { expiresAt: this.options.now() + constraints.lifetimeSeconds * 1000 } : {}),
    });
    return true;
  }

  /** SSH_AGENTC_REMOVE_IDENTITY, when clients may remove. */
  remove(blob: Buffer): boolean {
    if (!this.options.allowAdd || this.locked) return false;
    const before = this.live().length;
    this.keys = this.keys.filter((k) => !k.signer.publicKey.blob.equals(blob));
    return this.keys.length < before;
  }

  /** SSH_AGENTC_REMOVE_ALL_IDENTITIES, when clients may remove. */
  removeAll(): boolean {
    if (!this.options.allowAdd || this.locked) return false;
    this.keys = [];
    return true;
  }

  /** Forgets every key: `keysmith vault lock` and `keysmith ssh agent stop`. Anyone on the socket may. */
  forget(): void {
    this.keys = [];
  }

  /** ssh-add -x: nothing is listed or signed until ssh-add -X with the same passphrase. */
  async lock(passphrase: Buffer): Promise<boolean> {
    if (this.lockHash) return false;
    const salt = randomBytes(16);
    this.lockHash = { salt, hash: await slowHash(passphrase, salt) };
    return true;
  }

  /**
   * ssh-add -X. Like ssh-agent, a wrong passphrase costs a salted slow hash and then a delay that
   * grows by 0.1 s with each failure (up to 10 s), and attempts are taken one at a time, so the
   * lock cannot be guessed at socket speed.
   */
  unlock(passphrase: Buffer): Promise<boolean> {
    const attempt = this.unlocking.then(async () => {
      if (!this.lockHash) return false;
      const hash = await slowHash(passphrase, this.lockHash.salt);
      if (timingSafeEqual(hash, this.lockHash.hash)) {
        this.lockHash = undefined;
        this.failures = 0;
        return true;
      }
      this.failures++;
      await new Promise((r) => setTimeout(r, Math.min(100 * this.failures, 10_000)));
      return false;
    });
    this.unlocking = attempt.catch(() => false);
    return attempt;
  }
}

/** scrypt at node's default cost (N=16384): tens of milliseconds, per guess. */
const slowHash = (passphrase: Buffer, salt: Buffer) => new Promise<Buffer>((resolve, reject) => scrypt(passphrase, salt, 32, (err, key) => (err ? reject(err) : resolve(key))));
