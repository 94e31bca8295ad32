import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

/**
 * Issue 14: certificates keysmith signs, used by the real OpenSSH: sshd trusts a user CA through
 * TrustedUserCAKeys (the line `ssh ca export` prints) and presents a host certificate
 * (HostCertificate); ssh trusts a host CA through one `@cert-authority` known_hosts line.
 */
describeWith(['ssh-keygen', 'ssh', 'sshd'], 'SSH certificates signed by keysmith, with a real sshd and ssh', () => {
  const { home, cleanup } = tempHome();
  const user = userInfo().username;
  let env: NodeJS.ProcessEnv;
  let sshd: TestSshd;
  const userCas = join(home, 'user_cas.pub');
  const hostCert = join(home, 'host_ed25519-cert.pub');
  const knownHosts = join(home, 'known_hosts');
  const emptyKnownHosts = join(home, 'known_hosts.empty');
  const ks = async (args: string[]) => {
    const got = await runBin(args, { env });
    return got;
  };
  const sign = async (ca: string, key: string, args: string[]) => {
    const got = await ks(['ssh', 'ca', 'sign', ca, `${key}.pub`, '--force', ...args]);
    expect(got.code, got.stderr).toBe(0);
    return got.stdout.trim();
  };
  /** The real ssh client, offering only this key and certificate, trusting only `known`. */
  const ssh = (key: string, command: string, options: { cert?: string; known?: string; extra?: string[] } = {}) =>
    spawnSync('ssh', [
      '-i', key, ...(options.cert ? ['-o', `CertificateFile=${options.cert}`] : []), '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${options.known ?? knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', 'CheckHostIP=no',
      ...(options.extra ?? []), '-p', String(sshd.port), `${user}@127.0.0.1`, command,
    ], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 30_000 });
  const key = (name: string, type: string[] = ['-t', 'ed25519']) => {
    const path = join(home, name);
    execFileSync('ssh-keygen', ['-q', ...type, '-N', '', '-C', `${name}@test`, '-f', path]);
    return path;
  };
  let alice: string;

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined });
    for (const args of [['users'], ['users-rsa', '--key', 'rsa'], ['hosts', '--key', 'ecdsa', '-b', '384'], ['untrusted']]) {
      const made = await ks(['ssh', 'ca', 'create', ...args]);
      expect(made.code, made.stderr).toBe(0);
    }
    // sshd_config's TrustedUserCAKeys: the lines ssh ca export prints, one per CA.
    writeFileSync(userCas, (await ks(['ssh', 'ca', 'export', 'users'])).stdout + (await ks(['ssh', 'ca', 'export', 'users-rsa'])).stdout);
    writeFileSync(knownHosts, (await ks(['ssh', 'ca', 'export', 'hosts', '--format', 'known-hosts'])).stdout);
    writeFileSync(emptyKnownHosts, '');
    // The host certificate is made for the host key sshd generates at its first start; sshd reads
    // it when it starts again (a missing HostCertificate is only logged).
    sshd = await startSshd({ sftp: false, config: [`TrustedUserCAKeys ${userCas}`, `HostCertificate ${hostCert}`] });
    const signed = await ks(['ssh', 'ca', 'sign', 'hosts', `${sshd.hostKey}.pub`, '--host', '--principals', '127.0.0.1', '--out', hostCert]);
    expect(signed.code, signed.stderr).toBe(0);
    await sshd.restart();
    alice = key('alice');
  });
  afterAll(async () => {
    await sshd?.stop();
    cleanup();
  });

  it('sshd accepts a user certificate for a listed principal, and not the key alone (authorized_keys is empty)', async () => {
    const cert = await sign('users', alice, ['-n', `nobody,${user}`, '--valid', '1h']);
    const ok = ssh(alice, 'echo logged-in', { cert });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('logged-in\n');
    // ssh finds KEY-cert.pub beside the key by itself, where ssh ca sign wrote it.
    expect(cert).toBe(`${alice}-cert.pub`);
    expect(ssh(alice, 'true').status).toBe(0);
    // The same private key without its certificate is refused: the login was the certificate's.
    copyFileSync(alice, `${alice}-bare`);
    chmodSync(`${alice}-bare`, 0o600);
    const bare = ssh(`${alice}-bare`, 'true');
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/Permission denied/);
  });

  it('an RSA CA (rsa-sha2-512) certifying ECDSA and RSA keys is accepted too', async () => {
    for (const [name, type] of [['ecdsa384', ['-t', 'ecdsa', '-b', '384']], ['rsa3072', ['-t', 'rsa', '-b', '3072']]] as const) {
      const k = key(name, [...type]);
      const cert = await sign('users-rsa', k, ['-n', user]);
      const got = ssh(k, 'true', { cert });
      expect(got.status, `${name}: ${got.stderr}`).toBe(0);
    }
  });

  it('refuses an expired certificate, one not yet valid, one for another principal, one from a CA it does not trust', async () => {
    const cases: Array<[string, string, string[]]> = [
      ['expired', 'users', ['-n', user, '--valid', '20200101:20200102']],
      ['not yet valid', 'users', ['-n', user, '--valid', '+1d:+2d']],
      ['another principal', 'users', ['-n', 'alice,bob', '--valid', '1h']],
      ['untrusted CA', 'untrusted', ['-n', user, '--valid', '1h']],
    ];
    for (const [why, ca, args] of cases) {
      const cert = await sign(ca, alice, args);
      const got = ssh(alice, 'true', { cert });
      expect(got.status, why).not.toBe(0);
      expect(got.stderr, why).toMatch(/Permission denied/);
    }
    // And the same key, certified properly again, logs in (the refusals were the certificates').
    expect(ssh(alice, 'true', { cert: await sign('users', alice, ['-n', user]) }).status).toBe(0);
  });

  it('source-address: refused from 127.0.0.1 when the certificate says 10.0.0.0/8, accepted when it names 127.0.0.1', async () => {
    const away = await sign('users', alice, ['-n', user, '--source-address', '10.0.0.0/8']);
    expect(ssh(alice, 'true', { cert: away }).status).not.toBe(0);
    const here = await sign('users', alice, ['-n', user, '--source-address', '10.0.0.0/8,127.0.0.1/32,::1']);
    const got = ssh(alice, 'true', { cert: here });
    expect(got.status, got.stderr).toBe(0);
  });

  it('force-command runs instead of the command asked for; --no-pty refuses a terminal', async () => {
    const forced = await sign('users', alice, ['-n', user, '--force-command', 'echo forced']);
    const got = ssh(alice, 'echo asked', { cert: forced });
    expect(got.status, got.stderr).toBe(0);
    expect(got.stdout).toBe('forced\n');
    const noPty = await sign('users', alice, ['-n', user, '--no-pty']);
    const tty = ssh(alice, 'tty', { cert: noPty, extra: ['-tt'] });
    expect(tty.stderr).toMatch(/PTY allocation request failed/);
    const withPty = await sign('users', alice, ['-n', user]);
    const tty2 = ssh(alice, 'tty', { cert: withPty, extra: ['-tt'] });
    expect(tty2.stdout).toMatch(/^\/dev\/pts\//);
  });

  it('a host certificate: ssh trusts the host through the one @cert-authority line, and not without it', async () => {
    const cert = await sign('users', alice, ['-n', user]);
    const trusted = ssh(alice, 'echo host-ok', { cert });
    expect(trusted.status, trusted.stderr).toBe(0);
    expect(trusted.stdout).toBe('host-ok\n');
    const strange = ssh(alice, 'true', { cert, known: emptyKnownHosts });
    expect(strange.status).not.toBe(0);
    expect(strange.stderr).toMatch(/Host key verification failed/);
    // A host certificate for another name is refused (and the host's plain key is not in known_hosts).
    const wrong = await ks(['ssh', 'ca', 'sign', 'hosts', `${sshd.hostKey}.pub`, '--host', '--principals', 'other.example.com', '--out', hostCert, '--force']);
    expect(wrong.code, wrong.stderr).toBe(0);
    await sshd.restart();
    try {
      const refused = ssh(alice, 'true', { cert });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/Host key verification failed|does not match|Certificate invalid/);
    } finally {
      const again = await ks(['ssh', 'ca', 'sign', 'hosts', `${sshd.hostKey}.pub`, '--host', '--principals', '127.0.0.1', '--out', hostCert]);
      expect(again.code, again.stderr).toBe(0); // a renewal: same key, same CA, no --force needed
      await sshd.restart();
    }
    expect(ssh(alice, 'true', { cert }).status).toBe(0);
  });
});
