import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { freePort, startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

/**
 * Outside review (attack) of issue 14's SSH certificates: hostile certificate files for ssh show /
 * ssh fingerprint, hostile inputs to ssh ca sign, the CA's private key, and host certificates in
 * keysmith's own connections — each compared with OpenSSH 9.2 on the same input.
 *
 * Tests named "finding" were written failing, one per hole found, and pass since the fix. Tests marked SAFE
 * pin behaviour that is right and should stay so.
 */

// --- certificate crafting (PROTOCOL.certkeys), bytes as given: latin1 strings are raw bytes ---

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const str = (d: Buffer | string) => {
  const b = Buffer.isBuffer(d) ? d : Buffer.from(d, 'latin1');
  return Buffer.concat([u32(b.length), b]);
};
/** name/data pairs; data as given (a flag: ''; a value: sval('…')). */
const opts = (list: Array<[string, Buffer | string]>) => Buffer.concat(list.map(([n, d]) => Buffer.concat([str(n), str(d)])));
const sval = (s: string) => str(s);
const utf8AsLatin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

interface Ed {
  raw: Buffer;
  privateKey: KeyObject;
  blob: Buffer;
  app?: string;
}
function ed25519(): Ed {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  return { raw, privateKey, blob: Buffer.concat([str('ssh-ed25519'), str(raw)]) };
}

interface CraftOptions {
  subject?: Ed;
  ca?: Ed;
  nonce?: Buffer;
  serial?: bigint;
  type?: number;
  keyId?: string;
  principals?: string[];
  validAfter?: bigint;
  validBefore?: bigint;
  critical?: Buffer;
  extensions?: Buffer;
  reserved?: string;
  caBlob?: Buffer;
  /** A signature blob instead of the CA's. */
  sig?: Buffer;
  /** Bytes after the signature. */
  trailing?: Buffer;
  comment?: string;
  /** Sign as an sk-ssh-ed25519 CA (flags byte). */
  skFlags?: number;
}

/** An ed25519 certificate, signed by an ed25519 (or sk-ssh-ed25519) CA, as a .pub line. */
function craft(o: CraftOptions = {}): { line: string; blob: Buffer } {
  const subject = o.subject ?? ed25519();
  const ca = o.ca ?? ed25519();
  const sk = o.skFlags !== undefined;
  const caBlob = o.caBlob ?? (sk ? Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(ca.raw), str('ssh:')]) : ca.blob);
  const body = Buffer.concat([
    str('ssh-ed25519-cert-v01@openssh.com'), str(o.nonce ?? randomBytes(32)), str(subject.raw),
    u64(o.serial ?? 1n), u32(o.type ?? 1), str(o.keyId ?? 'id'),
    str(Buffer.concat((o.principals ?? ['alice']).map((p) => str(p)))),
    u64(o.validAfter ?? 0n), u64(o.validBefore ?? 0xffff_ffff_ffff_ffffn),
    str(o.critical ?? Buffer.alloc(0)), str(o.extensions ?? Buffer.alloc(0)), str(o.reserved ?? ''), str(caBlob),
  ]);
  let sig = o.sig;
  if (!sig && sk) {
    const fc = Buffer.concat([Buffer.from([o.skFlags!]), u32(7)]);
    const sha = (d: Buffer) => createHash('sha256').update(d).digest();
    const message = Buffer.concat([sha(Buffer.from('ssh:')), fc, sha(body)]);
    sig = Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(sign(null, message, ca.privateKey)), fc]);
  }
  sig ??= Buffer.concat([str('ssh-ed25519'), str(sign(null, body, ca.privateKey))]);
  const blob = Buffer.concat([body, str(sig), o.trailing ?? Buffer.alloc(0)]);
  return { blob, line: `ssh-ed25519-cert-v01@openssh.com ${blob.toString('base64')} ${o.comment ?? 'crafted@test'}` };
}

const isRoot = userInfo().uid === 0;

describeWith(['ssh-keygen'], 'attack: hostile certificate files, ssh ca sign inputs, the CA private key', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  const TZ = 'UTC';
  const ks = (args: string[], extra: NodeJS.ProcessEnv = {}, options: { input?: string; timeoutMs?: number } = {}) => runBin(args, { env: { ...env, ...extra }, ...options });
  const sshKeygen = (args: string[]) => spawnSync('ssh-keygen', args, { encoding: 'latin1', env: { ...process.env, TZ, LC_ALL: 'C' }, cwd: home });
  const file = (name: string, text: string) => {
    const path = join(home, name);
    writeFileSync(path, text, 'latin1');
    return path;
  };
  const key = join(home, 'subject');

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), TZ, SSH_AUTH_SOCK: undefined });
    expect((await ks(['ssh', 'ca', 'create', 'users'])).code).toBe(0);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'subject@test', '-f', key]);
  });

  // --- ssh show / ssh fingerprint on hostile files ---

  it('finding (fixed): ssh show prints C1 control characters (CSI 0x9b, or U+009B in UTF-8) from a certificate raw — only C0 and DEL become ?', async () => {
    // A certificate's key id, principals and option names come from whoever made it. 0x9b is CSI in
    // 8-bit terminals, and U+009B (bytes c2 9b) is CSI to terminals that honour C1 controls in UTF-8
    // (xterm by default): "\x9b2J" clears the screen, "\x9b...m" recolours what follows. keysmith's own
    // printable() (src/text.ts) covers \x7f-\x9f; renderCertificate's safe() stops at \x1f and \x7f.
    const path = file('c1-cert.pub', `${craft({
      keyId: 'id\x9b2J',
      principals: [utf8AsLatin1('alice\u009b31mred'), utf8AsLatin1('Jiří Dvořák')],
      extensions: opts([[utf8AsLatin1('ext\u009b1m'), ''], ['permit-pty', '']]),
    }).line}\n`);
    const got = await ks(['ssh', 'show', path]);
    expect(got.code, got.stderr).toBe(0);
    const out = got.stdoutBytes;
    // No raw CSI, in either encoding (the input is ASCII but for the C1 characters and the name below).
    expect(out.includes(Buffer.from([0x9b])), JSON.stringify(out.toString('latin1'))).toBe(false);
    // Real UTF-8 text is not a control character: ř (c5 99) and Dvořák still print as their bytes, as ssh-keygen prints them.
    expect(out.includes(Buffer.from('Jiří Dvořák', 'utf8'))).toBe(true);
  });

  it('finding (fixed): ssh fingerprint prints a certificate\'s comment with its terminal escapes raw; ssh-keygen -l escapes them (\\033)', async () => {
    const path = file('esc-comment-cert.pub', `${craft({ comment: 'evil\x1b]0;owned\x07\x1b[2J\x9b31m' }).line}\n`);
    const ref = sshKeygen(['-l', '-f', path]);
    expect(ref.status).toBe(0);
    expect(ref.stdout).not.toContain('\x1b'); // OpenSSH: "evil\033]0;owned\007\033[2J…"
    const got = await ks(['ssh', 'fingerprint', path]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdoutBytes.includes(0x1b), JSON.stringify(got.stdout)).toBe(false);
    expect(got.stdoutBytes.includes(0x07)).toBe(false);
    // keysmith's help says "Each key prints as ssh-keygen -l prints it".
    // keysmith reads key files as UTF-8: the stray byte 0x9b (not UTF-8) shows as U+FFFD, never raw;
    // ssh-keygen escapes it as \233. Everything else is escaped as ssh-keygen escapes it.
    expect(got.stdout).toBe(ref.stdout.replace('\\233', '\uFFFD'));
  });

  it('finding (fixed): ssh show --json drops a critical option or extension named __proto__ (assigned into a plain object, it sets the prototype)', async () => {
    const path = file('proto-cert.pub', `${craft({ critical: opts([['__proto__', sval('x')]]), extensions: opts([['__proto__', '']]) }).line}\n`);
    // ssh-keygen -L and ssh show (text) both list it.
    expect(sshKeygen(['-L', '-f', path]).stdout).toContain('__proto__ UNKNOWN OPTION');
    expect((await ks(['ssh', 'show', path])).stdout).toContain('__proto__ UNKNOWN OPTION');
    const json = JSON.parse((await ks(['--json', 'ssh', 'show', path])).stdout) as { criticalOptions: object; extensions: object };
    // A script asking "does this certificate carry critical options?" must not be told no.
    expect(Object.keys(json.criticalOptions)).toEqual(['__proto__']);
    expect(Object.keys(json.extensions)).toEqual(['__proto__']);
  });

  it('SAFE: hostile certificates — ssh show accepts and refuses what ssh-keygen -L does, prints the same bytes, never exit 1, no stack, C0 escapes as ?', async () => {
    const caCert = craft();
    const many = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    const cases: Record<string, CraftOptions> = {
      plain: {},
      escapes: { keyId: 'a\x1b[31mRED\x1b[0m\nnext', principals: ['p\x1b]0;title\x07', 'tab\there'], critical: opts([['force-command', sval('echo \x1b[2J\rX')], ['\x1b[1mcrit', '']]), extensions: opts([['ext\x7f', sval('v\x1b')]]) },
      serialMax: { serial: 0xffff_ffff_ffff_ffffn },
      validZero: { validAfter: 0n, validBefore: 0n },
      validForeverBoth: { validAfter: 0n, validBefore: 0xffff_ffff_ffff_ffffn },
      validSwapped: { validAfter: 2_000_000_000n, validBefore: 1_000_000_000n },
      validFarFuture: { validAfter: 253402300800n, validBefore: 67767976233532799n },
      principals256: { principals: many(256) },
      principals257: { principals: many(257) },
      principalEmpty: { principals: [''] },
      principalNul: { principals: ['a\0b'] },
      principalTrailingNul: { principals: ['ab\0'] },
      keyIdNul: { keyId: 'a\0b' },
      keyIdHuge: { keyId: 'k'.repeat(100_000) },
      duplicateOptions: { extensions: opts([['permit-pty', ''], ['permit-pty', '']]) },
      unsortedOptions: { extensions: opts([['permit-pty', ''], ['permit-X11-forwarding', '']]) },
      forceCommandNotString: { critical: opts([['force-command', 'raw']]) },
      forceCommandEmpty: { critical: opts([['force-command', '']]) },
      forceCommandExtra: { critical: opts([['force-command', Buffer.concat([sval('x'), Buffer.from('y')])]]) },
      verifyRequiredData: { critical: opts([['verify-required', sval('x')]]) },
      flagWithData: { extensions: opts([['permit-pty', sval('x')]]) },
      optionNameNul: { extensions: opts([['a\0b', '']]) },
      optionNameTrailingNul: { extensions: opts([['permit-pty\0', '']]) },
      optionNameEmpty: { extensions: opts([['', '']]) },
      optionsTruncated: { extensions: str('permit-pty') },
      typeThree: { type: 3 },
      typeZero: { type: 0 },
      reserved: { reserved: 'x' },
      trailingByte: { trailing: Buffer.from([0]) },
      badSignature: { sig: Buffer.concat([str('ssh-ed25519'), str(Buffer.alloc(64))]) },
      signatureTrailing: { sig: Buffer.concat([str('ssh-ed25519'), str(Buffer.alloc(64)), Buffer.from([1])]) },
      caIsACertificate: { caBlob: caCert.blob },
      skCa: { skFlags: 1 },
      skCaNoUserPresence: { skFlags: 0 },
      emptyNonce: { nonce: Buffer.alloc(0) },
    };
    const disagreements: string[] = [];
    for (const [name, o] of Object.entries(cases)) {
      const path = file(`hostile-${name}-cert.pub`, `${craft(o).line}\n`);
      const ref = sshKeygen(['-L', '-f', path]);
      const got = await ks(['ssh', 'show', path]);
      const gotText = got.stdoutBytes.toString('latin1');
      expect(got.code === 0 || got.code === 2, `${name}: ${got.stderr}`).toBe(true);
      expect(got.stderr, name).not.toMatch(/unexpected error|\n\s+at /);
      if ((ref.status === 0) !== (got.code === 0)) disagreements.push(`${name}: ssh-keygen ${ref.status} (${ref.stderr.trim()}), keysmith ${got.code} (${got.stderr.trim()})`);
      else if (ref.status === 0 && name !== 'escapes' && gotText !== ref.stdout) disagreements.push(`${name}: output differs`);
      expect(got.stdoutBytes.includes(0x1b), name).toBe(false);
      if (name === 'escapes') {
        expect(gotText).toContain('Key ID: "a?[31mRED?[0m?next"');
        expect(gotText).toContain('force-command echo ?[2J?X');
      }
    }
    expect(disagreements).toEqual([]);
    // Several certificates, CRLF, a BOM, a blank line and a 1 MB line in one file.
    const a = craft().line;
    const b = craft({ keyId: 'second' }).line;
    const mixed = file('mixed-cert.pub', `${a}\r\n\ufeff${b}\n\n${'x'.repeat(1_000_000)}\n${b} last\r\n`);
    const ref = sshKeygen(['-L', '-f', mixed]);
    const got = await ks(['ssh', 'show', mixed]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdoutBytes.toString('latin1')).toBe(ref.stdout);
    // And ssh fingerprint agrees with ssh-keygen -l on a crafted certificate, and refuses a bad signature.
    const good = file('fp-cert.pub', `${craft().line}\n`);
    expect((await ks(['ssh', 'fingerprint', good])).stdout).toBe(sshKeygen(['-l', '-f', good]).stdout);
    const bad = await ks(['ssh', 'fingerprint', join(home, 'hostile-badSignature-cert.pub')]);
    expect(bad.code).toBe(2);
    expect(sshKeygen(['-l', '-f', join(home, 'hostile-badSignature-cert.pub')]).status).not.toBe(0);
  });

  // --- ssh ca sign: inputs and outputs ---

  it('finding (fixed): ssh ca sign --out naming an existing FIFO hangs (it reads the FIFO to see whether it is a renewal)', async () => {
    const fifo = join(home, 'fifo-cert.pub');
    execFileSync('mkfifo', [fifo]);
    for (const force of [[], ['--force']]) {
      const got = await ks(['ssh', 'ca', 'sign', 'users', `${key}.pub`, '-n', 'alice', '--out', fifo, ...force], {}, { timeoutMs: 15_000 });
      // Expected: refused as "not a regular file" (exit 2), at once; today: killed by the timeout.
      expect(got.signal, `${force.join(' ')}: hung`).toBeNull();
      expect(got.code, got.stderr).toBe(2);
      expect(lstatSync(fifo).isFIFO()).toBe(true);
    }
  });

  it.runIf(isRoot || process.env.KEYSMITH_REQUIRE_SYSTEM_TESTS === '1')('finding (fixed) ssh ca sign --out DEVICE --force replaces the device node with a regular file (as root, --out /dev/null --force destroys /dev/null)', async () => {
    // Reproduced by hand: `keysmith ssh ca sign users k.pub -n a --out /dev/null --force` left
    // /dev/null a 0644 regular file holding the certificate (restored with mknod). Here: a copy
    // of /dev/null's device node in a temp folder.
    const dev = join(home, 'null-copy');
    execFileSync('mknod', ['-m', '666', dev, 'c', '1', '3']);
    const got = await ks(['ssh', 'ca', 'sign', 'users', `${key}.pub`, '-n', 'alice', '--out', dev, '--force'], {}, { timeoutMs: 15_000 });
    // Either refused (not a regular file) or written through as a shell redirection would: never replaced.
    expect(lstatSync(dev).isCharacterDevice(), `${got.code} ${got.stderr}`).toBe(true);
  });

  it('finding (fixed): ssh ca sign writes certificates that ssh-keygen -L and keysmith\'s own ssh show call corrupt (and sshd refuses): options whose data breaks their format', async () => {
    // force-command needs a string (sshd: "Unable to parse force-command section"); verify-required
    // and the permit-* flags take no data (ssh-keygen -L: "Option corrupt: extra data at end").
    // signCertificate says "a certificate that does not parse or verify is never written".
    const cases: string[][] = [
      ['--critical', 'force-command'],
      ['--critical', 'source-address'],
      ['--critical', 'verify-required=yes'],
      ['--no-pty', '--extension', 'permit-pty=yes'],
      ['--no-extensions', '--extension', 'permit-X11-forwarding=1'],
    ];
    const problems: string[] = [];
    for (const [i, extra] of cases.entries()) {
      const out = join(home, `corrupt-${i}-cert.pub`);
      const got = await ks(['ssh', 'ca', 'sign', 'users', `${key}.pub`, '-n', 'alice', '--out', out, ...extra]);
      expect(got.stderr).not.toMatch(/unexpected error/);
      if (got.code === 0) {
        const ref = sshKeygen(['-L', '-f', out]);
        const mine = await ks(['ssh', 'show', out]);
        if (ref.status !== 0 || mine.code !== 0) problems.push(`${extra.join(' ')}: signed (exit 0), but ssh-keygen -L: ${ref.stderr.trim()}; ssh show: ${mine.stderr.split('\n')[0]}`);
      } else {
        expect(got.code, extra.join(' ')).toBe(2);
        expect(existsSync(out)).toBe(false);
      }
    }
    expect(problems).toEqual([]);
  });

  it('finding (low, fixed): a 1024-bit RSA CA from the env backend signs, although ssh ca create refuses RSA CAs below 3072 bits and ssh ca sign certifies no key below 2048', async () => {
    const weak = join(home, 'weak-ca');
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', weak]);
    const got = await ks(['ssh', 'ca', 'sign', 'weak', `${key}.pub`, '-n', 'alice', '--out', '-'], { KEYSMITH_VAULT: 'env', KEYSMITH_SECRET_SSH_CA_WEAK: readFileSync(weak, 'utf8'), KEYSMITH_AGE_IDENTITY: undefined });
    expect(got.code, got.stdout).toBe(2);
    expect(got.stderr).toMatch(/1024/);
  });

  it('finding (low, fixed): one damaged ssh-ca/ record makes ssh ca list fail outright (exit 2, nothing listed)', async () => {
    const broken = await ks(['secret', 'set', 'ssh-ca/broken', '--kind', 'ssh-ca', '-'], {}, { input: 'not a key' });
    expect(broken.code, broken.stderr).toBe(0);
    try {
      const list = await ks(['ssh', 'ca', 'list']);
      // The good CA is still listed; the damaged one is named (on stderr, or flagged in the table).
      expect(list.stdout, list.stderr).toMatch(/^users\s/m);
      expect(`${list.stdout}${list.stderr}`).toContain('broken');
    } finally {
      await ks(['secret', 'rm', 'ssh-ca/broken', '--force']);
    }
  });

  it('SAFE: sign refuses /dev/zero, a huge file, a folder (exit 2, at once); a symlinked --out is replaced, its target untouched; 8 concurrent signings leave one valid certificate and no temp file', async () => {
    mkdirSync(join(home, 'folder.pub'));
    writeFileSync(join(home, 'huge.pub'), randomBytes(1_500_000).toString('base64'));
    for (const input of ['/dev/zero', join(home, 'huge.pub'), join(home, 'folder.pub')]) {
      const got = await ks(['ssh', 'ca', 'sign', 'users', input, '-n', 'alice', '--out', '-'], {}, { timeoutMs: 15_000 });
      expect(got.code, `${input}: ${got.stderr}`).toBe(2);
      expect(got.stdout).toBe('');
    }
    writeFileSync(join(home, 'precious.txt'), 'precious\n');
    const link = join(home, 'link-cert.pub');
    symlinkSync(join(home, 'precious.txt'), link);
    expect((await ks(['ssh', 'ca', 'sign', 'users', `${key}.pub`, '-n', 'alice', '--out', link])).code).toBe(2);
    expect((await ks(['ssh', 'ca', 'sign', 'users', `${key}.pub`, '-n', 'alice', '--out', link, '--force'])).code).toBe(0);
    expect(readFileSync(join(home, 'precious.txt'), 'utf8')).toBe('precious\n');
    expect(lstatSync(link).isFile()).toBe(true);
    // Concurrency: same key, same CA, same -cert.pub.
    const dir = join(home, 'race');
    mkdirSync(dir);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
    const runs = await Promise.all(Array.from({ length: 8 }, () => ks(['-q', 'ssh', 'ca', 'sign', 'users', join(dir, 'k.pub'), '-n', 'alice'])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    expect(sshKeygen(['-L', '-f', join(dir, 'k-cert.pub')]).status).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['k', 'k-cert.pub', 'k.pub']);
  });

  it('SAFE: the CA private key is printed by no command but secret get: create/sign/export/list JSON, export formats, errors on damaged CA records (even --debug) hold none of it', async () => {
    const pem = (await ks(['secret', 'get', 'ssh-ca/users'])).stdout;
    expect(pem).toContain('PRIVATE KEY');
    const secretBody = pem.split('\n')[2]!; // a line of the private key's base64
    const outputs = [
      await ks(['--json', 'ssh', 'ca', 'create', 'leak-check']),
      await ks(['--json', 'ssh', 'ca', 'list']),
      await ks(['--json', 'ssh', 'ca', 'sign', 'users', `${key}.pub`, '-n', 'alice', '--out', '-']),
      ...(await Promise.all(['authorized-keys', 'cert-authority', 'known-hosts'].flatMap((format) => [ks(['ssh', 'ca', 'export', 'users', '--format', format]), ks(['--json', 'ssh', 'ca', 'export', 'users', '--format', format])]))),
      await ks(['ssh', 'show', 'ssh-ca/users']),
      await ks(['--debug', 'ssh', 'show', 'users']),
    ];
    for (const o of outputs) {
      expect(`${o.stdout}${o.stderr}`).not.toContain('PRIVATE KEY');
      expect(`${o.stdout}${o.stderr}`).not.toContain(secretBody);
    }
    // Damaged records: the value is never echoed, not even with --debug.
    const damaged: Array<[string, string]> = [
      ['garbage', 'SECRETMARK-not-a-key'],
      ['badpem', '-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETMARKxyz\n-----END OPENSSH PRIVATE KEY-----\n'],
      ['truncated', `${pem.split('\n').slice(0, 4).join('\n')}\nSECRETMARK\n`],
    ];
    for (const [name, value] of damaged) {
      expect((await ks(['secret', 'set', `ssh-ca/${name}`, '--kind', 'ssh-ca', '-'], {}, { input: value })).code).toBe(0);
      for (const args of [['ssh', 'ca', 'sign', name, `${key}.pub`, '-n', 'a', '--out', '-'], ['ssh', 'ca', 'export', name]]) {
        const got = await ks(['--debug', ...args]);
        expect(got.code, `${name}: ${got.stderr}`).toBe(2);
        expect(`${got.stdout}${got.stderr}`).not.toContain('SECRETMARK');
        expect(`${got.stdout}${got.stderr}`).not.toContain(pem.split('\n')[2]!);
      }
      await ks(['secret', 'rm', `ssh-ca/${name}`, '--force']);
    }
  });
});

// --- host certificates in keysmith's own connections ---

describeWith(['ssh-keygen', 'ssh', 'sshd', 'ssh-keyscan'], 'attack: host certificates in deploy, against ssh -o StrictHostKeyChecking=yes', () => {
  const { home, cleanup } = tempHome();
  let sshd: TestSshd;
  let env: NodeJS.ProcessEnv;
  const boot = join(home, 'boot');
  const ca = join(home, 'host-ca');
  const rsaCa = join(home, 'host-ca-rsa');
  const kh = join(home, 'known_hosts');
  const pub = (k: string) => readFileSync(`${k}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const hostCert = join(home, 'host-cert.pub');

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined });
    for (const k of [boot, ca]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '3072', '-N', '', '-f', rsaCa]);
    writeFileSync(hostCert, '');
    sshd = await startSshd({ config: [`HostCertificate ${hostCert}`] });
    writeFileSync(sshd.authorizedKeys, `${pub(boot)}\n`);
    expect((await runBin(['ssh', 'keygen', 'work', '--no-passphrase'], { env })).code).toBe(0);
  });
  afterAll(async () => {
    await sshd?.stop();
    cleanup();
  });

  const certify = async (args: string[], signer = ca) => {
    rmSync(`${sshd.hostKey}-cert.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-s', signer, '-I', 'test-host', ...args, `${sshd.hostKey}.pub`]);
    writeFileSync(hostCert, readFileSync(`${sshd.hostKey}-cert.pub`));
    await sshd.restart();
  };
  const openssh = (host = '127.0.0.1', port = sshd.port) => spawnSync('ssh', ['-F', 'none', '-i', boot, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${kh}`,
    '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=10', '-p', String(port), `root@${host}`, 'true'], { encoding: 'utf8', timeout: 30_000 });
  const keysmith = (host = '127.0.0.1', port = sshd.port, extra: NodeJS.ProcessEnv = {}) =>
    runBin(['ssh', 'deploy', 'work', `root@${host}:${port}`, '-i', boot, '--known-hosts', kh, '--authorized-keys', sshd.authorizedKeys], { env: { ...env, ...extra }, timeoutMs: 60_000 });

  it('finding (fixed): a host certificate signed with ssh-rsa (SHA-1): ssh refuses it (CASignatureAlgorithms, "Certificate signed with disallowed algorithm"), keysmith accepts it', async () => {
    await certify(['-h', '-t', 'ssh-rsa', '-n', '127.0.0.1', '-V', '-5m:+1h'], rsaCa);
    expect(sshKeygenShow(hostCert)).toContain('(using ssh-rsa)');
    writeFileSync(kh, `@cert-authority * ${pub(rsaCa)}\n`);
    const reference = openssh();
    expect(reference.status, reference.stderr).not.toBe(0);
    expect(reference.stderr).toContain('Certificate signed with disallowed algorithm');
    const got = await keysmith();
    expect(got.code, got.stderr).toBe(4);
  });

  it('SAFE: the same RSA CA signing with rsa-sha2-512 is accepted by both', async () => {
    await certify(['-h', '-t', 'rsa-sha2-512', '-n', '127.0.0.1', '-V', '-5m:+1h'], rsaCa);
    writeFileSync(kh, `@cert-authority * ${pub(rsaCa)}\n`);
    expect(openssh().status).toBe(0);
    const got = await keysmith();
    expect(got.code, got.stderr).toBe(0);
  });

  it('finding (fixed): a host certificate whose critical option is named __proto__: ssh refuses it ("unsupported critical options"), keysmith accepts it (Object.keys of the parsed options is empty)', async () => {
    await certify(['-h', '-n', '127.0.0.1', '-V', '-5m:+1h', '-O', 'critical:__proto__=x']);
    expect(sshKeygenShow(hostCert)).toContain('__proto__ UNKNOWN OPTION');
    writeFileSync(kh, `@cert-authority * ${pub(ca)}\n`);
    const reference = openssh();
    expect(reference.status).not.toBe(0);
    expect(reference.stderr).toContain('Certificate contains unsupported critical options');
    const got = await keysmith();
    expect(got.code, got.stderr).toBe(4);
  });

  it('finding (fixed): @revoked naming the host\'s certificate itself (the line ssh-keyscan -c prints): ssh refuses the host (REVOKED HOST KEY), keysmith accepts it', async () => {
    await certify(['-h', '-n', '127.0.0.1', '-V', '-5m:+1h']);
    const certLine = readFileSync(hostCert, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    writeFileSync(kh, `@cert-authority * ${pub(ca)}\n@revoked * ${certLine}\n`);
    const reference = openssh();
    expect(reference.status).not.toBe(0);
    expect(reference.stderr).toMatch(/REVOKED HOST KEY/);
    const got = await keysmith();
    expect(got.code, got.stderr).toBe(4);
  });

  it('finding (low, fixed): principals and host names in another case — ssh lowercases the host name: a certificate for LOCALHOST is refused by ssh for LOCALHOST, accepted by keysmith', async () => {
    await certify(['-h', '-n', 'LOCALHOST', '-V', '-5m:+1h']);
    writeFileSync(kh, `@cert-authority * ${pub(ca)}\n`);
    const reference = openssh('LOCALHOST');
    expect(reference.status).not.toBe(0);
    expect(reference.stderr).toContain('name is not a listed principal');
    const got = await keysmith('LOCALHOST');
    expect(got.code, got.stderr).toBe(4);
  });

  it('finding (usability, fixed): @cert-authority naming the host without its port — ssh accepts it on a non-22 port ("found matching key w/out port"), keysmith calls the host unknown', async () => {
    // keysmith's own export suggests such lines: ssh ca export hosts --format known-hosts --hosts 'web1.example.com'.
    await certify(['-h', '-n', '127.0.0.1', '-V', '-5m:+1h']);
    for (const hosts of ['127.0.0.1', '127.0.0.*']) {
      writeFileSync(kh, `@cert-authority ${hosts} ${pub(ca)}\n`);
      const reference = openssh();
      expect(reference.status, reference.stderr).toBe(0);
      const got = await keysmith();
      expect(got.code, `${hosts}: ${got.stderr}`).toBe(0);
    }
  });

  it('finding (fixed): a host known only by its CA that cannot be reached: exit 4 "it presents no host certificate" instead of exit 5 (unavailable), as the same host without a CA line gets', async () => {
    const closed = await freePort();
    writeFileSync(kh, `@cert-authority * ${pub(ca)}\n`);
    const got = await keysmith('127.0.0.1', closed);
    writeFileSync(kh, '');
    const plain = await keysmith('127.0.0.1', closed);
    expect(plain.code).toBe(5);
    expect(got.stderr).not.toContain('presents no host certificate');
    expect(got.code, got.stderr).toBe(5);
  });

  it('finding (fixed): a host that accepts the connection and never speaks (ssh-keyscan times out): exit 5 (unavailable), not 4 "presents no host certificate"', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      writeFileSync(kh, `@cert-authority * ${pub(ca)}\n`);
      const started = Date.now();
      const got = await keysmith('127.0.0.1', (silent.address() as { port: number }).port);
      expect(Date.now() - started).toBeLessThan(45_000);
      expect(got.stderr).not.toContain('presents no host certificate');
      expect(got.code, got.stderr).toBe(5);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  }, 90_000);

  it('SAFE: revoked certified key, user certificate as HostCertificate, negated and hashed patterns, a CA line that is a certificate (stricter than ssh), ssh-keyscan missing (exit 5)', async () => {
    const cases: Array<[string, string[], () => string, boolean | 'stricter']> = [
      ['the certified key @revoked', ['-h', '-n', '127.0.0.1', '-V', '-5m:+1h'], () => `@cert-authority * ${pub(ca)}\n@revoked * ${pub(sshd.hostKey)}`, false],
      ['a user certificate installed as HostCertificate', ['-n', '127.0.0.1', '-V', '-5m:+1h'], () => `@cert-authority * ${pub(ca)}`, false],
      ['a negated pattern for the port-qualified name', ['-h', '-n', '127.0.0.1', '-V', '-5m:+1h'], () => `@cert-authority ![127.0.0.1]:${sshd.port} ${pub(ca)}\n@cert-authority *.example ${pub(ca)}`, false],
      ['a hashed host name on a @cert-authority line', ['-h', '-n', '127.0.0.1', '-V', '-5m:+1h'], () => `@cert-authority ${hashed(`[127.0.0.1]:${sshd.port}`)} ${pub(ca)}`, true],
      ['a [host]:port pattern', ['-h', '-n', '127.0.0.1', '-V', '-5m:+1h'], () => `@cert-authority [127.0.0.1]:${sshd.port} ${pub(ca)}`, true],
      ['a hashed wrong port', ['-h', '-n', '127.0.0.1', '-V', '-5m:+1h'], () => `@cert-authority ${hashed(`[127.0.0.1]:${sshd.port + 1}`)} ${pub(ca)}`, false],
      ['principal localhost, host LOCALHOST (both lower-case the host name)', ['-h', '-n', 'localhost', '-V', '-5m:+1h'], () => `@cert-authority * ${pub(ca)}`, true],
    ];
    for (const [what, args, knownHosts, accepted] of cases) {
      await certify(args);
      writeFileSync(kh, `${knownHosts()}\n`);
      const host = what.includes('LOCALHOST') ? 'LOCALHOST' : '127.0.0.1';
      const reference = openssh(host);
      expect(reference.status === 0, `${what}: ${reference.stderr}`).toBe(accepted !== false);
      const got = await keysmith(host);
      expect(got.code, `${what}: ${got.stderr}`).toBe(accepted === true ? 0 : 4);
    }
    // A CA line that is itself a certificate: ssh uses its key; keysmith refuses (deliberately stricter).
    await certify(['-h', '-n', '127.0.0.1', '-V', '-5m:+1h']);
    rmSync(`${ca}-cert.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-s', ca, '-I', 'ca-cert', `${ca}.pub`]);
    writeFileSync(kh, `@cert-authority * ${readFileSync(`${ca}-cert.pub`, 'utf8').trim()}\n`);
    expect(openssh().status).toBe(0);
    expect((await keysmith()).code).toBe(4);
    // ssh-keyscan not on PATH: exit 5, named.
    writeFileSync(kh, `@cert-authority * ${pub(ca)}\n`);
    const empty = join(home, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const missing = await keysmith('127.0.0.1', sshd.port, { PATH: empty });
    expect(missing.code, missing.stderr).toBe(5);
    expect(missing.stderr).toContain('needs ssh-keyscan');
    // Nothing was ever added to known_hosts by a certificate.
    expect(readFileSync(kh, 'utf8')).not.toMatch(/^\[127\.0\.0\.1\]/m);
  });
});

function sshKeygenShow(path: string): string {
  return spawnSync('ssh-keygen', ['-L', '-f', path], { encoding: 'latin1' }).stdout;
}

/** A known_hosts hashed host name (|1|salt|hmac-sha1), as ssh-keygen -H writes it. */
function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}


