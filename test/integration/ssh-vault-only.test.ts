import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Writer } from '../../src/ssh/wire.js';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/ssh/', import.meta.url));

/** An unencrypted OpenSSH private key file of a security key (sk-ssh-ed25519), as ssh-keygen -t ed25519-sk writes one. */
function skKeyFile(): string {
  const pk = Buffer.alloc(32, 7);
  const pub = new Writer().string('sk-ssh-ed25519@openssh.com').string(pk).string('ssh:').bytes();
  const section = new Writer().uint32(1).uint32(1).string('sk-ssh-ed25519@openssh.com').string(pk).string('ssh:').raw(Buffer.from([1])).string(Buffer.alloc(64, 3)).string('').string('token');
  for (let i = 1; section.length % 8 !== 0; i++) section.raw(Buffer.from([i]));
  const body = new Writer().raw(Buffer.from('openssh-key-v1\0')).string('none').string('none').string('').uint32(1).string(pub).string(section.bytes()).bytes();
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString('base64').replace(/.{70}/g, '$&\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

describeWith(['ssh-keygen', 'ssh', 'sshd'], 'vault-only keys and rotation that keeps the key type, against real OpenSSH', () => {
  const { home, cleanup } = tempHome();
  let sshd: TestSshd;
  let env: NodeJS.ProcessEnv;
  const target = () => `root@127.0.0.1:${sshd.port}`;
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) => runBin(args, { env: { ...env, ...extra }, ...(input !== undefined ? { input } : {}), timeoutMs: 60_000 });
  const knownHosts = () => join(home, '.ssh', 'known_hosts');
  const sshWith = (key: string) => spawnSync('ssh', ['-F', 'none', '-i', key, '-p', String(sshd.port), '-o', `UserKnownHostsFile=${knownHosts()}`, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'StrictHostKeyChecking=yes', 'root@127.0.0.1', 'true'], { encoding: 'utf8' }).status === 0;
  const record = async (name: string) => JSON.parse((await run(['secret', 'get', `ssh/${name}`, '--json'])).stdout) as { fields: Record<string, string> };
  const boot = join(home, 'boot');

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bootstrap', '-f', boot]);
    sshd = await startSshd();
    writeFileSync(sshd.authorizedKeys, readFileSync(`${boot}.pub`, 'utf8'));
  });
  afterAll(async () => {
    await sshd?.stop();
    cleanup();
  });

  it('an imported ecdsa-384 key rotates to a new ecdsa-384 key, on the host too', async () => {
    const path = join(home, 'ec384');
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '384', '-N', '', '-C', 'ec@test', '-f', path]);
    expect((await run(['ssh', 'import', path])).code).toBe(0);
    const deployed = await run(['ssh', 'deploy', 'ec384', target(), '-i', boot, '--accept-new', '--authorized-keys', sshd.authorizedKeys]);
    expect(deployed.code, deployed.stderr).toBe(0);
    const old = readFileSync(`${path}.pub`, 'utf8');
    const rotated = await run(['ssh', 'rotate', 'ec384', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const fresh = readFileSync(`${path}.pub`, 'utf8');
    expect(fresh).not.toBe(old);
    expect(execFileSync('ssh-keygen', ['-l', '-f', `${path}.pub`], { encoding: 'utf8' })).toMatch(/^384 SHA256:\S+ ec@test \(ECDSA\)\n$/);
    expect(sshWith(path)).toBe(true);
    expect(readFileSync(sshd.authorizedKeys, 'utf8')).not.toContain(old.split(' ')[1]);
  });

  it('a security key (sk-ssh-ed25519) and a DSA key are refused with the reason, before anything changes', async () => {
    writeFileSync(join(home, 'token'), skKeyFile(), { mode: 0o600 });
    copyFileSync(join(FIXTURES, 'dsa-pem.key'), join(home, 'olddsa'));
    for (const name of ['token', 'olddsa']) {
      const imported = await run(['ssh', 'import', join(home, name)]);
      expect(imported.code, imported.stderr).toBe(0);
      expect((await run(['ssh', 'hosts', 'add', name, target()])).code).toBe(0);
      const before = readdirSync(home).sort();
      const vaultBefore = await record(name);
      const got = await run(['ssh', 'rotate', name]);
      expect(got.code, name).toBe(2);
      expect(got.stderr).toMatch(name === 'token' ? /ED25519-SK key, which keysmith cannot rotate: its private half lives on a security key/ : /DSA key, which keysmith cannot rotate: DSA keys are disabled/);
      expect(got.stderr.trim().split('\n')[0]).not.toContain('\n');
      expect(readdirSync(home).sort()).toEqual(before);
      expect(await record(name)).toEqual(vaultBefore);
      expect(existsSync(join(home, 'ks', 'ssh-rotations', `${name}.json`))).toBe(false);
      expect((await run(['ssh', 'rotate', name, '--dry-run'])).code).toBe(2);
    }
  });

  it('import --vault-only --remove-file takes an encrypted key into the vault and deletes the file; the key logs in from the vault', async () => {
    const path = join(home, 'moved');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'pass', '-a', '2', '-C', 'moved@test', '-f', path]);
    const pub = readFileSync(`${path}.pub`, 'utf8');
    expect((await run(['ssh', 'import', path, '--remove-file'])).code).toBe(2); // --remove-file only with --vault-only
    expect((await run(['ssh', 'import', path, '--vault-only', '--passphrase-stdin'], {}, 'wrong')).code).toBe(4);
    expect(existsSync(path)).toBe(true);
    const got = await run(['ssh', 'import', path, '--vault-only', '--remove-file', '--passphrase-stdin', '--json'], {}, 'pass');
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({ name: 'moved', vaultOnly: true, removed: true });
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(`${path}.pub`, 'utf8')).toBe(pub);
    // The vault keeps it decrypted (the vault encrypts): the same key, as ssh-keygen -y sees it.
    const pem = (await record('moved')).fields.privateKey!;
    writeFileSync(join(home, 'check'), pem, { mode: 0o600 });
    expect(execFileSync('ssh-keygen', ['-y', '-f', join(home, 'check')], { encoding: 'utf8' }).split(' ').slice(0, 2)).toEqual(pub.split(' ').slice(0, 2));
    // deploy logs in with -i, then the vault-only key's own login works for a second deploy.
    expect((await run(['ssh', 'deploy', 'moved', target(), '-i', boot, '--authorized-keys', sshd.authorizedKeys])).code).toBe(0);
    const again = await run(['ssh', 'deploy', 'moved', target(), '--authorized-keys', sshd.authorizedKeys, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).added).toBe(false);
  });

  it('a vault-only key rotates in the vault: no private key file at any step, resumable after a crash, the old key gone from the host', async () => {
    expect((await run(['ssh', 'keygen', 'vk', '--vault-only', '-t', 'ecdsa', '-b', '521', '-C', 'vk@test'])).code).toBe(0);
    expect((await run(['ssh', 'deploy', 'vk', target(), '-i', boot, '--authorized-keys', sshd.authorizedKeys])).code).toBe(0);
    const oldPem = (await record('vk')).fields.privateKey!;
    const oldPub = readFileSync(join(home, '.ssh', 'vk.pub'), 'utf8');
    const killed = await run(['ssh', 'rotate', 'vk'], { KEYSMITH_FAILPOINT: 'ssh-rotate:new key added' });
    expect(killed.signal).toBe('SIGKILL');
    const mid = await record('vk');
    expect(mid.fields.retiringKey).toBe(oldPem);
    expect(mid.fields.privateKey).not.toBe(oldPem);
    expect(readdirSync(join(home, '.ssh')).filter((f) => f.startsWith('vk'))).toEqual(['vk.pub']);
    const resumed = await run(['ssh', 'rotate', 'vk', '--resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe('rotated');
    const done = await record('vk');
    expect(done.fields.retiringKey).toBeUndefined();
    const newPub = readFileSync(join(home, '.ssh', 'vk.pub'), 'utf8');
    expect(execFileSync('ssh-keygen', ['-l', '-f', join(home, '.ssh', 'vk.pub')], { encoding: 'utf8' })).toMatch(/^521 .* vk@test \(ECDSA\)/);
    const keys = readFileSync(sshd.authorizedKeys, 'utf8');
    expect(keys).toContain(newPub.split(' ')[1]);
    expect(keys).not.toContain(oldPub.split(' ')[1]);
    writeFileSync(join(home, 'new-vk'), done.fields.privateKey!, { mode: 0o600 });
    expect(sshWith(join(home, 'new-vk'))).toBe(true);
    expect(readdirSync(join(home, '.ssh')).filter((f) => f.startsWith('vk'))).toEqual(['vk.pub']);
  });
});
