import { describe, expect, it } from 'vitest';
import { KeysmithError, systemError } from '../../src/errors.js';

/** A Node system error as fs, net and streams throw them. */
const sys = (code: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(`${code}: raw Node text, open '/x/.tmp'`), { code, ...fields });

describe('systemError: Node system errors as one line, a hint and an exit kind', () => {
  it('names the path the user gave (not a temp file) and what went wrong', () => {
    const e = systemError(sys('ENOENT', { syscall: 'open', path: '/missing/dir/.key.1.tmp' }), '/missing/dir/key', 'write')!;
    expect(e).toBeInstanceOf(KeysmithError);
    expect(e.message).toBe('cannot write /missing/dir/key: no such folder');
    expect(e.hint).toBe('create /missing/dir first, or choose another path');
    expect(e.kind).toBe('usage');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('maps each code to its kind: a wrong path is usage (2), a refusing system is failed (1)', () => {
    const cases: Array<[string, string, string]> = [
      ['ENOTDIR', 'usage', 'a part of the path is not a folder'],
      ['EISDIR', 'usage', 'it is a folder'],
      ['ENOSPC', 'failed', 'no space left on device'],
      ['EDQUOT', 'failed', 'disk quota exceeded'],
      ['EROFS', 'failed', 'read-only file system'],
      ['EACCES', 'failed', 'permission denied'],
      ['EPERM', 'failed', 'permission denied'],
      ['EMFILE', 'failed', 'too many open files'],
    ];
    for (const [code, kind, reason] of cases) {
      const e = systemError(sys(code, { syscall: 'open' }), '/out/file', 'write')!;
      expect(e.message, code).toBe(`cannot write /out/file: ${reason}`);
      expect(e.kind, code).toBe(kind);
      expect(e.hint, code).toBeTruthy();
    }
  });

  it('without a path given, uses the error\'s own path and syscall', () => {
    expect(systemError(sys('ENOENT', { syscall: 'scandir', path: '/etc/nope' }))!.message).toBe('cannot read /etc/nope: no such file or folder');
    expect(systemError(sys('EACCES', { syscall: 'mkdir', path: '/root/x' }))!.message).toBe('cannot create /root/x: permission denied');
    expect(systemError(sys('ENOSPC', { syscall: 'write' }))!.message).toBe('cannot write: no space left on device');
  });

  it('a busy port is unavailable (5), with what to do instead', () => {
    const e = systemError(sys('EADDRINUSE', { syscall: 'listen', address: '127.0.0.1', port: 8123 }))!;
    expect(e.message).toBe('port 8123 on 127.0.0.1 is in use');
    expect(e.hint).toBe('choose another port, or port 0 for a free one');
    expect(e.detail).toEqual({ kind: 'port-in-use', port: 8123, address: '127.0.0.1' });
    expect(e.kind).toBe('unavailable');
  });

  it('leaves alone what it does not know, and errors that are already ours', () => {
    expect(systemError(new Error('plain'))).toBeUndefined();
    expect(systemError(sys('ERR_SOMETHING_ELSE'))).toBeUndefined();
    expect(systemError(new KeysmithError('usage', 'ERR_X', 'ours'))).toBeUndefined();
    expect(systemError('a string')).toBeUndefined();
  });
});
