import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { ensurePrivateDir, exists, readIfExists, writeFileAtomic } from '../fs.js';
import type { Vault } from '../vault/types.js';
import { connect, parseTarget, type ConnectOptions } from './connect.js';
import { appendKey, dropKey } from './deploy.js';
import { fingerprintSha256, generateKey, keyTypeName, parsePublicKeyLine, publicKeyLine, readPrivateKey, type KeyType } from './keys.js';
import { loadKey, privateKeyPem, saveKey, type HostEntry, type ManagedKey } from './store.js';
import { mapLimit } from '../concurrency.js';

/** Per host: pending → appended (new key added) → verified (a fresh login with it worked) → done (old key removed). */
export type HostState = 'pending' | 'appended' | 'verified' | 'done';

/** The rotation journal (data dir, 0600): every step is written before the next, so any crash resumes. */
interface Journal {
  name: string;
  started: string;
  /** Where the old private key waits until every host is done. */
  archive: string;
  oldPublicKey: string;
  newPublicKey: string;
  hosts: Record<string, HostState>;
  errors: Record<string, string>;
}

export interface RotateOptions {
  hosts?: string[];
  concurrency: number;
  resume: boolean;
  dryRun: boolean;
  olderThanMs?: number;
  /** The key's passphrase when the vault does not keep it (the new key gets the same). */
  passphrase?: () => Promise<string | undefined>;
  connect: ConnectOptions;
  dataDir: string;
  now: () => Date;
  /** A line per step, for people. */
  onStep?: (host: string, step: string) => void;
}

export interface HostReport {
  target: string;
  state: HostState;
  ok: boolean;
  error?: string;
}

export interface RotateResult {
  name: string;
  status: 'rotated' | 'incomplete' | 'skipped' | 'planned';
  reason?: string;
  oldFingerprint: string;
  newFingerprint?: string;
  hosts: HostReport[];
}

export const journalPath = (dataDir: string, name: string) => join(dataDir, 'ssh-rotations', `${name}.json`);

/**
 * What a key rotates to: the same type and size (an RSA key below 3072 bits grows to 3072, the
 * least keysmith makes). Security keys and DSA keys are refused, before anything changes.
 */
export function successorOf(key: Pick<ManagedKey, 'name' | 'algorithm' | 'bits'>): { type: KeyType; bits: number } {
  const refuse = (why: string) => new UsageError(`${key.name} is a ${keyTypeName(key.algorithm)} key, which keysmith cannot rotate: ${why}`, undefined, 'ERR_SSH_ROTATE_TYPE');
  if (key.algorithm.startsWith('sk-')) throw refuse('its private half lives on a security key (make a new key on the token with ssh-keygen -t ed25519-sk and import that)');
  if (key.algorithm === 'ssh-dss') throw refuse('DSA keys are disabled in OpenSSH; replace it with a new ed25519 key');
  if (key.algorithm === 'ssh-ed25519') return { type: 'ed25519', bits: 256 };
  if (key.algorithm === 'ssh-rsa') return { type: 'rsa', bits: Math.max(key.bits, 3072) };
  if (/^ecdsa-sha2-nistp(256|384|521)$/.test(key.algorithm)) return { type: 'ecdsa', bits: key.bits };
  throw refuse('unknown key type');
}

/**
 * Replaces a key on every host without locking anyone out: per host, connect with the old key,
 * append the new one, log in afresh with the new one, then remove the old one by its key blob,
 * keeping every other line. Locally the new key takes the old one's path; the old one is archived
 * (0600) until every host is done. Interrupted rotations resume from the journal.
 * @example const r = await rotateKey(vault, 'work', { concurrency: 8, resume: false, dryRun: false, … })
 */
export async function rotateKey(vault: Vault, name: string, o: RotateOptions): Promise<RotateResult> {
  const key = await loadKey(vault, name);
  const jpath = journalPath(o.dataDir, name);
  let asked: Promise<string | undefined> | undefined;
  // Asked once, and only for an encrypted key the vault keeps no passphrase for.
  const passphrase = () => (asked ??= (async () => {
    if (key.passphrase !== undefined || key.privateKey !== undefined) return key.passphrase;
    const { encrypted } = await readPrivateKey(await readFile(key.path, 'utf8'), key.path);
    if (!encrypted) return undefined;
    // An encrypted key's successor is encrypted too: without its passphrase there is no rotation (never a plain key).
    const given = await o.passphrase?.();
    if (!given) throw new UsageError(`${name} has a passphrase the vault does not keep: rotate it with the passphrase at hand`, { hint: 'keysmith ssh rotate NAME --passphrase-stdin, or keep it: ssh keygen --store-passphrase' }, 'ERR_SSH_PASSPHRASE_NEEDED');
    return given;
  })());
  const existing = await readIfExists(jpath);
  if (existing && !o.resume) {
    throw new UsageError(`a rotation of ${name} is in progress`, { hint: 'finish it first: rotate again with resume', detail: { kind: 'rotation-in-progress', key: name } }, 'ERR_SSH_ROTATION_IN_PROGRESS');
  }
  if (!existing && o.resume) throw new UsageError(`there is no rotation of ${name} to resume`, undefined, 'ERR_SSH_NOTHING_TO_RESUME');

  let journal: Journal;
  if (existing) {
    journal = await swapKeys(vault, key, JSON.parse(existing.toString('utf8')) as Journal, passphrase, jpath, o.now);
  } else {
    const ageMs = o.now().getTime() - new Date(key.created).getTime();
    if (o.olderThanMs !== undefined && ageMs < o.olderThanMs) {
      return { name, status: 'skipped', reason: `the key is ${Math.floor(ageMs / 86_400_000)} day(s) old`, oldFingerprint: key.fingerprint, hosts: [] };
    }
    const hosts = selectHosts(key, o.hosts);
    successorOf(key);
    if (o.dryRun) {
      return { name, status: 'planned', oldFingerprint: key.fingerprint, hosts: hosts.map((h) => ({ target: h.target, state: 'pending', ok: true })) };
    }
    await ensurePrivateDir(join(o.dataDir, 'ssh-rotations'));
    const stamp = o.now().toISOString().replace(/[:.]/g, '-');
    journal = await swapKeys(vault, key, {
      name,
      started: o.now().toISOString(),
      archive: `${key.path}.old-${stamp}`,
      oldPublicKey: key.publicKey,
      newPublicKey: '',
      hosts: Object.fromEntries(hosts.map((h) => [h.target, 'pending' as HostState])),
      errors: {},
    }, passphrase, jpath, o.now);
  }
  if (o.dryRun) {
    return { name, status: 'planned', oldFingerprint: fingerprintOf(journal.oldPublicKey), newFingerprint: fingerprintOf(journal.newPublicKey), hosts: reports(journal) };
  }

  const secret = await passphrase();
  const swapped = await loadKey(vault, name);
  const oldPem = swapped.privateKey !== undefined ? swapped.retiringKey! : await readFile(journal.archive, 'utf8');
  const newPem = await privateKeyPem(swapped);
  await readPrivateKey(newPem, key.path, secret); // a wrong passphrase stops here (exit 4), before any host
  const oldKey = parsePublicKeyLine(journal.oldPublicKey, 'old key');
  const newKey = parsePublicKeyLine(journal.newPublicKey, 'new key');
  const entries = new Map(key.hosts.map((h) => [h.target, h]));
  let saving = Promise.resolve();
  const save = () => (saving = saving.then(() => writeFileAtomic(jpath, JSON.stringify(journal, null, 2), { overwrite: true })));

  const rotateHost = async (target: string) => {
    const entry = entries.get(target) ?? { target };
    const t = parseTarget(target);
    delete journal.errors[target];
    try {
      if (journal.hosts[target] === 'pending') {
        const client = await connect(t, { privateKey: oldPem, ...(secret ? { passphrase: secret } : {}) }, o.connect);
        try {
          const { via } = await appendKey(client, journal.newPublicKey, newKey.blob.toString('base64'), entry.authorizedKeys);
          if (via === 'shell') o.onStep?.(target, 'no SFTP: through the remote shell');
        } finally {
          client.end();
        }
        journal.hosts[target] = 'appended';
        await save();
        o.onStep?.(target, 'new key added');
      }
      if (journal.hosts[target] !== 'done') {
        // A fresh login with the new key proves it works before the old one goes.
        const client = await connect(t, { privateKey: newPem, ...(secret ? { passphrase: secret } : {}) }, o.connect);
        try {
          journal.hosts[target] = 'verified';
          await save();
          o.onStep?.(target, 'new key logs in');
          await dropKey(client, oldKey.blob.toString('base64'), entry.authorizedKeys);
        } finally {
          client.end();
        }
        journal.hosts[target] = 'done';
        await save();
        o.onStep?.(target, 'old key removed');
      }
    } catch (err) {
      journal.errors[target] = (err as Error).message;
      await save();
      o.onStep?.(target, `failed: ${(err as Error).message}`);
    }
  };

  await mapLimit(Object.keys(journal.hosts).filter((h) => journal.hosts[h] !== 'done'), o.concurrency, rotateHost);
  await saving;

  const complete = Object.values(journal.hosts).every((s) => s === 'done');
  if (complete) {
    const deployedAt = o.now().toISOString();
    const hosts = key.hosts.map((h) => (journal.hosts[h.target] ? { ...h, deployedAt } : h));
    const { retiringKey: _old, ...done } = await loadKey(vault, name);
    await saveKey(vault, { ...done, hosts }, o.now());
    await rm(journal.archive, { force: true });
    await rm(`${journal.archive}.pub`, { force: true });
    await rm(jpath, { force: true });
  }
  return {
    name,
    status: complete ? 'rotated' : 'incomplete',
    oldFingerprint: fingerprintOf(journal.oldPublicKey),
    newFingerprint: fingerprintOf(journal.newPublicKey),
    hosts: reports(journal),
  };
}

function selectHosts(key: ManagedKey, only: string[] | undefined): HostEntry[] {
  if (key.hosts.length === 0) throw new UsageError(`${key.name} has no hosts to rotate on`, { hint: 'record the hosts it is deployed on first', detail: { kind: 'no-hosts', key: key.name } }, 'ERR_SSH_NO_HOSTS');
  if (!only) return key.hosts;
  const wanted = only.map((h) => parseTarget(h));
  const picked = key.hosts.filter((h) => wanted.some((w) => sameTarget(parseTarget(h.target), w)));
  const missing = only.filter((h) => !key.hosts.some((k) => sameTarget(parseTarget(k.target), parseTarget(h))));
  if (missing.length) throw new UsageError(`not a host of ${key.name}: ${missing.join(', ')}`, undefined, 'ERR_SSH_UNKNOWN_HOST');
  return picked;
}

const sameTarget = (a: ReturnType<typeof parseTarget>, b: ReturnType<typeof parseTarget>) => a.host === b.host && a.port === b.port && a.user === b.user;

/**
 * Swaps the keys, each step recorded first, then records the new key in the vault. A key file goes
 * to the archive and a new one takes its path; a vault-only key's old private key is kept in its
 * record (retiringKey) until every host is done, so neither ever touches the disk. Run again after
 * a crash, it finishes what is left (no host is touched before it is done).
 */
async function swapKeys(vault: Vault, key: ManagedKey, journal: Journal, getPassphrase: () => Promise<string | undefined>, jpath: string, now: () => Date): Promise<Journal> {
  const save = () => writeFileAtomic(jpath, JSON.stringify(journal, null, 2), { overwrite: true });
  await save();
  const { type, bits } = successorOf(key);
  const writePub = (line: string) => writeFileAtomic(`${key.path}.pub`, `${line}\n`, { mode: 0o644, overwrite: true });
  if (key.privateKey !== undefined) {
    if (!journal.newPublicKey) {
      // The vault already holds the new key when a crash came between its write and the journal's.
      if (key.retiringKey === undefined) {
        const fresh = await generateKey({ type, bits, comment: key.comment });
        await saveKey(vault, { ...key, ...fromLine(publicKeyLine(fresh.publicKey)), created: now().toISOString(), privateKey: fresh.privateKey, retiringKey: key.privateKey }, now());
        journal.newPublicKey = publicKeyLine(fresh.publicKey);
      } else journal.newPublicKey = key.publicKey;
      await writePub(journal.newPublicKey);
      await save();
    }
    return journal;
  }
  const passphrase = await getPassphrase();
  if (!(await exists(journal.archive))) {
    await readPrivateKey(await readFile(key.path, 'utf8'), key.path, passphrase); // wrong passphrase: exit 4 before anything changes
    await rename(key.path, journal.archive);
    if (await exists(`${key.path}.pub`)) await rename(`${key.path}.pub`, `${journal.archive}.pub`);
  }
  if (!journal.newPublicKey || !(await exists(key.path))) {
    const fresh = await generateKey({ type, bits, comment: key.comment, passphrase });
    await writeFileAtomic(key.path, fresh.privateKey, { overwrite: true });
    await writePub(publicKeyLine(fresh.publicKey));
    journal.newPublicKey = publicKeyLine(fresh.publicKey);
    await save();
  }
  if (key.publicKey !== journal.newPublicKey) await saveKey(vault, { ...key, ...fromLine(journal.newPublicKey), created: now().toISOString() }, now());
  return journal;
}

function fromLine(line: string): Pick<ManagedKey, 'publicKey' | 'fingerprint' | 'algorithm' | 'bits'> {
  const k = parsePublicKeyLine(line, 'new key');
  return { publicKey: line, fingerprint: fingerprintOf(line), algorithm: k.algorithm, bits: k.bits };
}

const fingerprintOf = (line: string) => fingerprintSha256(parsePublicKeyLine(line, 'key').blob);

function reports(journal: Journal): HostReport[] {
  return Object.entries(journal.hosts).map(([target, state]) => ({
    target,
    state,
    ok: state === 'done',
    ...(journal.errors[target] ? { error: journal.errors[target] } : {}),
  }));
}
