import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BLOWFISH_P, BLOWFISH_S } from './blowfish-pi.js';

/** Computes one 32-byte output block of bcrypt_pbkdf: `count` is the block's 1-based counter. */
type BlockFunction = (pass: Int32Array, salt: Uint8Array, count: number, rounds: number) => Uint8Array;

/**
 * The whole of bcrypt_pbkdf's work, one output block at a time. Self-contained on purpose: it uses
 * nothing from outside its own body but its arguments and JavaScript globals, because worker threads
 * run it from its source text (`String(blockFunction)`), which is the same in src/ and in the
 * minified bundle — no separate worker file to bundle or to find at run time.
 */
function blockFunction(P0: Int32Array, S0: Int32Array, sha512: (data: Uint8Array) => Uint8Array): BlockFunction {
  /** "OxychromaticBlowfishSwatDynamite" as big-endian words. */
  const MAGIC = new Int32Array(8);
  const magic = 'OxychromaticBlowfishSwatDynamite';
  for (let i = 0; i < 32; i++) MAGIC[i >> 2] = (MAGIC[i >> 2]! << 8) | magic.charCodeAt(i);

  /** 64 bytes (a SHA-512 digest) as 16 big-endian words: what Blowfish's stream2word cycles through. */
  const words = (d: Uint8Array): Int32Array => {
    const w = new Int32Array(16);
    for (let i = 0; i < 16; i++) w[i] = (d[4 * i]! << 24) | (d[4 * i + 1]! << 16) | (d[4 * i + 2]! << 8) | d[4 * i + 3]!;
    return w;
  };

  /**
   * One Blowfish encryption of the block in lr[0], lr[1], in place. The sixteen Feistel rounds are
   * written out over locals: small enough that V8 inlines it into the loops below within the first
   * bcrypt_hash, so the state stays in 32-bit registers (a closure over `let l, r` would keep them in
   * memory, and one big hand-inlined loop takes far longer to reach optimized code).
   */
  const encipher = (lr: Int32Array, P: Int32Array, S: Int32Array): void => {
    let l = lr[0]! ^ P[0]!;
    let r = lr[1]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[1]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[2]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[3]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[4]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[5]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[6]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[7]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[8]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[9]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[10]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[11]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[12]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[13]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[14]!;
    r ^= (((S[l >>> 24]! + S[256 | ((l >>> 16) & 0xff)]!) ^ S[512 | ((l >>> 8) & 0xff)]!) + S[768 | (l & 0xff)]!) ^ P[15]!;
    l ^= (((S[r >>> 24]! + S[256 | ((r >>> 16) & 0xff)]!) ^ S[512 | ((r >>> 8) & 0xff)]!) + S[768 | (r & 0xff)]!) ^ P[16]!;
    lr[0] = r ^ P[17]!;
    lr[1] = l;
  };

  /** expand0state(key): the key into P, then P and S refilled by enciphering a running block. */
  const expand0 = (P: Int32Array, S: Int32Array, key: Int32Array, lr: Int32Array): void => {
    for (let i = 0; i < 18; i++) P[i]! ^= key[i & 15]!;
    lr[0] = 0;
    lr[1] = 0;
    for (let i = 0; i < 18; i += 2) {
      encipher(lr, P, S);
      P[i] = lr[0]!;
      P[i + 1] = lr[1]!;
    }
    for (let i = 0; i < 1024; i += 2) {
      encipher(lr, P, S);
      S[i] = lr[0]!;
      S[i + 1] = lr[1]!;
    }
  };

  /** OpenBSD's bcrypt_hash (eksblowfish with 64 rounds of key expansion): where all the time goes. */
  const bcryptHash = (pass: Int32Array, salt: Int32Array, out: Uint8Array): void => {
    const P = P0.slice();
    const S = S0.slice();
    const lr = new Int32Array(2);
    // expandstate(salt, pass): the key (pass) into P, the data (salt) mixed into every block.
    for (let i = 0; i < 18; i++) P[i]! ^= pass[i & 15]!;
    let j = 0;
    for (let i = 0; i < 18; i += 2) {
      lr[0]! ^= salt[j++ & 15]!;
      lr[1]! ^= salt[j++ & 15]!;
      encipher(lr, P, S);
      P[i] = lr[0]!;
      P[i + 1] = lr[1]!;
    }
    for (let i = 0; i < 1024; i += 2) {
      lr[0]! ^= salt[j++ & 15]!;
      lr[1]! ^= salt[j++ & 15]!;
      encipher(lr, P, S);
      S[i] = lr[0]!;
      S[i + 1] = lr[1]!;
    }
    for (let round = 0; round < 64; round++) {
      expand0(P, S, salt, lr);
      expand0(P, S, pass, lr);
    }
    const c = MAGIC.slice();
    for (let n = 0; n < 64; n++) {
      for (let b = 0; b < 8; b += 2) {
        lr[0] = c[b]!;
        lr[1] = c[b + 1]!;
        encipher(lr, P, S);
        c[b] = lr[0]!;
        c[b + 1] = lr[1]!;
      }
    }
    for (let i = 0; i < 8; i++) {
      out[4 * i] = c[i]! & 0xff;
      out[4 * i + 1] = (c[i]! >>> 8) & 0xff;
      out[4 * i + 2] = (c[i]! >>> 16) & 0xff;
      out[4 * i + 3] = c[i]! >>> 24;
    }
  };

  return (pass, salt, count, rounds) => {
    const countSalt = new Uint8Array(salt.length + 4);
    countSalt.set(salt);
    countSalt[salt.length] = count >>> 24;
    countSalt[salt.length + 1] = (count >>> 16) & 0xff;
    countSalt[salt.length + 2] = (count >>> 8) & 0xff;
    countSalt[salt.length + 3] = count & 0xff;
    const out = new Uint8Array(32);
    const tmp = new Uint8Array(32);
    bcryptHash(pass, words(sha512(countSalt)), tmp);
    out.set(tmp);
    for (let i = 1; i < rounds; i++) {
      bcryptHash(pass, words(sha512(tmp)), tmp);
      for (let k = 0; k < 32; k++) out[k]! ^= tmp[k]!;
    }
    return out;
  };
}

const P0 = Int32Array.from(BLOWFISH_P);
const S0 = Int32Array.from(BLOWFISH_S);
const sha512 = (data: Uint8Array): Uint8Array => createHash('sha512').update(data).digest();
const block = blockFunction(P0, S0, sha512);

/** What bcrypt_pbkdf needs before the blocks: the hashed passphrase, and how the blocks interleave. */
function prepare(passphrase: Uint8Array, salt: Uint8Array, keyLength: number, rounds: number): { pass: Int32Array; blocks: number } {
  if (!Number.isInteger(rounds) || rounds < 1 || passphrase.length === 0 || salt.length === 0 || !Number.isInteger(keyLength) || keyLength < 1 || keyLength > 1024) throw new Error('bcrypt_pbkdf: bad parameters');
  const digest = sha512(passphrase);
  const pass = new Int32Array(16);
  for (let i = 0; i < 16; i++) pass[i] = (digest[4 * i]! << 24) | (digest[4 * i + 1]! << 16) | (digest[4 * i + 2]! << 8) | digest[4 * i + 3]!;
  return { pass, blocks: Math.ceil(keyLength / 32) };
}

/**
 * Block `count` (1-based) of `blocks` owns the key bytes count-1, count-1+blocks, count-1+2·blocks, …:
 * bcrypt_pbkdf spreads each block's output across the whole key, so no block can be cut short.
 */
function place(key: Buffer, out: Uint8Array, count: number, blocks: number): void {
  for (let i = 0, dest = count - 1; dest < key.length; i++, dest += blocks) key[dest] = out[i]!;
}

/**
 * bcrypt_pbkdf, as OpenSSH derives the key and IV of an encrypted private key, on this thread.
 * Checked against the reference port and against ssh-keygen, which reads the keys it protects.
 */
export function bcryptPbkdf(passphrase: Uint8Array, salt: Uint8Array, keyLength: number, rounds: number): Buffer {
  const { pass, blocks } = prepare(passphrase, salt, keyLength, rounds);
  const key = Buffer.alloc(keyLength);
  for (let count = 1; count <= blocks; count++) place(key, block(pass, salt, count, rounds), count, blocks);
  return key;
}

/**
 * Below this many rounds, a worker thread costs more than the block it takes over: it starts in
 * ~20 ms and warms V8 up again in its own isolate, while this thread does a second block warm at
 * ~3.3 ms a round. Measured on 2 cores (48 bytes, fresh processes, medians): 8 rounds 61 ms on one
 * thread, 66 ms on two; 12 rounds 86 / 88 ms; 16 rounds 113 / 92 ms. A prestarted worker
 * ({@link prestartBcryptWorker}) has paid its start-up already and is used from 1 round.
 */
export const PARALLEL_MIN_ROUNDS = 12;

/** The worker: rebuilds the block function from its source, computes the blocks of one job, and ends. */
const WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const blockFunction = (${String(blockFunction)});
parentPort.once('message', ({ P, S, pass, salt, counts, rounds }) => {
  const block = blockFunction(P, S, (data) => createHash('sha512').update(data).digest());
  parentPort.postMessage(counts.map((count) => block(pass, salt, count, rounds)));
});
`;

interface ParallelOptions {
  /** Threads to use, this one included (default: the machine's available parallelism). */
  threads?: number;
  /** Fewest rounds for which blocks go to worker threads (default PARALLEL_MIN_ROUNDS, or 1 with a prestarted worker). */
  minRounds?: number;
}

/** A worker started ahead of its job by {@link prestartBcryptWorker}. */
let spare: Worker | undefined;

/** A worker waiting for its job; unreferenced, so a worker nobody uses never holds the process open. */
function startWorker(): Worker {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  return worker;
}

/**
 * Starts the worker thread of the next {@link bcryptPbkdfParallel} now, so its start-up (~20 ms)
 * overlaps whatever comes before the key derivation: loading, reading the passphrase, generating the
 * key pair. Optional, and free to call when unsure: it does nothing on a single core or when a worker
 * is waiting already, and an unused worker ends with the process.
 */
export function prestartBcryptWorker(): void {
  if (spare || availableParallelism() < 2) return;
  const worker = startWorker();
  const drop = () => {
    if (spare === worker) spare = undefined;
  };
  worker.once('error', drop).once('exit', drop);
  spare = worker;
}

/** Blocks `counts` computed on a worker thread (the prestarted one if there is one); rejects if it fails. */
function inWorker(pass: Int32Array, salt: Uint8Array, counts: number[], rounds: number): Promise<Uint8Array[]> {
  const worker = spare ?? startWorker();
  spare = undefined;
  return new Promise((resolve, reject) => {
    let done = false;
    worker.once('message', (outs: Uint8Array[]) => {
      done = true;
      worker.unref();
      resolve(outs);
    });
    worker.once('error', (error) => {
      done = true;
      worker.unref();
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`bcrypt_pbkdf: worker thread exited with code ${code}`));
    });
    // Held open while its job runs: awaiting a promise alone does not keep Node's event loop alive.
    worker.ref();
    worker.postMessage({ P: P0, S: S0, pass, salt: Uint8Array.from(salt), counts, rounds });
  });
}

/**
 * bcrypt_pbkdf with its independent output blocks computed at the same time: this thread takes the
 * first block(s) and worker threads the rest, so the 48 bytes of aes256-ctr's key and IV (two blocks)
 * take about the time of one on two cores. Byte-for-byte the same as {@link bcryptPbkdf}, which it
 * falls back to for one block, few rounds or a single core.
 */
export async function bcryptPbkdfParallel(passphrase: Uint8Array, salt: Uint8Array, keyLength: number, rounds: number, options: ParallelOptions = {}): Promise<Buffer> {
  const { pass, blocks } = prepare(passphrase, salt, keyLength, rounds);
  const threads = Math.min(blocks, Math.max(1, Math.floor(options.threads ?? availableParallelism())));
  if (threads < 2 || rounds < (options.minRounds ?? (spare ? 1 : PARALLEL_MIN_ROUNDS))) return bcryptPbkdf(passphrase, salt, keyLength, rounds);
  // Block counts dealt round-robin: thread t takes t+1, t+1+threads, …
  const share = (t: number) => Array.from({ length: blocks }, (_, i) => i + 1).filter((count) => (count - 1) % threads === t);
  const pending: Promise<{ counts: number[]; outs: Uint8Array[] }>[] = [];
  for (let t = 1; t < threads; t++) {
    const counts = share(t);
    pending.push(inWorker(pass, salt, counts, rounds).then((outs) => ({ counts, outs })));
  }
  const key = Buffer.alloc(keyLength);
  for (const count of share(0)) place(key, block(pass, salt, count, rounds), count, blocks);
  for (const { counts, outs } of await Promise.all(pending)) counts.forEach((count, i) => place(key, outs[i]!, count, blocks));
  return key;
}
