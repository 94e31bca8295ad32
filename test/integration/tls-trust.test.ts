import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

describeWith(['update-ca-certificates', 'certutil'], 'tls ca trust into a staged system store and an NSS database', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  const root = join(home, 'root');
  const bundle = join(root, 'etc/ssl/certs/ca-certificates.crt');
  const nssdb = join(home, 'user', '.pki/nssdb');

  beforeAll(async () => {
    for (const d of ['etc/ssl/certs', 'usr/share/ca-certificates', 'usr/local/share/ca-certificates', 'etc/ca-certificates/update.d']) mkdirSync(join(root, d), { recursive: true });
    // A distribution root, as on a real system: the bundle is rebuilt from it on removal.
    mkdirSync(join(root, 'usr/share/ca-certificates/distro'), { recursive: true });
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(home, 'distro-key.pem'), '-subj', '/CN=Distro Root', '-days', '30', '-out', join(root, 'usr/share/ca-certificates/distro/root.crt')], { stdio: 'ignore' });
    writeFileSync(join(root, 'etc/ca-certificates.conf'), 'distro/root.crt\n');
    mkdirSync(nssdb, { recursive: true });
    execFileSync('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
    env = baseEnv({
      KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(),
      KEYSMITH_TRUST_ROOT: root, HOME: join(home, 'user'),
    });
    await runBin(['tls', 'ca', 'create', 'dev'], { env });
  });

  const nssList = () => execFileSync('certutil', ['-L', '-d', `sql:${nssdb}`], { encoding: 'utf8' });

  it('trust: the real update-ca-certificates puts the CA in the bundle; certutil lists it as a trusted CA', async () => {
    const got = await runBin(['tls', 'ca', 'trust', 'dev', '--json'], { env });
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual([
      { store: 'system', location: join(root, 'usr/local/share/ca-certificates'), changed: true },
      { store: 'nss', location: nssdb, changed: true },
    ]);
    const ca = (await runBin(['tls', 'ca', 'export', 'dev'], { env })).stdout.trim();
    expect(readFileSync(bundle, 'utf8')).toContain(ca.split('\n').slice(1, -1).join('\n'));
    expect(nssList()).toMatch(/keysmith dev CA\s+C,,/);
    // A leaf from the CA now verifies against the staged bundle.
    await runBin(['tls', 'issue', 'trusted.example.test', '--out-dir', home], { env });
    expect(execFileSync('openssl', ['verify', '-CAfile', bundle, join(home, 'trusted.example.test.pem')], { encoding: 'utf8' })).toMatch(/OK/);
  });

  it('untrust removes it from both; a second untrust changes nothing', async () => {
    const got = await runBin(['tls', 'ca', 'untrust', 'dev', '--json'], { env });
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout).map((o: { changed: boolean }) => o.changed)).toEqual([true, true]);
    expect(readFileSync(bundle, 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(1); // the distribution root only
    expect(nssList()).not.toMatch(/keysmith dev CA/);
    const again = JSON.parse((await runBin(['tls', 'ca', 'untrust', 'dev', '--json'], { env })).stdout);
    expect(again.map((o: { changed: boolean }) => o.changed)).toEqual([false, false]);
  });

  it('an unknown CA is exit 3 and changes no store', async () => {
    const before = readFileSync(bundle, 'utf8');
    expect((await runBin(['tls', 'ca', 'trust', 'nope'], { env })).code).toBe(3);
    expect(readFileSync(bundle, 'utf8')).toBe(before);
  });
});
