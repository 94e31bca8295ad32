import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isNoSftpSubsystem } from '../../../src/ssh/connect.js';
import { cksum, remoteCommand, shellQuote } from '../../../src/ssh/remote-shell.js';
import { describeWith } from '../../helpers/system.js';

/** Names a remote authorized_keys path could have, chosen to break a careless quoting. */
const HOSTILE = [
  '', ' ', "'", "''", "'\\''", '"', '\\', '\\\\', "\\'", 'a b', "it's", 'say "hi"', '$HOME', '${HOME}', '$(touch pwned)',
  '`touch pwned`', '$((1+1))', ';touch pwned', '&& touch pwned', '| cat', '> pwned', '< /etc/passwd', '#not a comment',
  '*', '?', '[a-z]', '~', '~root', '-n', '-e', '--', '-', '!', '!!', '!$', '%s', '\n', 'a\nb', '\t', 'a\rb', '{a,b}',
  "'$(touch pwned)'", '"$(touch pwned)"', 'é ü 😀', '\x01\x7f', "x'; touch pwned; echo '",
];

// Real shells parse what shellQuote makes: the POSIX sh, and the login shells a host may have
// (each required: a missing one fails under KEYSMITH_REQUIRE_SYSTEM_TESTS=1, never shrinks the list).
const SHELLS = ['sh', 'dash', 'bash', 'zsh'];

describeWith(SHELLS, 'shellQuote: one word for a POSIX shell, whatever the text', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'keysmith-quote-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const echo = (shell: string, script: string) => spawnSync(shell, ['-c', script], { cwd, encoding: 'utf8' });

  it.each(SHELLS)('%s reads each hostile name back exactly, and runs nothing in it', (shell) => {
    for (const name of HOSTILE) {
      const got = echo(shell, `printf %s ${shellQuote(name)}`);
      expect(got.status, `${shell}: ${JSON.stringify(name)}: ${got.stderr}`).toBe(0);
      expect(got.stdout, JSON.stringify(name)).toBe(name);
    }
    expect(readdirSync(cwd)).toEqual([]); // no "pwned" file
  });

  it('round-trips any text without NUL through sh (property)', () => {
    const unit = fc.oneof(fc.constantFrom("'", '"', '\\', '$', '`', '\n', ' ', '!', '*', '~', '-', '(', ')', ';', '&', '|', '<', '>', '#', '\t', 'é', '😀'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }));
    fc.assert(fc.property(fc.array(unit, { maxLength: 24 }).map((a) => a.join('').replaceAll('\0', '')), (name) => {
      const got = echo('sh', `printf %s ${shellQuote(name)}`);
      expect(got.stdout).toBe(name);
    }), { numRuns: 150 });
  });

  it('refuses a NUL byte (no argument can carry one)', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describeWith(SHELLS, 'remoteCommand: a fixed sh script with its arguments, through the login shell', () => {
  it.each(SHELLS)('%s as the login shell: sh gets each argument exactly', (shell) => {
    for (const name of HOSTILE) {
      const got = spawnSync(shell, ['-c', remoteCommand('printf "%s|%s" "$1" "$2"', [name, 'second'])], { encoding: 'utf8' });
      expect(got.status, `${shell}: ${JSON.stringify(name)}: ${got.stderr}`).toBe(0);
      expect(got.stdout).toBe(`${name}|second`);
    }
  });

  it('keeps user data out of the script: only quoted arguments carry it', () => {
    const cmd = remoteCommand('echo "$1"', ["$(touch pwned)'"]);
    expect(cmd).toBe(`exec sh -c 'echo "$1"' sh '$(touch pwned)'\\'''`);
  });
});

describeWith(['cksum'], 'cksum: the POSIX checksum, as the cksum program prints it', () => {
  it('agrees with cksum on empty, small and random data', () => {
    const samples = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('ssh-ed25519 AAAA me\r\n'), Buffer.alloc(256, 0xff), Buffer.alloc(70_000, 7)];
    for (const bytes of fc.sample(fc.uint8Array({ maxLength: 2048 }), 40)) samples.push(Buffer.from(bytes));
    for (const data of samples) {
      const theirs = execFileSync('cksum', { input: data, encoding: 'utf8' }).trim().split(/\s+/).join(' ');
      expect(cksum(data), `${data.length} bytes`).toBe(theirs);
    }
  });
});

describe('isNoSftpSubsystem: only a refused sftp subsystem falls back to the shell', () => {
  it('is the error ssh2 gives when sshd has no Subsystem sftp line', () => {
    // ssh2 1.17 lib/client.js reqSubsystem: the server's CHANNEL_FAILURE reply to the request.
    expect(isNoSftpSubsystem(new Error('Unable to start subsystem: sftp'))).toBe(true);
  });

  it('is not any other SFTP failure', () => {
    // A Subsystem line whose program is missing: sshd starts it, and it exits 127.
    expect(isNoSftpSubsystem(Object.assign(new Error('Received exit code 127 while establishing SFTP session'), { code: 127 }))).toBe(false);
    expect(isNoSftpSubsystem(new Error('Unable to start subsystem: other'))).toBe(false);
    expect(isNoSftpSubsystem(new Error('(SSH) Channel open failure: open failed'))).toBe(false);
    expect(isNoSftpSubsystem(new Error('Channel is not open'))).toBe(false);
    expect(isNoSftpSubsystem(Object.assign(new Error('Permission denied'), { code: 3 }))).toBe(false);
    expect(isNoSftpSubsystem('Unable to start subsystem: sftp')).toBe(false);
    expect(isNoSftpSubsystem(undefined)).toBe(false);
  });
});
