import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';
import { describeWith } from '../helpers/system.js';

/**
 * known_hosts `@cert-authority` lines, as keysmith's own host verification (deploy, rotate)
 * honours them, checked against OpenSSH's ssh on the same host, certificate and known_hosts.
 */
describeWith(['ssh-keygen', 'ssh', 'sshd', 'ssh-keyscan'], 'host certificates: keysmith deploy agrees with ssh -o StrictHostKeyChecking=yes', () => {
  const { home, cleanup } = tempHome();
  let sshd: TestSshd;
  let env: NodeJS.ProcessEnv;
  const boot = join(home, 'boot');
  const ca = join(home, 'host-ca');
  const otherCa = join(home, 'other-ca');
  const kh = join(home, 'known_hosts');
  const line = (key: string) => readFileSync(`${key}.pub`, 'utf8').trim();

  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), SSH_AUTH_SOCK: undefined });
    for (const k of [boot, ca, otherCa]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', k]);
    sshd = await startSshd({ config: [`HostCertificate ${join(home, 'host-cert.pub')}`] });
    writeFileSync(sshd.authorizedKeys, `${line(boot)}\n`);
    expect((await runBin(['ssh', 'keygen', 'work', '--no-passphrase'], { env })).code).toBe(0);
  });
  afterAll(async () => {
    await sshd?.stop();
    cleanup();
  });

  /** Certifies the sshd's host key (ssh-keygen -s -h), restarts it with that certificate. */
  const certify = async (args: string[], signer = ca) => {
    rmSync(`${sshd.hostKey}-cert.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-s', signer, '-h', '-I', 'test-host', ...args, `${sshd.hostKey}.pub`]);
    writeFileSync(join(home, 'host-cert.pub'), readFileSync(`${sshd.hostKey}-cert.pub`));
    await sshd.restart();
  };
  const openssh = () => spawnSync('ssh', ['-F', 'none', '-i', boot, '-o', 'IdentitiesOnly=yes', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-p', String(sshd.port), 'root@127.0.0.1', 'true'], { encoding: 'utf8' });
  const keysmith = () => runBin(['ssh', 'deploy', 'work', `root@127.0.0.1:${sshd.port}`, '-i', boot, '--known-hosts', kh, '--authorized-keys', sshd.authorizedKeys], { env });

  it.each([
    ['a valid certificate for 127.0.0.1', ['-n', '127.0.0.1', '-V', '-5m:+1h'], `@cert-authority * ${'CA'}`, true],
    ['a certificate for another name', ['-n', 'other.example', '-V', '-5m:+1h'], '@cert-authority * CA', false],
    ['an expired certificate', ['-n', '127.0.0.1', '-V', '20200101:20200102'], '@cert-authority * CA', false],
    ['a certificate not valid yet', ['-n', '127.0.0.1', '-V', '+1d:+2d'], '@cert-authority * CA', false],
    ['a certificate with a wildcard principal (not expanded)', ['-n', '127.0.0.*', '-V', '-5m:+1h'], '@cert-authority * CA', false],
    ['a certificate with no principals', ['-V', '-5m:+1h'], '@cert-authority * CA', true],
    ['a CA trusted for other hosts only', ['-n', '127.0.0.1', '-V', '-5m:+1h'], '@cert-authority *.example.com CA', false],
    ['a CA known_hosts does not trust', ['-n', '127.0.0.1', '-V', '-5m:+1h'], '@cert-authority * OTHER', false],
    ['a revoked CA', ['-n', '127.0.0.1', '-V', '-5m:+1h'], '@cert-authority * CA\n@revoked * CA', false],
    ['a host certificate with a critical option', ['-n', '127.0.0.1', '-V', '-5m:+1h', '-O', 'force-command=true'], '@cert-authority * CA', false],
  ] as const)('%s: ssh and keysmith agree', async (_what, args, knownHosts, accepted) => {
    await certify([...args]);
    writeFileSync(kh, `${knownHosts.replace('OTHER', line(otherCa)).replace(/CA$/gm, line(ca)).replace(/CA\n/g, `${line(ca)}\n`)}\n`);
    const reference = openssh();
    expect(reference.status === 0, reference.stderr).toBe(accepted);
    const got = await keysmith();
    expect(got.code === 0, got.stderr).toBe(accepted);
    if (!accepted) {
      expect(got.code).toBe(4);
      expect(got.stderr.split('\n')[0]).toMatch(/host certificate|presents no host certificate|unknown host/); // no CA for this host: an unknown host
    }
    // The certificate vouches each time: nothing is added to known_hosts.
    expect(readFileSync(kh, 'utf8')).not.toMatch(/^\[127\.0\.0\.1\]/m);
  });

  it('a host with no certificate is refused when known_hosts has only its CA', async () => {
    rmSync(join(home, 'host-cert.pub'), { force: true });
    writeFileSync(join(home, 'host-cert.pub'), '');
    const plain = await startSshd();
    try {
      writeFileSync(plain.authorizedKeys, `${line(boot)}\n`);
      writeFileSync(kh, `@cert-authority * ${line(ca)}\n`);
      const got = await runBin(['ssh', 'deploy', 'work', `root@127.0.0.1:${plain.port}`, '-i', boot, '--known-hosts', kh, '--authorized-keys', plain.authorizedKeys], { env });
      expect(got.code).toBe(4);
      expect(got.stderr).toContain('it presents no host certificate');
    } finally {
      await plain.stop();
    }
  });
});
