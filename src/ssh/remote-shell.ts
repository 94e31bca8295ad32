/**
 * Files on a host reached through its shell (ssh2 `exec`), for hosts without an SFTP subsystem —
 * the way ssh-copy-id works. Paths and other values travel as quoted arguments of a fixed `sh`
 * script, never spliced into it; file contents travel over the channel's stdin, never in a command.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'ssh2';
import { UnavailableError, UsageError } from '../errors.js';

/**
 * `text` as one word for a POSIX shell (sh, dash, bash, zsh, ksh): single-quoted, each `'` as `'\''`.
 *
 * @example
 * shellQuote("it's here") // => 'it'\''s here'
 */
export function shellQuote(text: string): string {
  if (text.includes('\0')) throw new UsageError('a NUL byte cannot be passed to a remote shell', undefined, 'ERR_SSH_BAD_PATH');
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command line for `exec`: the user's login shell runs `sh -c SCRIPT sh ARGS…`, so the
 * script is read by sh whatever the login shell is (bash, zsh; csh reads single quotes alike),
 * and sees the arguments as `$1`, `$2`…. Keep scripts on one line, without `'` or `\`.
 *
 * @example
 * remoteCommand('cat -- "$1"', ['my file']) // => exec sh -c 'cat -- "$1"' sh 'my file'
 */
export function remoteCommand(script: string, args: readonly string[] = []): string {
  return ['exec sh -c', shellQuote(script), 'sh', ...args.map(shellQuote)].join(' ');
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/**
 * The POSIX `cksum` of `data` as the program prints it for stdin: `CRC LENGTH`. The shell write
 * compares it with the file's before replacing it, so an edit made meanwhile is never lost.
 *
 * @example
 * cksum(Buffer.alloc(0)) // => '4294967295 0'
 */
export function cksum(data: Uint8Array): string {
  let crc = 0;
  const step = (byte: number) => {
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  };
  for (const byte of data) step(byte);
  for (let n = data.length; n > 0; n = Math.floor(n / 256)) step(n & 0xff);
  return `${~crc >>> 0} ${data.length}`;
}

interface Exit {
  code: number | undefined;
  signal: string | undefined;
  stdout: Buffer;
  stderr: string;
}

/** Runs `command` on the host, with `input` (or nothing) on its stdin. */
function run(client: Client, command: string, input?: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      const out: Buffer[] = [];
      const errs: Buffer[] = [];
      let code: number | undefined;
      let signal: string | undefined;
      channel.on('data', (d: Buffer) => out.push(d));
      channel.stderr.on('data', (d: Buffer) => errs.push(d));
      channel.on('exit', (c: number | null, s?: string) => {
        if (typeof c === 'number') code = c;
        if (s) signal = s;
      });
      channel.on('error', reject);
      channel.on('close', () => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(errs).toString('utf8') }));
      channel.end(input);
    });
  });
}

/** The remote's reason in one line: the first non-blank line of its stderr. */
function firstLine(stderr: string): string {
  const line = stderr.split(/\r?\n/).map((l) => l.trim()).find(Boolean) ?? 'no message';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function failure(action: 'read' | 'write', path: string, exit: Exit): UnavailableError {
  const how = exit.code !== undefined ? `exit ${exit.code}` : exit.signal ? `killed by ${exit.signal}` : 'no exit status';
  return new UnavailableError(`cannot ${action} ${path} through the remote shell (${how}): ${firstLine(exit.stderr)}`, undefined, 'ERR_SSH_REMOTE_SHELL');
}

/** What `readRemoteFile` read: the text (undefined: no such file) and a stamp of its bytes for the write. */
export interface RemoteFile {
  text: string | undefined;
  /** `cksum` of the bytes read, or `absent`. */
  stamp: string;
}

// A marker line with a random nonce tells our output from anything a login file prints first.
const READ = 'if [ -e "$1" ]; then echo "$2 present"; exec cat -- "$1"; fi; echo "$2 absent"';

/**
 * Reads a file through the host's shell; a missing file reads as `text: undefined`. A relative
 * path is relative to the login's home, as over SFTP.
 *
 * @example
 * const { text, stamp } = await readRemoteFile(client, '.ssh/authorized_keys');
 */
export async function readRemoteFile(client: Client, path: string): Promise<RemoteFile> {
  const nonce = `keysmith-${randomBytes(8).toString('hex')}`;
  const exit = await run(client, remoteCommand(READ, [path, nonce]));
  if (exit.code !== 0) throw failure('read', path, exit);
  for (const state of ['present', 'absent'] as const) {
    const marker = Buffer.from(`${nonce} ${state}\n`);
    const at = exit.stdout.indexOf(marker);
    if (at < 0) continue;
    if (state === 'absent') return { text: undefined, stamp: 'absent' };
    const data = exit.stdout.subarray(at + marker.length);
    return { text: data.toString('utf8'), stamp: cksum(data) };
  }
  throw new UnavailableError(`cannot read ${path} through the remote shell: its output was not what keysmith sent for`, undefined, 'ERR_SSH_REMOTE_SHELL');
}

/** Exit status of the write script when the file is not what was read. */
const CHANGED = 75;

// $1 path, $2 temp file beside it, $3 the stamp read, $4 "mkdir" to create ~/.ssh (0700) first.
// Under umask 077 the temp file is 0600 from its creation; set -C makes its creation exclusive.
const WRITE = [
  'f=$1; t=$2; want=$3; umask 077;',
  'if [ "$4" = mkdir ] && [ ! -d .ssh ]; then mkdir -p .ssh && chmod 700 .ssh || exit 1; fi;',
  'if [ -e "$f" ]; then s=$(cksum < "$f") || exit 1; set -- $s; s="$1 $2"; else s=absent; fi;',
  `if [ "$s" != "$want" ]; then echo "$f changed since keysmith read it" >&2; exit ${CHANGED}; fi;`,
  'set -C; : > "$t" || exit 1; set +C;',
  'if cat > "$t" && chmod 600 "$t" && mv -f -- "$t" "$f"; then exit 0; fi; rm -f -- "$t"; exit 1',
].join(' ');

/**
 * Replaces a file through the host's shell, atomically: `text` goes over stdin into a temp file
 * beside it (0600), which is then renamed over it. It refuses (`ERR_SSH_REMOTE_CHANGED`) when the
 * file no longer matches `stamp` from `readRemoteFile` — someone else's edit in between is never
 * lost (a change in the moment between that check and the rename still can be).
 * `makeSshDir` first creates `.ssh` (0700) in the login's home when it is missing.
 *
 * @example
 * const { text, stamp } = await readRemoteFile(client, path);
 * await writeRemoteFile(client, path, `${text ?? ''}ssh-ed25519 AAAA… me\n`, { stamp });
 */
export async function writeRemoteFile(client: Client, path: string, text: string, options: { stamp: string; makeSshDir?: boolean }): Promise<void> {
  const tmp = `${path}.keysmith-${randomBytes(6).toString('hex')}`;
  const exit = await run(client, remoteCommand(WRITE, [path, tmp, options.stamp, options.makeSshDir ? 'mkdir' : '']), text);
  if (exit.code === CHANGED) {
    throw new UnavailableError(`cannot write ${path} through the remote shell: it changed on the host since keysmith read it; nothing was written`, { hint: 'run it again' }, 'ERR_SSH_REMOTE_CHANGED');
  }
  if (exit.code !== 0) throw failure('write', path, exit);
}
