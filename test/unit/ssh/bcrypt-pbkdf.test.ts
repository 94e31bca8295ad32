import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import reference from 'bcrypt-pbkdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bcryptPbkdf, bcryptPbkdfParallel, prestartBcryptWorker } from '../../../src/ssh/bcrypt-pbkdf.js';
import { generateKey, publicKeyLine, readPrivateKey } from '../../../src/ssh/keys.js';
import { describeWith } from '../../helpers/system.js';

const referencePbkdf = (pass: Uint8Array, salt: Uint8Array, length: number, rounds: number): Buffer => {
  const out = Buffer.alloc(length);
  expect(reference.pbkdf(pass, pass.length, salt, salt.length, out, length, rounds)).toBe(0);
  return out;
};

/** Every key length and round count the brief names, across block boundaries (32 bytes a block). */
const LENGTHS = [1, 7, 16, 31, 32, 33, 48, 63, 64, 65, 100];
const ROUNDS = [1, 2, 16];

it('matches the reference port of OpenBSD bcrypt_pbkdf for many inputs and lengths', () => {
  for (let t = 0; t < 12; t++) {
    const pass = randomBytes(1 + ((t * 13) % 70));
    const salt = randomBytes(1 + ((t * 7) % 32));
    const length = [16, 32, 48, 64, 7, 100][t % 6]!;
    const rounds = 1 + (t % 4);
    expect(bcryptPbkdf(pass, salt, length, rounds).equals(referencePbkdf(pass, salt, length, rounds))).toBe(true);
  }
});

it("gives OpenBSD's test vector and refuses bad parameters", async () => {
  // regress/lib/libutil/bcrypt_pbkdf: "password", "salt", 4 rounds, 32 bytes.
  expect(bcryptPbkdf(Buffer.from('password'), Buffer.from('salt'), 32, 4).toString('hex')).toBe('5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9');
  const bad = [[Buffer.alloc(0), Buffer.from('salt'), 48, 4], [Buffer.from('p'), Buffer.from('salt'), 48, 0], [Buffer.from('p'), Buffer.alloc(0), 48, 4], [Buffer.from('p'), Buffer.from('salt'), 0, 4], [Buffer.from('p'), Buffer.from('salt'), 1025, 4], [Buffer.from('p'), Buffer.from('salt'), 48, 1.5]] as const;
  for (const [pass, salt, length, rounds] of bad) {
    expect(() => bcryptPbkdf(pass, salt, length, rounds)).toThrow(/bad parameters/);
    await expect(bcryptPbkdfParallel(pass, salt, length, rounds, { minRounds: 1 })).rejects.toThrow(/bad parameters/);
  }
});

describe('bcryptPbkdfParallel: blocks on worker threads', () => {
  it.each(ROUNDS)('is byte-for-byte the single-thread bcrypt_pbkdf and the reference port, %i round(s), every length', async (rounds) => {
    for (const length of LENGTHS) {
      const pass = randomBytes(1 + ((length * 5) % 60));
      const salt = randomBytes(16);
      const single = bcryptPbkdf(pass, salt, length, rounds);
      // minRounds 1: the worker path even where the heuristic would stay on this thread.
      const [two, three] = await Promise.all([
        bcryptPbkdfParallel(pass, salt, length, rounds, { threads: 2, minRounds: 1 }),
        bcryptPbkdfParallel(pass, salt, length, rounds, { threads: 3, minRounds: 1 }),
      ]);
      expect(two.toString('hex'), `${length} bytes`).toBe(single.toString('hex'));
      expect(three.toString('hex'), `${length} bytes`).toBe(single.toString('hex'));
      if (rounds <= 2) expect(single.toString('hex'), `${length} bytes`).toBe(referencePbkdf(pass, salt, length, rounds).toString('hex'));
    }
  });

  it("gives OpenBSD's test vector, and OpenSSH's 48 bytes with the default choice of threads", async () => {
    expect((await bcryptPbkdfParallel(Buffer.from('password'), Buffer.from('salt'), 32, 4, { minRounds: 1 })).toString('hex')).toBe('5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9');
    const pass = Buffer.from('correct horse');
    const salt = randomBytes(16);
    expect((await bcryptPbkdfParallel(pass, salt, 48, 16)).equals(referencePbkdf(pass, salt, 48, 16))).toBe(true);
    expect((await bcryptPbkdfParallel(pass, salt, 48, 16, { threads: 1 })).equals(bcryptPbkdf(pass, salt, 48, 16))).toBe(true);
  });

  it('uses a prestarted worker, and a prestart nobody uses is harmless', async () => {
    const pass = randomBytes(9);
    const salt = randomBytes(16);
    prestartBcryptWorker();
    prestartBcryptWorker();
    expect((await bcryptPbkdfParallel(pass, salt, 48, 2, { threads: 2, minRounds: 1 })).equals(bcryptPbkdf(pass, salt, 48, 2))).toBe(true);
    prestartBcryptWorker();
    expect((await bcryptPbkdfParallel(pass, salt, 100, 1, { threads: 3, minRounds: 1 })).equals(bcryptPbkdf(pass, salt, 100, 1))).toBe(true);
    prestartBcryptWorker(); // left waiting: it is unreferenced, so it ends with this test process
  });

  // The worker runs the block function from its source text: it must survive esbuild's minifier as
  // scripts/build.mjs uses it (a bundle, ESM, minified), not just vitest's transform of src/.
  describe('from a minified esbuild bundle', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'keysmith-bcrypt-bundle-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('gives the same bytes', async () => {
      const outfile = join(dir, 'bcrypt-pbkdf.mjs');
      await build({ entryPoints: [new URL('../../../src/ssh/bcrypt-pbkdf.ts', import.meta.url).pathname], outfile, bundle: true, format: 'esm', platform: 'node', target: 'node20', minify: true, logLevel: 'warning' });
      const bundled = (await import(pathToFileURL(outfile).href)) as { bcryptPbkdfParallel: typeof bcryptPbkdfParallel };
      for (const length of [33, 48, 100]) {
        const pass = randomBytes(20);
        const salt = randomBytes(16);
        expect((await bundled.bcryptPbkdfParallel(pass, salt, length, 2, { threads: 2, minRounds: 1 })).equals(bcryptPbkdf(pass, salt, length, 2))).toBe(true);
      }
    });

    it('a process awaiting the worker waits for it; one with an unused prestarted worker still exits', () => {
      const run = (code: string) => execFileSync(process.execPath, ['--input-type=module', '-e', `import * as b from ${JSON.stringify(pathToFileURL(join(dir, 'bcrypt-pbkdf.mjs')).href)};\n${code}`], { encoding: 'utf8', timeout: 30_000 });
      // Nothing but the worker keeps the event loop alive while the key is derived.
      const derived = run("b.prestartBcryptWorker(); b.bcryptPbkdfParallel(Buffer.from('password'), Buffer.from('salt'), 32, 4, { threads: 2, minRounds: 1 }).then((k) => process.stdout.write(k.toString('hex')));");
      expect(derived).toBe('5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9');
      expect(run("b.prestartBcryptWorker(); process.stdout.write('done');")).toBe('done');
    });
  });
});

const parallelKdf = (passphrase: string, salt: Buffer, rounds: number) => bcryptPbkdfParallel(Buffer.from(passphrase), salt, 48, rounds, { threads: 2, minRounds: 1 });

describeWith(['ssh-keygen'], 'keys protected with the parallel bcrypt_pbkdf, and ssh-keygen', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-bcrypt-ssh-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['ed25519', 16],
    ['ecdsa', 2],
  ] as const)('ssh-keygen -y opens a %s key written with it (%i rounds)', async (type, rounds) => {
    const key = await generateKey({ type, comment: 'parallel@test', passphrase: 'pass phrase', rounds }, parallelKdf);
    const file = join(dir, `${type}-${rounds}`);
    writeFileSync(file, key.privateKey, { mode: 0o600 });
    const derived = execFileSync('ssh-keygen', ['-y', '-P', 'pass phrase', '-f', file], { encoding: 'utf8' }).trim();
    expect(derived.split(' ').slice(0, 2)).toEqual(publicKeyLine(key.publicKey).split(' ').slice(0, 2));
    expect(() => execFileSync('ssh-keygen', ['-y', '-P', 'wrong', '-f', file], { stdio: 'ignore' })).toThrow();
  });

  it('opens a key that ssh-keygen -a 16 protected', async () => {
    const file = join(dir, 'by-ssh-keygen');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-a', '16', '-N', 'pass phrase', '-C', 'sk', '-f', file]);
    const read = await readPrivateKey(readFileSync(file, 'utf8'), file, 'pass phrase', parallelKdf);
    expect(publicKeyLine(read.publicKey!).split(' ').slice(0, 2)).toEqual(readFileSync(`${file}.pub`, 'utf8').trim().split(' ').slice(0, 2));
  });
});
