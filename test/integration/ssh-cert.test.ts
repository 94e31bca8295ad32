import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkSourceAddress, DEFAULT_USER_EXTENSIONS, parseValidity, signCertificate, type CertificateOption } from '../../src/ssh/certificates.js';
import { parsePublicKeyLine } from '../../src/ssh/keys.js';
import { signingKey } from '../../src/ssh/sign.js';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { prng } from '../helpers/random.js';
import { describeWith } from '../helpers/system.js';

/**
 * Issue 14: SSH certificates made by keysmith against those ssh-keygen -s makes from the same
 * inputs, as ssh-keygen -L and -l show them; keysmith's ssh show / ssh fingerprint against
 * ssh-keygen -L / -l; ssh-keygen's -V and source-address grammar, differentially.
 */

const FIXTURES = fileURLToPath(new URL('../../fixtures/ssh/', import.meta.url));

describeWith(['ssh-keygen'], 'SSH certificates: keysmith and ssh-keygen -s, as ssh-keygen -L shows them', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  const TZ = 'UTC';
  const ks = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) => runBin(args, { env: { ...env, ...extra }, ...(input === undefined ? {} : { input }) });
  const sshKeygen = (args: string[], tz = TZ) => spawnSync('ssh-keygen', args, { encoding: 'latin1', env: { ...process.env, TZ: tz, LC_ALL: 'C' }, cwd: home });
  /** ssh-keygen -L of a file, less its first line (the file's name). */
  const showBody = (file: string) => {
    const r = sshKeygen(['-L', '-f', file]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\n').slice(1).join('\n');
  };
  const CAS = [['ed25519', []], ['ecdsa256', ['--key', 'ecdsa', '-b', '256']], ['ecdsa384', ['--key', 'ecdsa', '-b', '384']], ['ecdsa521', ['--key', 'ecdsa', '-b', '521']], ['rsa', ['--key', 'rsa']]] as const;
  const KEYS = [['ed25519', ['-t', 'ed25519']], ['ecdsa256', ['-t', 'ecdsa', '-b', '256']], ['ecdsa384', ['-t', 'ecdsa', '-b', '384']], ['ecdsa521', ['-t', 'ecdsa', '-b', '521']], ['rsa', ['-t', 'rsa', '-b', '3072']]] as const;
  const caFile = (ca: string) => join(home, `ca-${ca}`);
  const keyFile = (key: string) => join(home, `key-${key}`);

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), TZ, SSH_AUTH_SOCK: undefined });
    for (const [name, args] of CAS) {
      const made = await ks(['ssh', 'ca', 'create', `ca-${name}`, ...args]);
      expect(made.code, made.stderr).toBe(0);
      // The vault's value is the CA's private key, an OpenSSH key file ssh-keygen signs with.
      const pem = await ks(['secret', 'get', `ssh-ca/ca-${name}`]);
      writeFileSync(caFile(name), pem.stdoutBytes, { mode: 0o600 });
    }
    for (const [name, args] of KEYS) execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', `${name}@test`, '-f', keyFile(name)]);
  });

  it('the CA key in the vault is the one ssh ca export prints (ssh-keygen -y reads it), in both trust formats', async () => {
    for (const [name] of CAS) {
      const exported = await ks(['ssh', 'ca', 'export', `ca-${name}`]);
      expect(exported.code, exported.stderr).toBe(0);
      const y = sshKeygen(['-y', '-f', caFile(name)]);
      expect(exported.stdout.split(' ').slice(0, 2)).toEqual(y.stdout.trim().split(' ').slice(0, 2));
      expect(exported.stdout).toMatch(new RegExp(` keysmith-ca:ca-${name}\\n$`));
      const kh = await ks(['ssh', 'ca', 'export', `ca-${name}`, '--format', 'known-hosts']);
      expect(kh.stdout).toBe(`@cert-authority * ${exported.stdout}`);
    }
    const list = JSON.parse((await ks(['--json', 'ssh', 'ca', 'list'])).stdout);
    expect(list.map((c: { name: string; algorithm: string; bits: number }) => [c.name, c.algorithm, c.bits])).toEqual([
      ['ca-ecdsa256', 'ecdsa-sha2-nistp256', 256], ['ca-ecdsa384', 'ecdsa-sha2-nistp384', 384], ['ca-ecdsa521', 'ecdsa-sha2-nistp521', 521], ['ca-ed25519', 'ssh-ed25519', 256], ['ca-rsa', 'ssh-rsa', 3072],
    ]);
  });

  it.each(CAS.flatMap(([ca]) => KEYS.map(([key]) => [ca, key])))('CA %s, key %s: ssh-keygen -L shows keysmith\'s certificate as it shows ssh-keygen\'s; ssh show and ssh fingerprint print what -L and -l print', async (ca, key) => {
    for (const host of [false, true]) {
      const tag = `${ca}-${key}${host ? '-host' : ''}`;
      const ours = join(home, `ks-${tag}-cert.pub`);
      const theirs = join(home, `sk-${tag}-cert.pub`);
      const principals = host ? 'web1.example.com,10.0.0.7' : 'alice,deploy';
      const signed = await ks(['ssh', 'ca', 'sign', `ca-${ca}`, `${keyFile(key)}.pub`, '-n', principals, '-I', `id-${tag}`, '-z', '12345', '--valid', '20260101:20270101123456', '--out', ours, ...(host ? ['--host'] : [])]);
      expect(signed.code, signed.stderr).toBe(0);
      expect(signed.stdout).toBe(`${ours}\n`);
      expect(statSync(ours).mode & 0o777).toBe(0o644);
      const sk = sshKeygen(['-q', '-s', caFile(ca), '-I', `id-${tag}`, '-n', principals, '-V', '20260101:20270101123456', '-z', '12345', ...(host ? ['-h'] : []), `${keyFile(key)}.pub`]);
      expect(sk.status, sk.stderr).toBe(0);
      copyFileSync(`${keyFile(key)}-cert.pub`, theirs);
      expect(showBody(ours)).toBe(showBody(theirs));
      for (const file of [ours, theirs]) {
        const show = await ks(['ssh', 'show', file]);
        expect(show.code, show.stderr).toBe(0);
        expect(show.stdout).toBe(sshKeygen(['-L', '-f', file]).stdout);
        const fp = await ks(['ssh', 'fingerprint', file]);
        expect(fp.stdout).toBe(sshKeygen(['-l', '-f', file]).stdout);
      }
      // The same line as ssh-keygen's but for the nonce and signature: type and comment too.
      const [ot, , oc] = readFileSync(ours, 'utf8').split(' ');
      const [tt, , tc] = readFileSync(theirs, 'utf8').split(' ');
      expect([ot, oc]).toEqual([tt, tc]);
    }
  });

  it.each(CAS.map(([ca]) => [ca]))('CA %s: given ssh-keygen\'s nonce, keysmith makes the very bytes ssh-keygen signed (and, but for ECDSA\'s random k, the same signature)', async (ca) => {
    const caKey = await signingKey(readFileSync(caFile(ca), 'utf8'), caFile(ca));
    const cases: Array<{ args: string[]; criticalOptions?: CertificateOption[]; extensions?: CertificateOption[]; type: 'user' | 'host'; principals: string[]; validAfter: bigint; validBefore: bigint }> = [
      { args: ['-n', 'alice'], type: 'user', principals: ['alice'], validAfter: 0n, validBefore: 2n ** 64n - 1n, extensions: DEFAULT_USER_EXTENSIONS.map((name) => ({ name })) },
      { args: ['-h', '-n', 'a.example,b.example', '-V', '0x10:0x7fffffff'], type: 'host', principals: ['a.example', 'b.example'], validAfter: 16n, validBefore: 0x7fffffffn },
      {
        args: ['-n', 'bob', '-V', 'always:20300101Z', '-O', 'clear', '-O', 'force-command=echo forced', '-O', 'source-address=10.0.0.0/8,::1', '-O', 'verify-required', '-O', 'permit-pty', '-O', 'no-touch-required', '-O', 'extension:login@example.com=alice', '-O', 'critical:custom@example.com'],
        type: 'user', principals: ['bob'], validAfter: 0n, validBefore: BigInt(Date.UTC(2030, 0, 1) / 1000),
        criticalOptions: [{ name: 'verify-required' }, { name: 'source-address', value: '10.0.0.0/8,::1' }, { name: 'force-command', value: 'echo forced' }, { name: 'custom@example.com' }],
        extensions: [{ name: 'permit-pty' }, { name: 'no-touch-required' }, { name: 'login@example.com', value: 'alice' }],
      },
    ];
    for (const [i, c] of cases.entries()) {
      const sk = sshKeygen(['-q', '-s', caFile(ca), '-I', `nonce-${i}`, '-z', String(i * 1000 + 7), ...c.args, `${keyFile('ecdsa384')}.pub`]);
      expect(sk.status, sk.stderr).toBe(0);
      const theirs = parsePublicKeyLine(readFileSync(`${keyFile('ecdsa384')}-cert.pub`, 'utf8'), 'theirs');
      const subject = parsePublicKeyLine(readFileSync(`${keyFile('ecdsa384')}.pub`, 'utf8'), 'key');
      const ours = signCertificate(subject, caKey, { type: c.type, keyId: `nonce-${i}`, principals: c.principals, validAfter: c.validAfter, validBefore: c.validBefore, serial: BigInt(i * 1000 + 7), criticalOptions: c.criticalOptions ?? [], extensions: c.extensions ?? [], nonce: theirs.certificate!.nonce });
      const signed = (c: NonNullable<typeof ours.certificate>) => c.blob.subarray(0, c.blob.length - 4 - c.signature.length);
      expect(signed(ours.certificate!).toString('hex'), `case ${i}`).toBe(signed(theirs.certificate!).toString('hex'));
      if (!ca.startsWith('ecdsa')) expect(ours.certificate!.blob.toString('hex'), `case ${i}`).toBe(theirs.certificate!.blob.toString('hex'));
    }
  });

  it('every critical option and extension flag: ssh-keygen -L shows keysmith\'s certificate as it shows ssh-keygen\'s', async () => {
    const ours = join(home, 'opts-cert.pub');
    const signed = await ks(['ssh', 'ca', 'sign', 'ca-ed25519', `${keyFile('ed25519')}.pub`, '--out', ours, '-n', 'alice', '-I', 'opts', '-z', '0', '--valid', 'always:forever',
      '--force-command', 'echo forced', '--source-address', '10.0.0.0/8,::1', '--critical', 'verify-required', '--extension', 'no-touch-required', '--extension', 'login@example.com=alice',
      '--no-pty', '--no-user-rc', '--no-x11-forwarding']);
    expect(signed.code, signed.stderr).toBe(0);
    const sk = sshKeygen(['-q', '-s', caFile('ed25519'), '-I', 'opts', '-n', 'alice', '-O', 'force-command=echo forced', '-O', 'source-address=10.0.0.0/8,::1', '-O', 'verify-required',
      '-O', 'no-touch-required', '-O', 'extension:login@example.com=alice', '-O', 'no-pty', '-O', 'no-user-rc', '-O', 'no-x11-forwarding', `${keyFile('ed25519')}.pub`]);
    expect(sk.status, sk.stderr).toBe(0);
    const body = showBody(ours);
    expect(body).toBe(showBody(`${keyFile('ed25519')}-cert.pub`));
    expect(body).toContain('        Critical Options: \n                force-command echo forced\n                source-address 10.0.0.0/8,::1\n                verify-required\n');
    expect(body).toContain('        Extensions: \n                login@example.com UNKNOWN OPTION: 00000005616c696365 (len 9)\n                no-touch-required\n                permit-agent-forwarding\n                permit-port-forwarding\n');
    expect(body).toContain('Valid: forever');
    // --no-extensions is -O clear; with every --no-… the same.
    const bare = join(home, 'bare-cert.pub');
    expect((await ks(['ssh', 'ca', 'sign', 'ca-ed25519', `${keyFile('ed25519')}.pub`, '--out', bare, '-n', 'alice', '-I', 'bare', '-z', '0', '--valid', 'always:forever', '--no-extensions'])).code).toBe(0);
    sshKeygen(['-q', '-s', caFile('ed25519'), '-I', 'bare', '-n', 'alice', '-O', 'clear', `${keyFile('ed25519')}.pub`]);
    expect(showBody(bare)).toBe(showBody(`${keyFile('ed25519')}-cert.pub`));
    expect(showBody(bare)).toContain('Critical Options: (none)\n        Extensions: (none)\n');
    // --json gives the fields.
    const json = JSON.parse((await ks(['--json', 'ssh', 'show', ours])).stdout);
    expect(json).toMatchObject({
      file: ours, line: 1, type: 'user', algorithm: 'ssh-ed25519-cert-v01@openssh.com', keyId: 'opts', serial: '0', principals: ['alice'], validAfter: null, validBefore: null, valid: 'forever', status: 'valid',
      criticalOptions: { 'force-command': 'echo forced', 'source-address': '10.0.0.0/8,::1', 'verify-required': true },
      extensions: { 'login@example.com': 'alice', 'no-touch-required': true, 'permit-agent-forwarding': true, 'permit-port-forwarding': true },
      publicKey: { type: 'ED25519-CERT', bits: 256 }, signingCa: { type: 'ED25519', signatureAlgorithm: 'ssh-ed25519' }, comment: 'ed25519@test',
    });
    expect(Object.keys(json.extensions)).not.toContain('permit-pty');
  });

  it('security keys (sk-ssh-ed25519, sk-ecdsa) are certified as ssh-keygen certifies them', async () => {
    for (const f of ['sk-ed25519.pub', 'sk-ecdsa.pub', 'sk-ed25519-nocomment.pub']) {
      const pub = join(home, f);
      copyFileSync(join(FIXTURES, f), pub);
      const ours = join(home, `ks-${f}-cert.pub`);
      const got = await ks(['ssh', 'ca', 'sign', 'ca-ecdsa256', pub, '-n', 'alice', '-I', 'sk', '-z', '5', '--valid', '20260101:20270101', '--out', ours]);
      expect(got.code, got.stderr).toBe(0);
      const sk = sshKeygen(['-q', '-s', caFile('ecdsa256'), '-I', 'sk', '-n', 'alice', '-z', '5', '-V', '20260101:20270101', pub]);
      expect(sk.status, sk.stderr).toBe(0);
      expect(showBody(ours), f).toBe(showBody(pub.replace(/\.pub$/, '-cert.pub')));
      expect(readFileSync(ours, 'utf8').split(' ')[2]).toBe(readFileSync(pub.replace(/\.pub$/, '-cert.pub'), 'utf8').split(' ')[2]);
    }
  });

  it('ssh show prints what ssh-keygen -L prints for every certificate fixture (ssh-keygen\'s, security keys, DSA, host, options), and refuses what it refuses', async () => {
    const files = readdirSync(FIXTURES).filter((f) => /cert.*\.pub$/.test(f)).sort();
    expect(files.length).toBeGreaterThan(15);
    const rel = relative(home, FIXTURES);
    for (const f of files) {
      const file = join(rel, f);
      const ref = spawnSync('ssh-keygen', ['-L', '-f', file], { encoding: 'latin1', cwd: home, env: { ...process.env, TZ } });
      const got = spawnSync(process.execPath, [join(fileURLToPath(new URL('../../bin/keysmith.js', import.meta.url))), 'ssh', 'show', file], { encoding: 'latin1', cwd: home, env });
      if (ref.status === 0) {
        expect(got.status, `${f}: ${got.stderr}`).toBe(0);
        expect(got.stdout, f).toBe(ref.stdout);
      } else {
        expect(got.status, f).toBe(2);
        expect(got.stdout, f).toBe('');
        expect(got.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });

  it('a file of several lines, and stdin: PATH:N: headers, comments skipped, a plain key named on stderr', async () => {
    const several = join(home, 'several.pub');
    writeFileSync(several, `# certificates\n${readFileSync(join(FIXTURES, 'ed25519-cert.pub'), 'utf8')}${readFileSync(join(FIXTURES, 'ed25519.pub'), 'utf8')}${readFileSync(join(FIXTURES, 'host-ed25519-cert.pub'), 'utf8')}`);
    const ref = sshKeygen(['-L', '-f', several]);
    const got = await ks(['ssh', 'show', several]);
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe(ref.stdout);
    expect(got.stdout).toContain(`${several}:2:\n`);
    expect(got.stderr).toContain(`${several}:3 is not a certificate`);
    const text = readFileSync(join(FIXTURES, 'rsa3072-cert.pub'), 'utf8');
    const stdin = await ks(['ssh', 'show', '-'], {}, text);
    expect(stdin.stdout).toBe(spawnSync('ssh-keygen', ['-L', '-f', '-'], { input: text, encoding: 'latin1', env: { ...process.env, TZ } }).stdout);
    expect(JSON.parse((await ks(['--json', 'ssh', 'show', several])).stdout).map((c: { line: number; type: string }) => [c.line, c.type])).toEqual([[2, 'user'], [4, 'host']]);
    const plain = await ks(['ssh', 'show', join(FIXTURES, 'ed25519.pub')]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('is not a certificate');
    expect(plain.stderr).toContain('keysmith ssh fingerprint');
  });

  it('times in local time as ssh-keygen prints them, in a zone with summer time', async () => {
    const ours = join(home, 'tz-cert.pub');
    const berlin = { TZ: 'Europe/Berlin' };
    expect((await ks(['ssh', 'ca', 'sign', 'ca-ed25519', `${keyFile('ed25519')}.pub`, '--out', ours, '-n', 'a', '-I', 'tz', '--valid', '20260701:20261201120000'], berlin)).code).toBe(0);
    sshKeygen(['-q', '-s', caFile('ed25519'), '-I', 'tz', '-n', 'a', '-V', '20260701:20261201120000', `${keyFile('ed25519')}.pub`], 'Europe/Berlin');
    for (const tz of ['Europe/Berlin', 'America/New_York', 'UTC']) {
      const mine = sshKeygen(['-L', '-f', ours], tz).stdout.split('\n').find((l) => l.includes('Valid:'));
      expect(mine).toBe(sshKeygen(['-L', '-f', `${keyFile('ed25519')}-cert.pub`], tz).stdout.split('\n').find((l) => l.includes('Valid:')));
      expect((await ks(['ssh', 'show', ours], { TZ: tz })).stdout).toBe(sshKeygen(['-L', '-f', ours], tz).stdout);
    }
    expect(sshKeygen(['-L', '-f', ours], 'Europe/Berlin').stdout).toContain('Valid: from 2026-07-01T01:00:00 to 2026-12-01T12:00:00');
  });

  it('differential: -V specifications, keysmith and ssh-keygen agree on accept/refuse and on the times, in four time zones', () => {
    const specs = [
      '+8h', '+1w2d', '+90', '+0', '+1h30m', '+ 5m', '++5m', '+5M', '+2147483647', '+2147483648', '+24855d', '+24856d', '+5x', '+', '+-5m', '+5 m',
      '-5m:+1h', '-1d:forever', 'always:+1d', 'always:forever', '-0:+1', '+1h:+2h', '+2h:+1h', '-23000d:+1h', '-24000d:+1h',
      '0x10:0x20', '0x1:0xffffffffffffffff', '0x1:0x10000000000000000', '0x:0x1', '0X10:0x20', '0x00000000000000000010:0x20', '0x1g:0x2',
      '20260101:20260201', '20260101Z:20260201utc', '20260101z:20260201UTC', '202601011230:20260101123045', '20260230:20260301', '2026 101:20260201',
      '20260101000060:20260102', '20260101000061:20260102', '20260101000062:20260102', '20261301:20270101', '20260001:20270101', '20260100:20270101',
      '20260101:20260101', '20260201:20260101', '19691231:20260101', '19700101:20260101', '19700101Z:20260101', '20260701:20260702', '20260329020000:20260329040000',
      '99991231:forever', '100001231:forever', 'forever:always', 'always:always', ':20260101', '20260101:', '20260101', '-5m', '2026010:20260201',
      '20260101T:forever', '2026-01-01:forever', '20260101:+1d:+2d', '20260101 :forever', ' 20260101:forever', '20260101utc:0x7fffffff',
    ];
    const rand = prng(14);
    const pieces = ['2026', '01', '12', '31', '00', '60', '0', '1', '+', '-', ':', 'Z', 'utc', 'always', 'forever', '0x', '1f', 'h', 'm', 'd', 'w', 's', ' ', '5'];
    for (let i = 0; i < 150; i++) specs.push(Array.from({ length: 1 + Math.floor(rand() * 6) }, () => pieces[Math.floor(rand() * pieces.length)]).join(''));
    const key = `${keyFile('ed25519')}.pub`;
    const disagreements: string[] = [];
    const saved = process.env.TZ;
    try {
      for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Sydney']) {
        for (const spec of specs) {
          rmSync(`${keyFile('ed25519')}-cert.pub`, { force: true });
          const t0 = Math.floor(Date.now() / 1000);
          // keysmith's one addition: a bare duration (8h) is +DURATION, which ssh-keygen alone refuses.
          const theirSpec = /^(\d+[smhdwSMHDW])+$/.test(spec) ? `+${spec}` : spec;
          const r = sshKeygen(['-q', '-s', caFile('ed25519'), '-I', 'v', '-V', theirSpec, key], tz);
          const t1 = Math.floor(Date.now() / 1000);
          const theirs = r.status === 0 ? parsePublicKeyLine(readFileSync(`${keyFile('ed25519')}-cert.pub`, 'utf8'), 'c').certificate! : undefined;
          process.env.TZ = tz;
          // ssh-keygen's time() reads the kernel's coarse clock, which can still say the second
          // before Date.now() does: its "now" is one of t0 - 1 … t1.
          let agreed = false;
          let mine = '';
          for (let t = t0 - 1; t <= t1 && !agreed; t++) {
            try {
              const v = parseValidity(spec, new Date(t * 1000));
              mine = `${v.validAfter}:${v.validBefore}`;
              agreed = theirs !== undefined && v.validAfter === theirs.validAfter && v.validBefore === theirs.validBefore;
            } catch (err) {
              mine = `refused (${(err as Error).message})`;
              agreed = theirs === undefined;
            }
          }
          if (!agreed) disagreements.push(`${tz} ${JSON.stringify(spec)}: ssh-keygen ${theirs ? `${theirs.validAfter}:${theirs.validBefore}` : `refused (${r.stderr.trim()})`}, keysmith ${mine}`);
        }
      }
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
    expect(disagreements).toEqual([]);
    // keysmith's one addition: a bare duration is +DURATION (ssh-keygen refuses it).
    expect(sshKeygen(['-q', '-s', caFile('ed25519'), '-I', 'v', '-V', '8h', key]).status).not.toBe(0);
    expect(parseValidity('8h', new Date(0)).validBefore).toBe(8n * 3600n);
  });

  it('differential: source-address lists, keysmith and ssh-keygen agree on which are valid', () => {
    const lists = [
      '10.0.0.0/8', '127.0.0.1', '10.0.0.0/8,192.168.1.7', '0.0.0.0/0', '::1', '::/0', '2001:db8::/32', '::ffff:10.0.0.1', '10/32', '010.0.0.0/8', '10.1', '10.1.2',
      '4294967295', '4294967296', '1.16777215', '1.16777216', '0777.0.0.1', 'fe80::1/128', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::8', '1:2:3:4:5:6:1.2.3.4',
      '::1.2.3.4', '::01.2.3.4', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '12345::', 'ffff::', 'FFFF::/16', 'ffff::/15',
      '', '10.0.0.1/8', '10.0.0.0/33', '::/129', '::1/', 'example.com', '10.0.0.0/8,', ',10.0.0.0/8', '10.0.0.0/8,,::1', '1.2.3.4.5', '256.0.0.0', '10.0.0.0 /8',
      '08.0.0.0', '0x0a.0.0.0', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '::1::', '10.0.0.0/8/8', '2001:db8::/-1', '1.2.3.4/032', '1.2.3.4/000000000000000000032',
      ':', ':::', '1:', ':1', '1::2::3', 'a.b.c.d', '1.2.3.4/', '/8', '1.2.3.04', '1.2.3.4.', '.1.2.3', '1..2.3', `${'1:'.repeat(7)}1/128`, `${'a'.repeat(50)}`,
    ];
    // And seeded random strings over the characters that matter (the same ones every run).
    const rand = prng(20261127);
    const pieces = ['0', '1', '9', '10', '255', '256', '0', '00', 'a', 'f', 'ff', 'ffff', '.', '.', ':', '::', '/', '/8', '/32', '/64', '/128', ','];
    for (let i = 0; i < 400; i++) lists.push(Array.from({ length: 1 + Math.floor(rand() * 9) }, () => pieces[Math.floor(rand() * pieces.length)]).join(''));
    const disagreements: string[] = [];
    for (const list of lists) {
      const r = sshKeygen(['-q', '-s', caFile('ed25519'), '-I', 's', '-O', `source-address=${list}`, `${keyFile('ed25519')}.pub`]);
      let mine = true;
      try {
        checkSourceAddress(list);
      } catch {
        mine = false;
      }
      if (mine !== (r.status === 0)) disagreements.push(`${JSON.stringify(list)}: ssh-keygen ${r.status === 0 ? 'accepts' : 'refuses'}, keysmith ${mine ? 'accepts' : 'refuses'}`);
    }
    expect(disagreements).toEqual([]);
  });

  it('bad input: an unknown CA (3), a bad --valid, --source-address, principals, a certificate or malformed key (2); nothing written', async () => {
    const key = `${keyFile('ed25519')}.pub`;
    const out = join(home, 'never-cert.pub');
    const bad: Array<[string[], number, RegExp]> = [
      [['ssh', 'ca', 'sign', 'nope', key, '-n', 'a'], 3, /no SSH CA named nope\nhint: create it: keysmith ssh ca create nope/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a', '--valid', '20260101'], 2, /--valid: "20260101": expected/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a', '--valid', '20260201:20260101'], 2, /--valid: .*empty validity interval/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a', '--source-address', '10.0.0.1/8'], 2, /--source-address: "10\.0\.0\.1\/8": the mask is too long or host bits are set/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a', '--source-address', 'example.com'], 2, /--source-address: "example\.com" is not an address/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key], 2, /--principals is required/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a,,b'], 2, /empty principal name/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a', '-z', '18446744073709551616'], 2, /--serial/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a', '--host', '--no-pty'], 2, /--no-pty: host certificates carry no/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'a', '--force-command', ''], 2, /--force-command: an empty command/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', join(FIXTURES, 'ed25519-cert.pub'), '-n', 'a'], 2, /holds a certificate/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', join(FIXTURES, 'garbage.pub'), '-n', 'a'], 2, /not an OpenSSH public key/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', join(FIXTURES, 'dsa.pub'), '-n', 'a'], 2, /DSA keys are not certified/],
      [['ssh', 'ca', 'sign', 'ca-ed25519', join(home, 'missing.pub'), '-n', 'a'], 2, /no such file/],
      [['ssh', 'ca', 'sign', 'bad/name', key, '-n', 'a'], 2, /invalid CA name/],
      [['ssh', 'ca', 'create', 'ca-ed25519'], 2, /an SSH CA named ca-ed25519 already exists; pass --force/],
      [['ssh', 'ca', 'create', 'small', '--key', 'rsa', '-b', '2048'], 2, /-b: rsa keys are 3072/],
      [['ssh', 'ca', 'export', 'nope'], 3, /no SSH CA named nope/],
      [['ssh', 'ca', 'export', 'ca-ed25519', '--hosts', 'x'], 2, /--hosts goes with --format known-hosts/],
    ];
    for (const [args, code, message] of bad) {
      const got = await ks([...args, ...(args[2] === 'sign' ? ['--out', out] : [])]);
      expect(got.code, `${args.join(' ')}: ${got.stderr}`).toBe(code);
      expect(got.stderr, args.join(' ')).toMatch(message);
      expect(got.stderr).not.toMatch(/\n\s+at /);
      expect(got.stdout).toBe('');
      expect(existsSync(out)).toBe(false);
    }
    expect(existsSync(join(FIXTURES, 'garbage-cert.pub'))).toBe(false);
    expect((await ks(['ssh', 'ca', 'list'])).stdout).not.toContain('small');
  });

  it('an existing KEY-cert.pub is renewed when it is this key\'s certificate by this CA, else kept unless --force', async () => {
    const key = join(home, 'renew');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'renew@test', '-f', key]);
    const first = await ks(['ssh', 'ca', 'sign', 'ca-ed25519', `${key}.pub`, '-n', 'alice', '--valid', '1h']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe(`${key}-cert.pub\n`);
    expect(first.stderr).toMatch(/^Signed user key .*renew-cert\.pub: id "alice" serial \d+ for alice valid from \S+ to \S+\n$/);
    const before = readFileSync(`${key}-cert.pub`, 'utf8');
    const again = await ks(['--json', 'ssh', 'ca', 'sign', 'ca-ed25519', key, '-n', 'alice', '--valid', '2h']);
    expect(again.code, again.stderr).toBe(0);
    const json = JSON.parse(again.stdout);
    expect(json).toMatchObject({ path: `${key}-cert.pub`, ca: 'ca-ed25519', renewed: true, type: 'user', keyId: 'alice', principals: ['alice'], status: 'valid', comment: 'renew@test' });
    expect(json.serial).toMatch(/^[1-9]\d*$/);
    expect(json.line).toBe(readFileSync(`${key}-cert.pub`, 'utf8').trim());
    expect(readFileSync(`${key}-cert.pub`, 'utf8')).not.toBe(before);
    // Another CA's certificate is not replaced without --force; nor is a file that is no certificate.
    const other = await ks(['ssh', 'ca', 'sign', 'ca-rsa', `${key}.pub`, '-n', 'alice']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/renew-cert\.pub already exists and is not a certificate of this key by CA ca-rsa; pass --force/);
    expect((await ks(['ssh', 'ca', 'sign', 'ca-rsa', `${key}.pub`, '-n', 'alice', '--force'])).code).toBe(0);
    expect(showBody(`${key}-cert.pub`)).toContain('Signing CA: RSA');
    writeFileSync(`${key}-cert.pub`, 'my notes\n');
    expect((await ks(['ssh', 'ca', 'sign', 'ca-rsa', `${key}.pub`, '-n', 'alice'])).code).toBe(2);
    expect(readFileSync(`${key}-cert.pub`, 'utf8')).toBe('my notes\n');
    // --out - prints the certificate line instead of writing it.
    const printed = await ks(['ssh', 'ca', 'sign', 'ca-rsa', `${key}.pub`, '-n', 'alice', '--out', '-']);
    expect(printed.stdout).toMatch(/^ssh-ed25519-cert-v01@openssh\.com AAAA\S+ renew@test\n$/);
    expect(readFileSync(`${key}-cert.pub`, 'utf8')).toBe('my notes\n');
  });

  it('defaults: principals as the key id, 16 hours for a user and 30 days for a host, a random serial; a key without a comment gets its path, as ssh-keygen gives it', async () => {
    const key = join(home, 'nocomment');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', key]);
    const now = Date.now() / 1000;
    const user = JSON.parse((await ks(['--json', 'ssh', 'ca', 'sign', 'ca-ed25519', `${key}.pub`, '-n', 'alice,bob', '--out', '-'])).stdout);
    expect(user).toMatchObject({ keyId: 'alice', comment: `${key}.pub`, path: null });
    expect(Date.parse(user.validBefore) / 1000 - now).toBeGreaterThan(16 * 3600 - 5);
    expect(Date.parse(user.validBefore) / 1000 - now).toBeLessThan(16 * 3600 + 5);
    expect(now - Date.parse(user.validAfter) / 1000).toBeGreaterThanOrEqual(59);
    expect(Object.keys(user.extensions)).toEqual([...DEFAULT_USER_EXTENSIONS]);
    const host = JSON.parse((await ks(['--json', 'ssh', 'ca', 'sign', 'ca-ed25519', `${key}.pub`, '-n', 'h.example', '--host', '--out', '-'])).stdout);
    expect(Date.parse(host.validBefore) / 1000 - now).toBeGreaterThan(30 * 86400 - 5);
    expect(host).toMatchObject({ type: 'host', extensions: {}, criticalOptions: {} });
    expect(host.serial).not.toBe(user.serial);
    const any = JSON.parse((await ks(['--json', 'ssh', 'ca', 'sign', 'ca-ed25519', `${key}.pub`, '--any-principal', '--out', '-'])).stdout);
    expect(any).toMatchObject({ principals: [], keyId: `${key}.pub` });
    // ssh-keygen names a comment-less key's certificate by its path too.
    sshKeygen(['-q', '-s', caFile('ed25519'), '-I', 'x', `${key}.pub`]);
    expect(readFileSync(`${key}-cert.pub`, 'utf8').trim().split(' ')[2]).toBe(`${key}.pub`);
  });

  it('ssh show NAME shows a managed key\'s certificate from KEY-cert.pub, as ssh-keygen -L does', async () => {
    expect((await ks(['ssh', 'keygen', 'work', '--no-passphrase', '-C', 'work@test'])).code).toBe(0);
    const path = join(home, '.ssh', 'work');
    const none = await ks(['ssh', 'show', 'work']);
    expect(none.stdout).not.toContain('certificate');
    expect(JSON.parse((await ks(['--json', 'ssh', 'show', 'work'])).stdout).certificate).toBeUndefined();
    expect((await ks(['ssh', 'ca', 'sign', 'ca-ecdsa384', `${path}.pub`, '-n', 'alice', '--valid', '-1d:+1d'])).code).toBe(0);
    const show = await ks(['ssh', 'show', 'work']);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout.endsWith(`\n\n${sshKeygen(['-L', '-f', `${path}-cert.pub`]).stdout}`)).toBe(true);
    const json = JSON.parse((await ks(['--json', 'ssh', 'show', 'work'])).stdout);
    expect(json.certificate).toMatchObject({ file: `${path}-cert.pub`, type: 'user', principals: ['alice'], status: 'valid', signingCa: { type: 'ECDSA', signatureAlgorithm: 'ecdsa-sha2-nistp384' } });
    writeFileSync(`${path}-cert.pub`, readFileSync(join(FIXTURES, 'ed25519-cert.pub')));
    const wrong = await ks(['ssh', 'show', 'work']);
    expect(wrong.stdout).toContain('certificate: ');
    expect(wrong.stdout).toContain('certifies another key');
  });

  it('a CA from the env backend (CI): KEYSMITH_SECRET_SSH_CA_<NAME> holds its private key', async () => {
    const pem = readFileSync(caFile('ed25519'), 'utf8');
    const ciEnv = { KEYSMITH_VAULT: 'env', KEYSMITH_SECRET_SSH_CA_CI: pem, KEYSMITH_AGE_IDENTITY: undefined };
    const signed = await ks(['ssh', 'ca', 'sign', 'ci', `${keyFile('ed25519')}.pub`, '-n', 'deploy', '--out', '-', '--json'], ciEnv);
    expect(signed.code, signed.stderr).toBe(0);
    expect(JSON.parse(signed.stdout).signingCa.fingerprint).toBe(sshKeygen(['-l', '-f', caFile('ed25519')]).stdout.split(' ')[1]);
    const created = await ks(['ssh', 'ca', 'create', 'nope'], ciEnv);
    expect(created.code).toBe(2);
    expect(created.stderr).toMatch(/read-only/);
  });
});


