import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { startPebble, type Pebble } from '../helpers/pebble.js';
import { describeWith } from '../helpers/system.js';

/**
 * ACME (RFC 8555) against Debian's pebble and pebble-challtestsrv on 127.0.0.1: register (and
 * External Account Binding), issue with http-01 (a listener and a webroot), dns-01 through a hook
 * that sets the TXT record at challtestsrv, tls-alpn-01; each chain verified by openssl against
 * pebble's root; renewal; a refused challenge, a failing hook and a directory that is not ACME.
 * Pebble rejects 5% of nonces at random throughout: every run here retries them.
 */
describeWith(['pebble', 'pebble-challtestsrv', 'openssl'], 'ACME against pebble', () => {
  const { home, cleanup } = tempHome();
  let pebble: Pebble;
  let env: NodeJS.ProcessEnv;
  let rootFile: string;
  const out = join(home, 'certs');
  const ks = (args: string[], input?: string) => runBin(args, { env, timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
  /** openssl's verdict on a written certificate file (leaf then chain) against pebble's root. */
  const verify = (stem: string) => {
    const pems = readFileSync(join(out, `${stem}.pem`), 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
    writeFileSync(join(home, 'leaf.pem'), pems[0]!);
    writeFileSync(join(home, 'chain.pem'), pems.slice(1).join(''));
    return execFileSync('openssl', ['verify', '-CAfile', rootFile, '-untrusted', join(home, 'chain.pem'), join(home, 'leaf.pem')]).toString().trim();
  };

  beforeAll(async () => {
    pebble = await startPebble(home);
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), NODE_EXTRA_CA_CERTS: pebble.caFile, KEYSMITH_ACME_DIRECTORY: pebble.directory });
    rootFile = join(home, 'pebble-root.pem');
    writeFileSync(rootFile, await pebble.root());
    mkdirSync(out);
  }, 60_000);
  afterAll(() => {
    pebble?.close();
    cleanup();
  });

  it('register: needs --agree-tos; the account key goes to the vault; a second register finds the account', async () => {
    const refused = await ks(['tls', 'acme', 'register', '--email', 'me@example.test']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/terms of service.*\n.*--agree-tos/);
    const r = await ks(['tls', 'acme', 'register', '--email', 'me@example.test', '--agree-tos', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ directory: pebble.directory, created: true, accountUrl: expect.stringContaining(new URL(pebble.directory).host) });
    const again = await ks(['tls', 'acme', 'register', '--agree-tos', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, accountUrl: JSON.parse(r.stdout).accountUrl });
    const list = JSON.parse((await ks(['secret', 'list', 'acme/', '--json'])).stdout);
    expect(list).toEqual([expect.objectContaining({ kind: 'acme-account' })]);
  });

  it('http-01 from a one-shot listener: the full chain verifies with openssl against pebble\'s root; the key is 0600', async () => {
    const r = await ks(['tls', 'issue', 'www.example.test', 'example.test', '--acme', '--http-01', '--listen', `127.0.0.1:${pebble.httpPort}`, '--out-dir', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ca: pebble.directory, names: [{ type: 'dns', value: 'www.example.test' }, { type: 'dns', value: 'example.test' }] });
    expect(verify('www.example.test+1')).toMatch(/: OK$/);
    expect(statSync(join(out, 'www.example.test+1-key.pem')).mode & 0o777).toBe(0o600);
    const sans = execFileSync('openssl', ['x509', '-in', join(home, 'leaf.pem'), '-noout', '-ext', 'subjectAltName']).toString();
    expect(sans).toMatch(/DNS:www\.example\.test/);
    expect(sans).toMatch(/DNS:example\.test/);
    // The key in the file is the certificate's.
    const pub = (args: string[]) => execFileSync('openssl', args).toString();
    expect(pub(['x509', '-in', join(home, 'leaf.pem'), '-noout', '-pubkey'])).toBe(pub(['pkey', '-in', join(out, 'www.example.test+1-key.pem'), '-pubout']));
  });

  it('http-01 through a webroot a running web server serves; the answer file is gone afterwards', async () => {
    const webroot = join(home, 'www');
    mkdirSync(webroot);
    const server: Server = createServer((req, res) => {
      const file = join(webroot, decodeURIComponent((req.url ?? '/').split('?')[0]!));
      if (!file.startsWith(webroot) || !existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200).end(readFileSync(file));
    });
    await new Promise<void>((r) => server.listen(pebble.httpPort, '127.0.0.1', r));
    try {
      const r = await ks(['tls', 'issue', 'web.example.test', '--acme', '--http-01', '--webroot', webroot, '--out-dir', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(verify('web.example.test')).toMatch(/: OK$/);
      expect(readdirSync(join(webroot, '.well-known', 'acme-challenge'))).toEqual([]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('dns-01 through a hook that sets the TXT record at challtestsrv, a wildcard included; the hook is called present then cleanup', async () => {
    const log = join(home, 'hook.log');
    const hook = join(home, 'dns-hook.sh');
    writeFileSync(hook, `#!/bin/sh\necho "$1 $2" >> ${log}\nexec "${process.execPath}" -e '
      const [action, host, value] = process.argv.slice(1);
      fetch("${pebble.challtestsrv}/" + (action === "present" ? "set-txt" : "clear-txt"), { method: "POST", body: JSON.stringify({ host, value }) })
        .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));' "$@"\n`, { mode: 0o755 });
    const r = await ks(['tls', 'issue', '*.wild.example.test', '--acme', '--dns-01', '--dns-hook', hook, '--out-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(verify('_wildcard.wild.example.test')).toMatch(/: OK$/);
    expect(readFileSync(log, 'utf8')).toBe('present _acme-challenge.wild.example.test.\ncleanup _acme-challenge.wild.example.test.\n');
  });

  it('tls-alpn-01 (RFC 8737) from a one-shot TLS listener', async () => {
    const r = await ks(['tls', 'issue', 'alpn.example.test', '--acme', '--tls-alpn-01', '--listen', `127.0.0.1:${pebble.tlsPort}`, '--out-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(verify('alpn.example.test')).toMatch(/: OK$/);
  });

  it('tls renew renews an ACME certificate the same way it was issued: a new key and serial, the same files, still verified', async () => {
    const serial = () => execFileSync('openssl', ['x509', '-in', join(out, 'alpn.example.test.pem'), '-noout', '-serial']).toString();
    const [before, key] = [serial(), readFileSync(join(out, 'alpn.example.test-key.pem'), 'utf8')];
    const r = await ks(['tls', 'renew', 'alpn.example.test', '--force', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results).toEqual([expect.objectContaining({ name: 'alpn.example.test', status: 'renewed' })]);
    expect(serial()).not.toBe(before);
    expect(readFileSync(join(out, 'alpn.example.test-key.pem'), 'utf8')).not.toBe(key);
    expect(verify('alpn.example.test')).toMatch(/: OK$/);
    // On the radar: an ACME certificate renewable without a person.
    const radar = JSON.parse((await ks(['expiry', '--kind', 'tls', '--json'])).stdout);
    expect(radar.items.find((i: { name: string }) => i.name === 'alpn.example.test')).toMatchObject({ type: 'tls-cert', automatic: true, renew: 'keysmith tls renew alpn.example.test' });
    // expiry --renew renews ACME certificates as they were issued (pebble's last 5 years: a --warn beyond that makes them due).
    const before2 = serial();
    const renewed = await ks(['expiry', '--renew', '--kind', 'tls', '--warn', '3000d', '--json']);
    const done = (JSON.parse(renewed.stdout).renewals as Array<{ name: string; result: string }>).filter((x) => x.name === 'alpn.example.test');
    expect(done, renewed.stderr).toEqual([expect.objectContaining({ result: 'renewed' })]);
    expect(serial()).not.toBe(before2);
    expect(verify('alpn.example.test')).toMatch(/: OK$/);
  }, 120_000);

  it('a challenge the CA cannot complete, a failing dns hook: one line with the CA\'s words, nothing written, the old certificate kept', async () => {
    const before = readFileSync(join(out, 'alpn.example.test.pem'));
    // Answering on a port pebble does not look at: its VA cannot connect.
    const refused = await ks(['tls', 'issue', 'alpn.example.test', '--acme', '--http-01', '--listen', '127.0.0.1:0', '--out-dir', out, '--force']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^keysmith: the order for alpn\.example\.test: the CA said: .*(connection refused|connect)/im);
    expect(readFileSync(join(out, 'alpn.example.test.pem')).equals(before)).toBe(true);
    const failing = join(home, 'failing-hook.sh');
    writeFileSync(failing, '#!/bin/sh\necho "no API token for the DNS provider" >&2\nexit 3\n', { mode: 0o755 });
    const hooked = await ks(['tls', 'issue', 'hook.example.test', '--acme', '--dns-01', '--dns-hook', failing, '--out-dir', out]);
    expect(hooked.code).not.toBe(0);
    expect(hooked.stderr).toContain('--dns-hook present _acme-challenge.hook.example.test. failed (exit 3): no API token for the DNS provider');
    expect(existsSync(join(out, 'hook.example.test.pem'))).toBe(false);
    expect(existsSync(join(out, 'hook.example.test-key.pem'))).toBe(false);
  });

  it('External Account Binding: the right key registers; a wrong one is refused with the CA\'s reason', async () => {
    const eabEnv = { ...env, KEYSMITH_HOME: join(home, 'ks-eab') };
    const wrong = await runBin(['tls', 'acme', 'register', '--agree-tos', '--eab-kid', pebble.eab.kid, '--eab-hmac-key-stdin'], { env: eabEnv, input: 'AAAAwrongAAAAkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', timeoutMs: 60_000 });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/^keysmith: registering the account: the CA said: .*(external account binding|JWS)/im);
    const right = await runBin(['tls', 'acme', 'register', '--agree-tos', '--eab-kid', pebble.eab.kid, '--eab-hmac-key-stdin', '--json'], { env: eabEnv, input: pebble.eab.hmacKey, timeoutMs: 60_000 });
    expect(right.code, right.stderr).toBe(0);
    expect(JSON.parse(right.stdout)).toMatchObject({ created: true });
  });

  it('bad input: a directory that is not ACME, plain http, no challenge or two, local-CA flags with --acme, no account', async () => {
    const notAcme = await ks(['tls', 'acme', 'register', '--agree-tos', '--directory', pebble.directory.replace(/\/dir$/, '/nothing-here')]);
    expect(notAcme.code).toBe(2);
    expect(notAcme.stderr).toMatch(/is not an ACME directory/);
    for (const args of [['--directory', 'http://127.0.0.1/dir', '--http-01'], [], ['--http-01', '--dns-01', '--dns-hook', 'x'], ['--http-01', '--days', '30'], ['--dns-01'], ['--http-01', '--webroot', home, '--listen', ':80']]) {
      const r = await ks(['tls', 'issue', 'x.example.test', '--acme', ...args, '--out-dir', out]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n').length, r.stderr).toBeLessThanOrEqual(2);
    }
    const noAccount = await runBin(['tls', 'issue', 'x.example.test', '--acme', '--http-01', '--out-dir', out], { env: { ...env, KEYSMITH_HOME: join(home, 'ks-none') }, timeoutMs: 60_000 });
    expect(noAccount.code).toBe(3);
    expect(noAccount.stderr).toMatch(/no ACME account for .*\n.*tls acme register/);
    expect(existsSync(join(out, 'x.example.test.pem'))).toBe(false);
  });
});
