import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuthError, UsageError } from '../../src/errors.js';
import { ageDecrypt, ageEncrypt, generateIdentity, recipientKind, recipientOf } from '../../src/vault/age.js';
import { describeWith } from '../helpers/system.js';

/**
 * age's ssh-ed25519 and ssh-rsa recipient types, differentially against the `age` tool (agessh, the
 * reference implementation) both ways, with keys made by ssh-keygen.
 */
describeWith(['age', 'ssh-keygen'], 'age SSH recipients against the age tool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keysmith-age-ssh-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  interface Key { path: string; priv: string; pub: string }
  const keys: Record<string, Key> = {};
  const keygen = (name: string, ...args: string[]): Key => {
    const path = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-N', '', '-C', `${name}@test`, '-f', path, ...args]);
    return { path, priv: readFileSync(path, 'utf8'), pub: readFileSync(`${path}.pub`, 'utf8').trim() };
  };
  const KINDS = ['ed25519', 'rsa2048', 'rsa3072', 'rsa4096'] as const;
  let x25519 = { identity: '', recipient: '' };
  beforeAll(async () => {
    keys.ed25519 = keygen('ed25519', '-t', 'ed25519');
    keys.rsa2048 = keygen('rsa2048', '-t', 'rsa', '-b', '2048');
    // 384-byte RSA-OAEP body: 512 base64 characters, eight full lines and an empty final one.
    keys.rsa3072 = keygen('rsa3072', '-t', 'rsa', '-b', '3072');
    keys.rsa4096 = keygen('rsa4096', '-t', 'rsa', '-b', '4096');
    keys.other = keygen('other', '-t', 'ed25519');
    keys.otherRsa = keygen('other-rsa', '-t', 'rsa', '-b', '2048');
    keys.ecdsa = keygen('ecdsa', '-t', 'ecdsa');
    const identity = await generateIdentity();
    x25519 = { identity, recipient: await recipientOf(identity) };
  });

  let n = 0;
  const file = (bytes: Uint8Array) => {
    const path = join(dir, `f${n++}.age`);
    writeFileSync(path, bytes);
    return path;
  };
  /** `age` with args, the file's bytes on stdin; ok when it exits 0. */
  const age = (args: string[], input: Uint8Array = Buffer.alloc(0)) => {
    const r = spawnSync('age', args, { input, maxBuffer: 1 << 24 });
    return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr.toString() };
  };
  const decrypt = (bytes: Uint8Array, ...identities: string[]) => ageDecrypt(bytes, { identities }, 'the test file');
  const sizes = [0, 1, 64 * 1024, 64 * 1024 + 1];

  it.each(KINDS.flatMap((k) => sizes.map((s) => [k, s] as const)))('keysmith encrypts to ssh %s (%i bytes): age -d -i decrypts', async (kind, size) => {
    const plain = randomBytes(size);
    const sealed = await ageEncrypt(plain, { recipients: [keys[kind]!.pub] });
    const got = age(['-d', '-i', keys[kind]!.path, file(sealed)]);
    expect(got.stderr).toBe('');
    expect(got.ok).toBe(true);
    expect(got.stdout.equals(plain)).toBe(true);
  });

  it.each(KINDS.flatMap((k) => sizes.map((s) => [k, s] as const)))('age -R %s encrypts (%i bytes): keysmith decrypts with the private key', async (kind, size) => {
    const plain = randomBytes(size);
    const sealed = age(['-R', `${keys[kind]!.path}.pub`], plain);
    expect(sealed.ok).toBe(true);
    expect(Buffer.from(await decrypt(sealed.stdout, keys[kind]!.priv)).equals(plain)).toBe(true);
    // Armored too, and with the key among others that do not fit.
    const armored = age(['-a', '-R', `${keys[kind]!.path}.pub`], plain);
    expect(Buffer.from(await decrypt(armored.stdout, x25519.identity, keys.other!.priv, keys[kind]!.priv)).equals(plain)).toBe(true);
  });

  it('several recipients mixed (ssh-ed25519, ssh-rsa, age1…): each key opens what the other side wrote', async () => {
    const plain = randomBytes(70_000);
    const recipients = [keys.ed25519!.pub, x25519.recipient, keys.rsa2048!.pub, keys.rsa4096!.pub];
    const ours = await ageEncrypt(plain, { recipients });
    const recipientsFile = join(dir, 'recipients.txt');
    writeFileSync(recipientsFile, `# team\n${recipients.join('\n')}\n`);
    const theirs = age(['-R', recipientsFile], plain).stdout;
    const idFile = join(dir, 'x25519.txt');
    writeFileSync(idFile, `${x25519.identity}\n`);
    for (const [path, identity] of [[keys.ed25519!.path, keys.ed25519!.priv], [idFile, x25519.identity], [keys.rsa2048!.path, keys.rsa2048!.priv], [keys.rsa4096!.path, keys.rsa4096!.priv]] as const) {
      const got = age(['-d', '-i', path, file(ours)]);
      expect(got.ok, path).toBe(true);
      expect(got.stdout.equals(plain)).toBe(true);
      expect(Buffer.from(await decrypt(theirs, identity)).equals(plain)).toBe(true);
    }
    expect(recipients.map(recipientKind)).toEqual(['ssh-ed25519', 'x25519', 'ssh-rsa', 'ssh-rsa']);
  });

  it('a file for another key is an AuthError ("not encrypted to this identity"), as age says no identity matched', async () => {
    for (const [to, other] of [[keys.ed25519!, keys.other!], [keys.rsa2048!, keys.otherRsa!], [keys.ed25519!, keys.rsa2048!]] as const) {
      const sealed = age(['-R', `${to.path}.pub`], Buffer.from('secret')).stdout;
      expect(age(['-d', '-i', other.path, file(sealed)]).stderr).toMatch(/no identity matched/);
      const err = await decrypt(sealed, other.priv).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).code).toBe('ERR_VAULT_WRONG_IDENTITY');
      expect((err as Error).message).toMatch(/is not encrypted to this identity/);
    }
    const err = await decrypt(await ageEncrypt(Buffer.from('x'), { recipients: [x25519.recipient] }), keys.ed25519!.priv).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
  });

  it.each(['ed25519', 'rsa2048'] as const)('a damaged file (bit flips in header and payload, truncation): keysmith and age give the same verdict, a refusal (%s)', async (kind) => {
    const key = keys[kind]!;
    const plain = randomBytes(64 * 1024 + 100);
    const sealed = await ageEncrypt(plain, { recipients: [key.pub, x25519.recipient] });
    const headerEnd = sealed.indexOf(0x0a, Buffer.from(sealed).indexOf('\n--- ') + 1) + 1;
    const variants: Array<[string, Buffer]> = [];
    const step = kind === 'ed25519' ? 1 : 3;
    for (let i = 0; i < headerEnd; i += step) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 1 << (i % 8);
      variants.push([`header byte ${i}`, bad]);
    }
    for (const i of [headerEnd, headerEnd + 15, headerEnd + 16, headerEnd + 5000, headerEnd + 16 + 65536 + 15, headerEnd + 16 + 65536 + 16, sealed.length - 17, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= 0x80;
      variants.push([`payload byte ${i}`, bad]);
    }
    for (const cut of [0, 10, headerEnd - 1, headerEnd, headerEnd + 16, headerEnd + 16 + 65536 + 16, sealed.length - 1]) {
      variants.push([`cut at ${cut}`, Buffer.from(sealed.subarray(0, cut))]);
    }
    variants.push(['a byte added', Buffer.concat([sealed, Buffer.from([0])])]);
    // The MAC's last base64 character with its two unused bits set: the same bytes, non-canonical base64.
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    for (const low of [1, 2, 3]) {
      const bad = Buffer.from(sealed);
      bad[headerEnd - 2] = B64.charCodeAt(B64.indexOf(String.fromCharCode(bad[headerEnd - 2]!)) ^ low);
      variants.push([`non-canonical MAC (${low})`, bad]);
    }
    expect(age(['-d', '-i', key.path, file(sealed)]).ok).toBe(true);
    for (const [what, bad] of variants) {
      const theirs = age(['-d', '-i', key.path, file(bad)]).ok;
      const ours = await decrypt(bad, key.priv).then(() => true, () => false);
      expect({ what, ours }).toEqual({ what, ours: theirs });
      expect({ what, refused: !ours }).toEqual({ what, refused: true });
    }
  });

  it('an ecdsa key (or any type but ssh-ed25519 and ssh-rsa) is not a recipient: ERR_BAD_RECIPIENT, as age refuses it', async () => {
    expect(age(['-R', `${keys.ecdsa!.path}.pub`], Buffer.from('x')).ok).toBe(false);
    const err = await ageEncrypt(Buffer.from('x'), { recipients: [keys.ed25519!.pub, keys.ecdsa!.pub] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('ERR_BAD_RECIPIENT');
    expect((err as Error).message).toMatch(/^unsupported recipient type ecdsa-sha2-nistp256\b[^\n]*$/);
  });

  it('an ed25519 key that is no point of the curve, or of small order: keysmith refuses it as a recipient exactly when age does', () => {
    const P = 2n ** 255n - 19n;
    const le = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex').reverse();
    const ys = [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 10n, P - 1n, P - 2n, P, P + 1n, 2n ** 255n - 1n];
    const candidates = ys.map(le);
    for (let i = 0; i < 8; i++) candidates.push(randomBytes(32));
    let refused = 0;
    for (const point of candidates) {
      const blob = Buffer.concat([Buffer.from('0000000b', 'hex'), Buffer.from('ssh-ed25519'), Buffer.from('00000020', 'hex'), point]);
      const line = `ssh-ed25519 ${blob.toString('base64')}`;
      const theirs = age(['-r', line], Buffer.from('x')).ok;
      let ours = true;
      try {
        recipientKind(line);
      } catch (err) {
        expect((err as UsageError).code).toBe('ERR_BAD_RECIPIENT');
        ours = false;
      }
      expect({ point: point.toString('hex'), ours }).toEqual({ point: point.toString('hex'), ours: theirs });
      if (!theirs) refused++;
    }
    expect(refused).toBeGreaterThan(3);
  });
});
