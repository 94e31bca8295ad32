import { describe, expect, it } from 'vitest';
import { credentialRecordName, formatCredential, parseCredential } from '../../../src/helpers/git-credential.js';
import { validateName } from '../../../src/vault/names.js';

describe("git's credential protocol", () => {
  it('reads key=value lines to the blank line, drops key[] attributes, splits url=', () => {
    expect({ ...parseCredential('protocol=https\nhost=example.com:8443\nwwwauth[]=Basic realm="x"\npassword=a=b\n\nignored=1\n') }).toEqual({ protocol: 'https', host: 'example.com:8443', password: 'a=b' });
    expect({ ...parseCredential('url=https://bob@git.example.com:8443/team/app.git\n') }).toMatchObject({ protocol: 'https', host: 'git.example.com:8443', path: 'team/app.git', username: 'bob' });
    expect({ ...parseCredential('protocol=https\r\nhost=h\r\n\r\n') }).toEqual({ protocol: 'https', host: 'h' });
    for (const bad of ['no equals\n', '=value\n', 'password=a\0b\n']) expect(() => parseCredential(bad)).toThrow(/git credential/);
    expect(Object.getPrototypeOf(parseCredential('__proto__=x\n'))).toBeNull();
  });

  it('writes lines git reads back, and refuses a value git could not carry', () => {
    expect(formatCredential({ username: 'u', password: 'p w' })).toBe('username=u\npassword=p w\n');
    expect(() => formatCredential({ password: 'a\nb' })).toThrow(/newline/);
  });

  it('every host and path becomes a valid record name; ports and odd characters are kept apart from the name grammar', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ protocol: 'https', host: 'Git.Example.com' }, 'git/https/git.example.com'],
      [{ protocol: 'https', host: '127.0.0.1:8443' }, 'git/https/127.0.0.1_3a8443'],
      [{ protocol: 'https', host: '127.0.0.1_8443' }, 'git/https/127.0.0.1_5f8443'],
      [{ protocol: 'http', host: '127.0.0.1:8443' }, 'git/http/127.0.0.1_3a8443'],
      [{ protocol: 'https', host: '[::1]:8443' }, 'git/https/_5b_3a_3a1_5d_3a8443'],
      [{ protocol: 'https', host: 'h', path: 'team/app.git' }, 'git/https/h/team/app.git'],
      [{ protocol: 'https', host: 'h', path: '../../etc/pass wd' }, 'git/https/h/_2e_2e/_2e_2e/etc/pass_20wd'],
      [{ protocol: 'https', host: 'h', path: 'a//b/./c/' }, 'git/https/h/a/_/b/_2e/c/_'],
      [{ protocol: 'https', host: 'bücher.example' }, 'git/https/b_c3_bccher.example'],
    ];
    for (const [a, name] of cases) {
      expect(credentialRecordName(a)).toBe(name);
      expect(validateName(credentialRecordName(a))).toBe(name);
    }
    expect(() => credentialRecordName({ host: 'h' })).toThrow(/protocol and host/);
    // Long paths still make a name (a hash of host and path), one per path.
    const long = (p: string) => credentialRecordName({ protocol: 'https', host: 'gitlab.example.com', path: p });
    expect(validateName(long('g/'.repeat(80)))).toMatch(/^git\/https\/_[0-9a-f]{48}$/);
    expect(long('g/'.repeat(80))).not.toBe(long(`${'g/'.repeat(79)}h`));
  });
});
