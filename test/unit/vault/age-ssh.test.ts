import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { generateKey } from '../../../src/ssh/keys.js';
import { ageDecrypt, ageEncrypt, generateIdentity, parseIdentities, recipientKind, recipientOf, sshRecipientOf } from '../../../src/vault/age.js';
import { describeWith } from '../../helpers/system.js';

const badRecipient = (line: string) => {
  try {
    recipientKind(line);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('ERR_BAD_RECIPIENT');
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error(`accepted ${line}`);
};

describe('recipientKind', () => {
  it('names age1…, ssh-ed25519 and ssh-rsa recipients, with or without a comment and spaces around', async () => {
    const ed = await generateKey({ type: 'ed25519', comment: 'me@laptop' });
    const rsa = await generateKey({ type: 'rsa', comment: '' });
    const edLine = `${ed.publicKey.algorithm} ${ed.publicKey.blob.toString('base64')}`;
    expect(recipientKind(await recipientOf(await generateIdentity()))).toBe('x25519');
    expect(recipientKind(edLine)).toBe('ssh-ed25519');
    expect(recipientKind(`  ${edLine} me@laptop with spaces\n`)).toBe('ssh-ed25519');
    expect(recipientKind(`ssh-rsa ${rsa.publicKey.blob.toString('base64')}`)).toBe('ssh-rsa');
  });

  it('refuses other key types, naming the type as unsupported', () => {
    const blob = (type: string, ...fields: Buffer[]) => {
      const parts = [type, ...fields].map((f) => Buffer.from(f));
      return Buffer.concat(parts.flatMap((p) => [Buffer.from([0, 0, p.length >> 8, p.length & 0xff]), p])).toString('base64');
    };
    for (const type of ['ecdsa-sha2-nistp256', 'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com', 'ssh-dss', 'ssh-ed25519-cert-v01@openssh.com', 'ssh-rsa-cert-v01@openssh.com', 'rsa-sha2-256']) {
      expect(badRecipient(`${type} ${blob(type, Buffer.alloc(32))} c`)).toMatch(new RegExp(`^unsupported recipient type ${type}\\b`));
    }
    expect(badRecipient('hello')).toMatch(/^unsupported recipient type "hello"/);
    expect(badRecipient('')).toMatch(/unsupported recipient type ""/);
  });

  it('refuses a malformed key blob or age1… recipient', async () => {
    const ed = await generateKey({ type: 'ed25519', comment: '' });
    const rsa = await generateKey({ type: 'rsa', comment: '' });
    const edB64 = ed.publicKey.blob.toString('base64');
    for (const line of [
      'ssh-ed25519',
      'ssh-ed25519 AAAA',
      'ssh-ed25519 !!notbase64',
      `ssh-ed25519 ${edB64.slice(0, -4)}`,
      `ssh-ed25519 ${Buffer.concat([ed.publicKey.blob, Buffer.from([0])]).toString('base64')}`,
      `ssh-rsa ${edB64}`,
      `ssh-ed25519 ${rsa.publicKey.blob.toString('base64')}`,
    ]) {
      expect(badRecipient(line), line).toMatch(/^invalid ssh-(ed25519|rsa) recipient/);
    }
    const x = await recipientOf(await generateIdentity());
    for (const line of [`${x.slice(0, -1)}q`, x.slice(0, -2), 'age1', `${x}x`]) {
      expect(badRecipient(line), line).toMatch(/^invalid age recipient/);
    }
  });
});

describeWith(['ssh-keygen'], 'SSH identities', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keysmith-age-ssh-unit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const keygen = (name: string, ...args: string[]) => {
    const path = join(dir, name);
    execFileSync('ssh-keygen', ['-q', '-C', `${name} comment`, '-f', path, ...args]);
    return { path, priv: readFileSync(path, 'utf8') };
  };
  const keys: Record<string, { path: string; priv: string }> = {};
  beforeAll(() => {
    keys.ed25519 = keygen('ed25519', '-t', 'ed25519', '-N', '');
    keys.rsa = keygen('rsa', '-t', 'rsa', '-b', '2048', '-N', '');
    keys.locked = keygen('locked', '-t', 'ed25519', '-N', 'correct horse');
    keys.ecdsa = keygen('ecdsa', '-t', 'ecdsa', '-N', '');
  });

  it('sshRecipientOf gives the public line ssh-keygen -y gives', async () => {
    for (const k of [keys.ed25519!, keys.rsa!]) {
      const line = execFileSync('ssh-keygen', ['-y', '-f', k.path], { encoding: 'utf8' }).trim();
      expect(await sshRecipientOf(k.priv)).toBe(line);
      expect(await recipientOf(k.priv)).toBe(line);
      expect(recipientKind(line)).toBe(k === keys.rsa ? 'ssh-rsa' : 'ssh-ed25519');
    }
    // A passphrase-protected key's public half is in the clear (its comment is not).
    const locked = execFileSync('ssh-keygen', ['-y', '-P', 'correct horse', '-f', keys.locked!.path], { encoding: 'utf8' }).trim();
    expect(await sshRecipientOf(keys.locked!.priv)).toBe(locked.split(' ').slice(0, 2).join(' '));
  });

  it('sshRecipientOf refuses what is not an ed25519 or RSA OpenSSH private key', async () => {
    for (const text of [keys.ecdsa!.priv, 'AGE-SECRET-KEY-1XXXX', '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n']) {
      const err = await sshRecipientOf(text).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('ERR_BAD_IDENTITY');
      expect((err as Error).message).not.toContain('\n');
    }
    expect(((await sshRecipientOf(keys.ecdsa!.priv).catch((e: unknown) => e)) as Error).message).toMatch(/unsupported .*ecdsa-sha2-nistp256/);
  });

  it('parseIdentities returns an OpenSSH private key block as one identity, among age identities and comments', async () => {
    const x = await generateIdentity();
    const crlf = keys.rsa!.priv.replace(/\n/g, '\r\n');
    const text = `# created: today\n${x}\n\n${keys.ed25519!.priv}# another\n  ${crlf}`;
    const ids = parseIdentities(text);
    expect(ids).toHaveLength(3);
    expect(ids[0]).toBe(x);
    for (const [i, k] of [[1, keys.ed25519!], [2, keys.rsa!]] as const) {
      expect(ids[i]).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]*\n-----END OPENSSH PRIVATE KEY-----\n$/);
      const sealed = await ageEncrypt(Buffer.from('hi'), { recipients: [await sshRecipientOf(k.priv)] });
      expect(Buffer.from(await ageDecrypt(sealed, { identities: ids }, 'f')).toString()).toBe('hi');
    }
    expect(parseIdentities(`${x}\n`)).toEqual([x]);
  });

  it('a passphrase-protected or unsupported SSH identity is a one-line usage error', async () => {
    const sealed = await ageEncrypt(Buffer.from('hi'), { recipients: [await sshRecipientOf(keys.locked!.priv)] });
    for (const [identity, why] of [[keys.locked!.priv, /passphrase/], [keys.ecdsa!.priv, /unsupported .*ecdsa-sha2-nistp256/], ['-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----', /not a usable private key/]] as const) {
      const err = await ageDecrypt(sealed, { identities: [identity] }, 'f').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).code).toBe('ERR_BAD_IDENTITY');
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});
