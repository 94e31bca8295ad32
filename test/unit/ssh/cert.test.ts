import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkSourceAddress, convtime, DEFAULT_USER_EXTENSIONS, encodeCertificateOptions, formatCertificateTime, formatValidity, FOREVER,
  parseAbsoluteTime, parseValidity, readCertificateLines, renderCertificate, signCertificate, certificateInfo, certificateTypeName,
} from '../../../src/ssh/certificates.js';
import { caTrustLine, certificatePath, randomSerial } from '../../../src/ssh/ca.js';
import { generateKey, parsePublicKeyLine, publicKeyLine } from '../../../src/ssh/keys.js';
import { parseKeyBlob } from '../../../src/ssh/public-key.js';
import { signingKey } from '../../../src/ssh/sign.js';
import { Writer } from '../../../src/ssh/wire.js';

const fixture = (name: string) => readFileSync(new URL(`../../../fixtures/ssh/${name}`, import.meta.url), 'utf8');
const savedTz = process.env.TZ;
/** Node re-reads TZ when process.env.TZ is assigned. */
function inZone<T>(tz: string, fn: () => T): T {
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  }
}
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const NOW = new Date('2026-03-01T12:00:30Z');
const T = BigInt(NOW.getTime() / 1000);
const utc = (iso: string) => BigInt(Date.parse(iso) / 1000);

describe('validity, as ssh-keygen -V reads it (parse_cert_times)', () => {
  it('+TIME: from the minute before last (backdated as ssh-keygen does) to TIME from now; a bare duration is +TIME', () => {
    const want = { validAfter: ((T - 59n) / 60n) * 60n, validBefore: T + 8n * 3600n };
    expect(want.validAfter).toBe(utc('2026-03-01T11:59:00Z'));
    expect(parseValidity('+8h', NOW)).toEqual(want);
    expect(parseValidity('8h', NOW)).toEqual(want);
    expect(parseValidity('+1w2d', NOW).validBefore).toBe(T + 9n * 86400n);
    expect(parseValidity('+1h30m', NOW).validBefore).toBe(T + 5400n);
    expect(parseValidity('+90', NOW).validBefore).toBe(T + 90n);
  });

  it('FROM:TO with relative times, dates, hex seconds, always and forever', () => {
    inZone('UTC', () => {
      expect(parseValidity('20260101:20260201', NOW)).toEqual({ validAfter: utc('2026-01-01T00:00:00Z'), validBefore: utc('2026-02-01T00:00:00Z') });
      expect(parseValidity('202601011230:20260101123045', NOW)).toEqual({ validAfter: utc('2026-01-01T12:30:00Z'), validBefore: utc('2026-01-01T12:30:45Z') });
    });
    expect(parseValidity('-5m:+1h', NOW)).toEqual({ validAfter: T - 300n, validBefore: T + 3600n });
    expect(parseValidity('always:forever', NOW)).toEqual({ validAfter: 0n, validBefore: FOREVER });
    expect(parseValidity('0x10:0x20', NOW)).toEqual({ validAfter: 16n, validBefore: 32n });
    expect(parseValidity('0x1:0xffffffffffffffff', NOW).validBefore).toBe(FOREVER);
    expect(parseValidity('20260101Z:+1d', NOW).validBefore).toBe(T + 86400n); // TO relative to now, not to FROM
  });

  it('dates with Z or UTC are UTC in any zone; local dates are standard time, as mktime with tm_isdst=0 reads them', () => {
    for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York']) {
      inZone(tz, () => expect(parseValidity('20260701Z:20260801utc', NOW)).toEqual({ validAfter: utc('2026-07-01T00:00:00Z'), validBefore: utc('2026-08-01T00:00:00Z') }));
    }
    inZone('Europe/Berlin', () => {
      // Summer: CEST is UTC+2, but ssh-keygen reads the date as CET (UTC+1), i.e. 01:00 local.
      expect(parseAbsoluteTime('20260701')).toBe(utc('2026-06-30T23:00:00Z'));
      expect(formatCertificateTime(utc('2026-06-30T23:00:00Z'))).toBe('2026-07-01T01:00:00');
      expect(parseAbsoluteTime('20260101')).toBe(utc('2025-12-31T23:00:00Z'));
    });
    inZone('Australia/Sydney', () => {
      // Southern summer: AEDT (UTC+11) in January, read as AEST (UTC+10).
      expect(parseAbsoluteTime('20260102')).toBe(utc('2026-01-01T14:00:00Z'));
    });
  });

  it('reads dates as glibc strptime and mktime do: blanks before a number, out-of-range days carried over, 60 seconds', () => {
    inZone('UTC', () => {
      expect(parseAbsoluteTime('20260230')).toBe(utc('2026-03-02T00:00:00Z'));
      expect(parseAbsoluteTime('2026 101')).toBe(utc('2026-01-01T00:00:00Z'));
      expect(parseAbsoluteTime('20260101000060')).toBe(utc('2026-01-01T00:01:00Z'));
      for (const bad of ['2026010', '202601011', '20261301', '20260001', '20260100', '20260101240000', '20260101006000', '19691231', '2026-1-1', 'abcdefgh', '20260101ZZ']) {
        expect(parseAbsoluteTime(bad), bad).toBeUndefined();
      }
    });
  });

  it('convtime: numbers with units, at most INT_MAX seconds in all', () => {
    expect(convtime('90m')).toBe(5400);
    expect(convtime('1h30m')).toBe(5400);
    expect(convtime('1W')).toBe(604800);
    expect(convtime('2147483647')).toBe(2147483647);
    expect(convtime('2147483648')).toBeUndefined();
    expect(convtime('24855d')).toBe(24855 * 86400);
    expect(convtime('24856d')).toBeUndefined();
    expect(convtime('2147483647s1s')).toBeUndefined();
    for (const bad of ['', 'h', '5x', '5 m', '-5m', '5m-']) expect(convtime(bad), bad).toBeUndefined();
  });

  it.each([
    ['', 'expected'], ['8', 'expected'], ['20260101', 'expected'], [':', 'expected'], ['20260101:', 'expected'], [':20260101', 'expected'],
    ['+', 'relative'], ['8x', 'expected'], ['+8x', 'relative'], ['20260201:20260101', 'empty validity'], ['forever:always', 'invalid from'],
    ['always:always', 'invalid to'], ['0x:0x1', 'hexadecimal'], ['0xg:0x1', 'hexadecimal'], ['0x1:0x10000000000000000', 'larger than 64 bits'],
    ['+2147483648', 'relative'], ['-24856d:+1h', 'relative'], ['-23000d:+1h', 'before 1970'], ['20261301:forever', 'invalid from'],
  ])('refuses %j (%s)', (spec, why) => {
    let err: unknown;
    try {
      parseValidity(spec, NOW);
    } catch (e) {
      err = e;
    }
    expect(err, spec).toMatchObject({ code: 'ERR_SSH_BAD_VALIDITY', kind: 'usage' });
    expect((err as Error).message).toContain(why);
  });
});

describe('critical options and extensions, encoded as ssh-keygen encodes them', () => {
  it('sorted by name (strcmp), a flag with empty data, a value as a string inside the data string', () => {
    const got = encodeCertificateOptions([{ name: 'source-address', value: '10.0.0.0/8' }, { name: 'force-command', value: 'ls -l' }, { name: 'verify-required' }]);
    const want = new Writer()
      .string('force-command').string(new Writer().string('ls -l').bytes())
      .string('source-address').string(new Writer().string('10.0.0.0/8').bytes())
      .string('verify-required').string('')
      .bytes();
    expect(got.toString('hex')).toBe(want.toString('hex'));
    // Upper case sorts before lower case, as in ssh-keygen's list: permit-X11-… first.
    const ext = encodeCertificateOptions([...DEFAULT_USER_EXTENSIONS].reverse().map((name) => ({ name })));
    const names: string[] = [];
    for (let i = 0; i < ext.length; ) {
      const n = ext.readUInt32BE(i);
      names.push(ext.subarray(i + 4, i + 4 + n).toString());
      i += 4 + n + 4 + ext.readUInt32BE(i + 4 + n);
    }
    expect(names).toEqual(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc']);
    expect(encodeCertificateOptions([])).toEqual(Buffer.alloc(0));
  });

  it('refuses a name given twice, an empty name, a NUL', () => {
    expect(() => encodeCertificateOptions([{ name: 'permit-pty' }, { name: 'permit-pty' }])).toThrow(/twice/);
    expect(() => encodeCertificateOptions([{ name: '' }])).toThrow(/bad option name/);
    expect(() => encodeCertificateOptions([{ name: 'force-command', value: 'a\0b' }])).toThrow(/NUL/);
  });
});

describe('source-address lists, checked as ssh-keygen checks them (addr_match_cidr_list)', () => {
  it.each(['10.0.0.0/8', '127.0.0.1', '10.0.0.0/8,192.168.1.7', '0.0.0.0/0', '::1', '::/0', '2001:db8::/32', '::ffff:10.0.0.1', '10/32', '010.0.0.0/8', '10.1', 'fe80::1/128'])('accepts %s', (list) => {
    expect(() => checkSourceAddress(list)).not.toThrow();
  });
  it.each(['', '10.0.0.1/8', '10.0.0.0/33', '::/129', '::1/', 'example.com', '10.0.0.0/8,', ',10.0.0.0/8', '10.0.0.0/8,,::1', '1.2.3.4.5', '256.0.0.0', '10.0.0.0 /8', '08.0.0.0', '0x0a.0.0.0', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9', '::1::', '10.0.0.0/8/8', '2001:db8::/-1'])('refuses %j', (list) => {
    expect(() => checkSourceAddress(list)).toThrow(expect.objectContaining({ code: 'ERR_SSH_BAD_SOURCE_ADDRESS' }));
  });
});

describe('signing a certificate', () => {
  it('makes a certificate that parses back (signature verified) with every field as asked, for each CA and key type', async () => {
    const cas = await Promise.all([generateKey({ type: 'ed25519', comment: 'ca' }), generateKey({ type: 'ecdsa', bits: 384, comment: 'ca' }), generateKey({ type: 'rsa', comment: 'ca' })]);
    const subjects = await Promise.all([generateKey({ type: 'ed25519', comment: 'k' }), generateKey({ type: 'ecdsa', bits: 521, comment: 'k' })]);
    for (const ca of cas) {
      const caKey = await signingKey(ca.privateKey, 'ca');
      for (const subject of subjects) {
        const cert = signCertificate(subject.publicKey, caKey, {
          type: 'user', keyId: 'alice@x', principals: ['alice', 'deploy'], validAfter: 100n, validBefore: FOREVER, serial: 2n ** 64n - 1n,
          criticalOptions: [{ name: 'force-command', value: 'uptime' }], extensions: DEFAULT_USER_EXTENSIONS.map((name) => ({ name })),
        });
        const again = parseKeyBlob(cert.certificate!.blob).certificate!;
        expect(cert.algorithm).toBe(certificateTypeName(subject.publicKey.algorithm));
        expect(cert.blob).toEqual(subject.publicKey.blob);
        expect(again).toMatchObject({ type: 'user', keyId: 'alice@x', principals: ['alice', 'deploy'], validAfter: 100n, validBefore: FOREVER, serial: 2n ** 64n - 1n });
        expect(again.nonce.length).toBe(32);
        expect(again.reserved.length).toBe(0);
        expect(again.signatureKey.blob).toEqual(ca.publicKey.blob);
        expect(again.signatureType).toBe(ca.publicKey.algorithm === 'ssh-rsa' ? 'rsa-sha2-512' : ca.publicKey.algorithm);
        expect(Object.keys(again.extensions)).toEqual(['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc']);
        // The line reads back as a certificate of the same key.
        expect(parsePublicKeyLine(publicKeyLine(cert), 'line').certificate!.blob).toEqual(cert.certificate!.blob);
      }
    }
  });

  it('refuses a certificate, a host certificate with options, an empty interval, an empty principal', async () => {
    const ca = await signingKey((await generateKey({ type: 'ed25519', comment: 'ca' })).privateKey, 'ca');
    const key = (await generateKey({ type: 'ed25519', comment: 'k' })).publicKey;
    const base = { type: 'user' as const, keyId: 'k', principals: ['a'], validAfter: 0n, validBefore: FOREVER, serial: 1n };
    const cert = signCertificate(key, ca, base);
    expect(() => signCertificate(cert, ca, base)).toThrow(/cannot be certified again/);
    expect(() => signCertificate(key, ca, { ...base, type: 'host', extensions: [{ name: 'permit-pty' }] })).toThrow(/host certificates carry no/);
    expect(() => signCertificate(key, ca, { ...base, validAfter: 5n, validBefore: 5n })).toThrow(/empty validity/);
    expect(() => signCertificate(key, ca, { ...base, principals: [''] })).toThrow(/empty principal/);
    expect(() => signCertificate(key, ca, { ...base, criticalOptions: [{ name: 'source-address', value: '10.0.0.1/8' }] })).toThrow(/host bits/);
    expect(() => signCertificate(key, ca, { ...base, serial: 2n ** 64n })).toThrow(/serial/);
    // A nonce given is used (tests reproduce ssh-keygen's certificates with it).
    expect(signCertificate(key, ca, { ...base, nonce: Buffer.alloc(32, 7) }).certificate!.nonce).toEqual(Buffer.alloc(32, 7));
  });

  it('random serials are from 1 to 2^63-1; certificate paths as ssh-keygen names them; trust lines', () => {
    for (let i = 0; i < 200; i++) {
      const s = randomSerial();
      expect(s > 0n && s < 2n ** 63n).toBe(true);
    }
    expect(certificatePath('/home/a/.ssh/work.pub')).toBe('/home/a/.ssh/work-cert.pub');
    expect(certificatePath('/home/a/.ssh/work')).toBe('/home/a/.ssh/work-cert.pub');
    expect(certificatePath('key.pub.bak')).toBe('key.pub.bak-cert.pub');
    const ca = { publicKey: 'ssh-ed25519 AAAA c' };
    expect(caTrustLine(ca, 'authorized-keys')).toBe('ssh-ed25519 AAAA c');
    expect(caTrustLine(ca, 'cert-authority')).toBe('cert-authority ssh-ed25519 AAAA c');
    expect(caTrustLine(ca, 'known-hosts')).toBe('@cert-authority * ssh-ed25519 AAAA c');
    expect(caTrustLine(ca, 'known-hosts', '*.example.com,10.0.0.*')).toBe('@cert-authority *.example.com,10.0.0.* ssh-ed25519 AAAA c');
    expect(() => caTrustLine(ca, 'known-hosts', 'a b')).toThrow(/host pattern/);
  });
});

describe('ssh-keygen -L text', () => {
  it('renders a certificate ssh-keygen made exactly as ssh-keygen -L printed it (TZ=UTC)', () => {
    const [got] = readCertificateLines(fixture('options-ecdsa256-cert.pub'));
    expect(got).toMatchObject({ line: 1 });
    const text = inZone('UTC', () => renderCertificate((got as { key: Parameters<typeof renderCertificate>[0] }).key));
    expect(text).toBe([
      '        Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate',
      '        Public key: ECDSA-CERT SHA256:K3LtdCqeZchzVmosItZ8AziunzcXVcJTNr0Z7ed603w',
      '        Signing CA: ED25519 SHA256:yJR/TukLkouHrV9hhlHCJWJyGTmHphsdKHQiL3tre+c (using ssh-ed25519)',
      '        Key ID: "fixture-options-ecdsa256"',
      '        Serial: 42',
      '        Valid: from 2024-01-01T00:00:00 to 2034-01-01T00:00:00',
      '        Principals: ',
      '                alice',
      '                bob',
      '        Critical Options: ',
      '                force-command /bin/true',
      '                source-address 10.0.0.0/8',
      '        Extensions: ',
      '                custom@fixtures UNKNOWN OPTION: 0000000178 (len 5)',
      '                permit-X11-forwarding',
      '                permit-agent-forwarding',
      '                permit-port-forwarding',
      '                permit-user-rc',
      '',
    ].join('\n'));
    const host = readCertificateLines(fixture('host-ed25519-cert.pub'))[0] as { key: Parameters<typeof renderCertificate>[0] };
    expect(inZone('UTC', () => renderCertificate(host.key))).toContain('host certificate\n');
    expect(renderCertificate(host.key)).toMatch(/Principals: \n {16}host\.example\.com\n {8}Critical Options: \(none\)\n {8}Extensions: \(none\)\n$/);
  });

  it('validity words: forever, before, after, from … to; times past year 275760 still print', () => {
    inZone('UTC', () => {
      expect(formatValidity({ validAfter: 0n, validBefore: FOREVER })).toBe('forever');
      expect(formatValidity({ validAfter: 0n, validBefore: 1767225600n })).toBe('before 2026-01-01T00:00:00');
      expect(formatValidity({ validAfter: 1767225600n, validBefore: FOREVER })).toBe('after 2026-01-01T00:00:00');
      expect(formatValidity({ validAfter: 1n, validBefore: 2n })).toBe('from 1970-01-01T00:00:01 to 1970-01-01T00:00:02');
      expect(formatCertificateTime(253402300799n)).toBe('9999-12-31T23:59:59');
      expect(formatCertificateTime(8_640_000_000_001n)).toBe('275760-09-13T00:00:01');
    });
  });

  it('control characters in a certificate show as ?, and the JSON view decodes UTF-8', async () => {
    const ca = await signingKey((await generateKey({ type: 'ed25519', comment: 'ca' })).privateKey, 'ca');
    const key = (await generateKey({ type: 'ed25519', comment: 'k' })).publicKey;
    const cert = signCertificate(key, ca, { type: 'user', keyId: 'evil\u001b[2J\nid', principals: ['josé'], validAfter: 0n, validBefore: FOREVER, serial: 3n, extensions: [{ name: 'login@example.com', value: 'alice' }] });
    const text = renderCertificate(cert);
    expect(text).toContain('Key ID: "evil?[2J?id"');
    expect(Buffer.from(text, 'latin1').toString('utf8')).toContain('                josé\n');
    expect(text).toContain('login@example.com UNKNOWN OPTION: 00000005616c696365 (len 9)');
    const info = certificateInfo(cert, new Date('2026-01-01T00:00:00Z'));
    expect(info).toMatchObject({ type: 'user', keyId: 'evil\u001b[2J\nid', serial: '3', principals: ['josé'], validAfter: null, validBefore: null, valid: 'forever', status: 'valid', extensions: { 'login@example.com': 'alice' }, criticalOptions: {} });
  });

  it('reads the lines of a file as ssh-keygen -L does: comments and blank lines skipped, non-certificates named', () => {
    const lines = readCertificateLines(`# a comment\n\n${fixture('ed25519.pub')}${fixture('ed25519-cert.pub')}garbage\n`);
    expect(lines.map((l) => [l.line, 'error' in l ? l.error : l.key.algorithm])).toEqual([
      [3, 'is not a certificate'], [4, 'ssh-ed25519-cert-v01@openssh.com'], [5, expect.stringMatching(/^invalid key/)],
    ]);
  });
});
