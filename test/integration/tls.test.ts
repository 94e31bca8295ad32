import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';
import { closedTarget } from '../helpers/tls-servers.js';

const openssl = (args: string[], input?: string) => spawnSync('openssl', args, { input, encoding: 'utf8' });

describeWith(['openssl', 'mkcert'], 'tls against openssl and mkcert', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  const run = (args: string[], input?: string) => runBin(args, { env, input });
  const dir = (name: string) => {
    const d = join(home, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  beforeAll(async () => {
    env = baseEnv({ KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  it.each([
    ['ec:p256', 'ec:p256'],
    ['ec:p384', 'rsa:2048'],
    ['rsa:3072', 'ec:p384'],
    ['ed25519', 'ed25519'],
  ])('CA %s issues %s leaves that openssl verify accepts for their names only', async (caKey, leafKey) => {
    const ca = `ca-${caKey.replace(':', '')}`;
    expect((await run(['tls', 'ca', 'create', ca, '--key', caKey])).code).toBe(0);
    const out = dir(`issue-${ca}`);
    const caPem = join(out, 'ca.pem');
    expect((await run(['tls', 'ca', 'export', ca, '--out', caPem])).code).toBe(0);
    const issued = await run(['tls', 'issue', 'example.test', '*.example.test', '127.0.0.1', '::1', 'me@example.test', '--ca', ca, '--key', leafKey, '--out-dir', out, '--json']);
    expect(issued.code, issued.stderr).toBe(0);
    const { certificate, key } = JSON.parse(issued.stdout);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    for (const check of [['-verify_hostname', 'example.test'], ['-verify_hostname', 'a.example.test'], ['-verify_ip', '127.0.0.1'], ['-verify_ip', '::1'], ['-verify_email', 'me@example.test']]) {
      const v = openssl(['verify', '-CAfile', caPem, ...check, certificate]);
      expect(v.stdout + v.stderr, check.join(' ')).toMatch(/: OK/);
    }
    expect(openssl(['verify', '-CAfile', caPem, '-verify_hostname', 'other.test', certificate]).status).not.toBe(0);
    expect(openssl(['verify', '-CAfile', caPem, '-purpose', 'sslserver', certificate]).status).toBe(0);
    expect(openssl(['verify', '-CAfile', caPem, '-purpose', 'sslclient', certificate]).status).not.toBe(0);
    // The key on disk is the certificate's key.
    const pub = (args: string[]) => openssl(args).stdout;
    expect(pub(['pkey', '-in', key, '-pubout'])).toBe(pub(['x509', '-in', certificate, '-noout', '-pubkey']));
    const text = openssl(['x509', '-in', certificate, '-noout', '-text']).stdout;
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/Subject Key Identifier/);
    expect(text).toMatch(/Authority Key Identifier/);
  });

  it('a bad name is refused before anything is made: no dev CA, no files', async () => {
    const fresh = { ...env, KEYSMITH_HOME: join(home, 'fresh-ks') };
    const out = dir('bad-name');
    const got = await runBin(['tls', 'issue', 'bad name!!', '--out-dir', out], { env: fresh });
    expect(got.code).toBe(2);
    expect(got.stderr).toMatch(/not a host name/);
    expect(JSON.parse((await runBin(['tls', 'ca', 'list', '--json'], { env: fresh })).stdout)).toEqual([]);
    expect(readdirSync(out)).toEqual([]);
  });

  it('--client adds clientAuth; the lifetime defaults to 397 days', async () => {
    const out = dir('client');
    const got = await run(['tls', 'issue', 'client.example.test', '--client', '--ca', 'ca-ecp256', '--out-dir', out]);
    expect(got.code, got.stderr).toBe(0);
    const cert = join(out, 'client.example.test.pem');
    const caPem = join(out, 'ca.pem');
    writeFileSync(caPem, (await run(['tls', 'ca', 'export', 'ca-ecp256'])).stdout);
    expect(openssl(['verify', '-CAfile', caPem, '-purpose', 'sslclient', cert]).status).toBe(0);
    const dates = openssl(['x509', '-in', cert, '-noout', '-startdate', '-enddate']).stdout;
    const [start, end] = [...dates.matchAll(/=(.+)/g)].map((m) => Date.parse(m[1]!));
    expect(Math.round((end! - start!) / 86_400_000)).toBe(397);
  });

  it('a name constraint limits what the CA can sign', async () => {
    expect((await run(['tls', 'ca', 'create', 'corp', '--name-constraint', 'corp.test'])).code).toBe(0);
    const out = dir('constrained');
    const caPem = join(out, 'ca.pem');
    await run(['tls', 'ca', 'export', 'corp', '--out', caPem]);
    await run(['tls', 'issue', 'api.corp.test', '--ca', 'corp', '--out-dir', out]);
    await run(['tls', 'issue', 'evil.example', '--ca', 'corp', '--out-dir', out]);
    expect(openssl(['verify', '-CAfile', caPem, join(out, 'api.corp.test.pem')]).status).toBe(0);
    const bad = openssl(['verify', '-CAfile', caPem, join(out, 'evil.example.pem')]);
    expect(bad.status).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/permitted subtree/i);
  });

  it('keeps CA keys in the vault only; refuses to replace a CA or files without --force', async () => {
    expect(readdirSync(join(home, 'ks'))).toEqual(['vault.age']);
    const again = await run(['tls', 'ca', 'create', 'corp']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--force/);
    const list = JSON.parse((await run(['tls', 'ca', 'list', '--json'])).stdout);
    expect(list.map((c: { name: string }) => c.name)).toEqual(['ca-ecp256', 'ca-ecp384', 'ca-ed25519', 'ca-rsa3072', 'corp']);
    const out = dir('exists');
    await run(['tls', 'issue', 'x.test', '--ca', 'corp', '--out-dir', out]);
    const before = readFileSync(join(out, 'x.test.pem'));
    const refused = await run(['tls', 'issue', 'x.test', '--ca', 'corp', '--out-dir', out]);
    expect(refused.code).toBe(2);
    expect(readFileSync(join(out, 'x.test.pem')).equals(before)).toBe(true);
    expect((await run(['tls', 'issue', 'x.test', '--ca', 'corp', '--out-dir', out, '--force'])).code).toBe(0);
    expect(readFileSync(join(out, 'x.test.pem')).equals(before)).toBe(false);
  });

  it('bad input: names, key types, days, unknown CA', async () => {
    const out = dir('bad');
    for (const args of [['tls', 'issue', 'bad name'], ['tls', 'issue', 'x.test', '--key', 'dsa'], ['tls', 'issue', 'x.test', '--days', '0'], ['tls', 'issue', 'x.test', '--ca', 'corp', '--days', '40000']]) {
      const got = await run([...args, '--out-dir', out]);
      expect(got.code, args.join(' ')).toBe(2);
    }
    const noCa = await run(['tls', 'issue', 'x.test', '--ca', 'nope', '--out-dir', out]);
    expect(noCa.code).toBe(3);
    expect(readdirSync(out)).toEqual([]);
  });

  it('csr: openssl req -verify accepts it; sign issues from it and from openssl-made requests', async () => {
    const out = dir('csr');
    const made = await run(['tls', 'csr', 'svc.example.test', 'svc2.example.test', '--key', 'rsa:2048', '--out-dir', out]);
    expect(made.code, made.stderr).toBe(0);
    const csr = join(out, 'svc.example.test+1.csr');
    expect(openssl(['req', '-in', csr, '-noout', '-verify']).stderr + openssl(['req', '-in', csr, '-noout', '-verify']).stdout).toMatch(/verify OK/i);
    const caPem = join(out, 'ca.pem');
    await run(['tls', 'ca', 'export', 'ca-ecp256', '--out', caPem]);
    const signed = join(out, 'svc.pem');
    expect((await run(['tls', 'sign', csr, '--ca', 'ca-ecp256', '--out', signed])).code).toBe(0);
    expect(openssl(['verify', '-CAfile', caPem, '-verify_hostname', 'svc2.example.test', signed]).status).toBe(0);
    // A request made by openssl, EC key, names only in the subject CN.
    const key = join(out, 'o-key.pem');
    const req = join(out, 'o.csr');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=legacy.example.test', '-out', req], { stdio: 'ignore' });
    const fromOpenssl = await run(['tls', 'sign', req, '--ca', 'ca-rsa3072']);
    expect(fromOpenssl.code, fromOpenssl.stderr).toBe(0);
    writeFileSync(join(out, 'legacy.pem'), fromOpenssl.stdout);
    await run(['tls', 'ca', 'export', 'ca-rsa3072', '--out', join(out, 'ca2.pem')]);
    expect(openssl(['verify', '-CAfile', join(out, 'ca2.pem'), '-verify_hostname', 'legacy.example.test', join(out, 'legacy.pem')]).status).toBe(0);
    // A tampered request is refused and nothing is signed.
    const pem = readFileSync(req, 'utf8');
    const lines = pem.split('\n');
    lines[3] = lines[3]!.slice(0, 10) + (lines[3]![10] === 'A' ? 'B' : 'A') + lines[3]!.slice(11);
    writeFileSync(join(out, 'tampered.csr'), lines.join('\n'));
    const tampered = await run(['tls', 'sign', join(out, 'tampered.csr'), '--ca', 'ca-ecp256']);
    expect(tampered.code, tampered.stderr).toBe(2);
    expect(tampered.stdout).toBe('');
    // A changed signature byte too.
    const sigLines = pem.trimEnd().split('\n');
    const at = sigLines.length - 2;
    sigLines[at] = sigLines[at]!.slice(0, 5) + (sigLines[at]![5] === 'A' ? 'B' : 'A') + sigLines[at]!.slice(6);
    writeFileSync(join(out, 'badsig.csr'), sigLines.join('\n') + '\n');
    const badSig = await run(['tls', 'sign', join(out, 'badsig.csr'), '--ca', 'ca-ecp256']);
    expect(badSig.code, badSig.stderr).toBe(2);
    expect(badSig.stderr).toMatch(/does not verify|not a PKCS#10/);
  });
});

describeWith(['openssl', 'mkcert'], 'tls inspect agrees with openssl x509', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const env = baseEnv({ KEYSMITH_HOME: join(home, 'ks') });
  const fx = (name: string) => join(home, name);
  const inspect = async (file: string, extra: string[] = []) => {
    const got = await runBin(['tls', 'inspect', file, '--json', ...extra], { env });
    expect(got.code, got.stderr).toBe(0);
    return JSON.parse(got.stdout);
  };
  const sslDate = (file: string, which: string) => new Date(openssl(['x509', '-in', file, '-noout', `-${which}`]).stdout.split('=')[1]!.trim()).toISOString();
  const fingerprint = (file: string, alg: string) => openssl(['x509', '-in', file, '-noout', '-fingerprint', `-${alg}`]).stdout.trim().split('=')[1];

  beforeAll(() => {
    const self = (name: string, keyArgs: string[], extra: string[] = []) =>
      execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', fx(`${name}-key.pem`), '-out', fx(`${name}.pem`), '-days', '30', '-subj', `/CN=${name}.test/O=Fixture`, ...extra], { stdio: 'ignore' });
    self('rsa', ['-newkey', 'rsa:2048'], ['-addext', 'subjectAltName=DNS:rsa.test,DNS:www.rsa.test']);
    self('p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], ['-addext', 'subjectAltName=IP:10.0.0.1,IP:fd00::1']);
    self('ed', ['-newkey', 'ed25519']);
    // Expired and not yet valid, with `openssl ca` and explicit dates.
    mkdirSync(fx('ca-db'));
    writeFileSync(fx('ca-db/index.txt'), '');
    writeFileSync(fx('ca.cnf'), `[ca]\ndefault_ca=d\n[d]\ndatabase=${fx('ca-db/index.txt')}\nnew_certs_dir=${fx('ca-db')}\nserial=${fx('ca-db/serial')}\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n`);
    writeFileSync(fx('ca-db/serial'), '1000\n');
    for (const [name, start, end] of [['expired', '20200101000000Z', '20210101000000Z'], ['future', '20991231000000Z', '21001231000000Z']] as const) {
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', fx(`${name}-key.pem`), '-subj', `/CN=${name}.test`, '-out', fx(`${name}.csr`)], { stdio: 'ignore' });
      execFileSync('openssl', ['ca', '-batch', '-config', fx('ca.cnf'), '-selfsign', '-keyfile', fx(`${name}-key.pem`), '-startdate', start, '-enddate', end, '-in', fx(`${name}.csr`), '-out', fx(`${name}.pem`), '-notext'], { stdio: 'ignore' });
    }
    // A chain: leaf (IP-only SANs) signed by an intermediate signed by the RSA fixture.
    execFileSync('mkcert', ['-cert-file', fx('mkcert.pem'), '-key-file', fx('mkcert-key.pem'), '127.0.0.1', '::1'], { env: { ...process.env, CAROOT: fx('caroot') }, stdio: 'ignore' });
    writeFileSync(fx('chain.pem'), readFileSync(fx('mkcert.pem'), 'utf8') + readFileSync(fx('caroot/rootCA.pem'), 'utf8'));
    execFileSync('openssl', ['x509', '-in', fx('rsa.pem'), '-outform', 'DER', '-out', fx('rsa.der')]);
  });

  it.each(['rsa', 'p384', 'ed', 'expired', 'future', 'mkcert'])('%s: dates, serial, fingerprints, key and signature match openssl', async (name) => {
    const file = fx(`${name}.pem`);
    const info = await inspect(file);
    expect(info.notBefore).toBe(sslDate(file, 'startdate'));
    expect(info.notAfter).toBe(sslDate(file, 'enddate'));
    expect(info.serial.replace(/^0+/, '')).toBe(openssl(['x509', '-in', file, '-noout', '-serial']).stdout.trim().split('=')[1]!.replace(/^0+/, ''));
    expect(info.fingerprints.sha256).toBe(fingerprint(file, 'sha256'));
    expect(info.fingerprints.sha1).toBe(fingerprint(file, 'sha1'));
    const text = openssl(['x509', '-in', file, '-noout', '-text']).stdout;
    expect(text).toContain(`Signature Algorithm: ${info.signatureAlgorithm}`);
    if (info.key.type !== 'Ed25519') expect(text).toContain(`Public-Key: (${info.key.bits} bit)`);
    else expect(text).toContain('ED25519');
  });

  it('statuses, self-signed, SANs and usages', async () => {
    expect((await inspect(fx('expired.pem'))).status).toBe('expired');
    expect((await inspect(fx('expired.pem'))).daysLeft).toBeLessThan(0);
    expect((await inspect(fx('future.pem'))).status).toBe('not-yet-valid');
    const rsa = await inspect(fx('rsa.pem'));
    expect(rsa).toMatchObject({ status: 'valid', selfSigned: true, key: { type: 'RSA', bits: 2048 }, subject: 'CN=rsa.test, O=Fixture' });
    expect(rsa.sans).toEqual([{ type: 'dns', value: 'rsa.test' }, { type: 'dns', value: 'www.rsa.test' }]);
    expect((await inspect(fx('p384.pem'))).sans).toEqual([{ type: 'ip', value: '10.0.0.1' }, { type: 'ip', value: 'fd00::1' }]);
    const mk = await inspect(fx('mkcert.pem'));
    expect(mk.selfSigned).toBe(false);
    expect(mk.extKeyUsage).toContain('serverAuth');
    expect(mk.keyUsage).toContain('digitalSignature');
  });

  it('DER files, bundles with --chain, requests, stdin', async () => {
    expect((await inspect(fx('rsa.der'))).fingerprints.sha256).toBe(fingerprint(fx('rsa.pem'), 'sha256'));
    const chain = await inspect(fx('chain.pem'), ['--chain']);
    expect(chain).toHaveLength(2);
    expect(chain[1].basicConstraints.ca).toBe(true);
    const csr = await inspect(fx('expired.csr'));
    expect(csr).toMatchObject({ type: 'csr', subject: 'CN=expired.test', signatureValid: true, key: { type: 'EC', bits: 256 } });
    const piped = await runBin(['tls', 'inspect', '-', '--json'], { env, input: readFileSync(fx('ed.pem'), 'utf8') });
    expect(JSON.parse(piped.stdout).key.type).toBe('Ed25519');
  });

  it('malformed or empty input is exit 2 with a clear message', async () => {
    writeFileSync(fx('broken.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n');
    writeFileSync(fx('empty.pem'), 'hello\n');
    for (const f of ['broken.pem', 'empty.pem']) {
      const got = await runBin(['tls', 'inspect', fx(f)], { env });
      expect(got.code, f).toBe(2);
      expect(got.stderr).toMatch(/malformed|no certificate/);
    }
    expect((await runBin(['tls', 'inspect', fx('missing.pem')], { env })).code).toBe(2);
  });
});

describeWith(['openssl'], 'tls inspect of a live server', () => {
  const { home, cleanup } = tempHome();
  let server: Server;
  let port = 0;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    await runBin(['tls', 'issue', 'svc.example.test', '--out-dir', home], { env });
    await runBin(['tls', 'ca', 'export', '--out', join(home, 'ca.pem')], { env });
    server = createServer({ cert: readFileSync(join(home, 'svc.example.test.pem')), key: readFileSync(join(home, 'svc.example.test-key.pem')) }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    server?.close();
    cleanup();
  });

  it('shows the certificate a server sends, and whether it is trusted', async () => {
    const got = await runBin(['tls', 'inspect', `127.0.0.1:${port}`, '--servername', 'svc.example.test', '--json'], { env });
    expect(got.code, got.stderr + got.stdout).toBe(0);
    const json = JSON.parse(got.stdout);
    expect(json.trusted).toBe(false);
    expect(json.certificates[0].subject).toBe('CN=svc.example.test');
    const sha = createHash('sha256').update(Buffer.from(readFileSync(join(home, 'svc.example.test.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64')).digest('hex');
    expect(json.certificates[0].fingerprints.sha256.replace(/:/g, '').toLowerCase()).toBe(sha);
    const trusted = await runBin(['tls', 'inspect', `https://127.0.0.1:${port}/`, '--servername', 'svc.example.test', '--json'], { env: { ...env, NODE_EXTRA_CA_CERTS: join(home, 'ca.pem') } });
    expect(JSON.parse(trusted.stdout).trusted).toBe(true);
  });

  it('an unreachable port is exit 5, not a hang', async () => {
    const got = await runBin(['tls', 'inspect', closedTarget(), '--timeout', '2'], { env });
    expect(got.code).toBe(5);
  });
});

describeWith(['openssl'], 'tls PKCS#12', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  it.each(['ec:p256', 'rsa:2048'])('issue --p12 (%s): OpenSSL 3 reads it without -legacy, and Node serves TLS from it', async (key) => {
    const out = join(home, key.replace(':', ''));
    const got = await runBin(['tls', 'issue', 'p12.example.test', '--key', key, '--p12', '--p12-password-stdin', '--out-dir', out, '--json'], { env, input: 's3cret-pw\n' });
    expect(got.code, got.stderr).toBe(0);
    const { p12 } = JSON.parse(got.stdout);
    expect(statSync(p12).mode & 0o777).toBe(0o600);
    const info = openssl(['pkcs12', '-in', p12, '-info', '-noout', '-passin', 'pass:s3cret-pw']);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stderr).toMatch(/AES-256-CBC/);
    const certs = openssl(['pkcs12', '-in', p12, '-nokeys', '-passin', 'pass:s3cret-pw']).stdout;
    expect(certs.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(openssl(['pkcs12', '-in', p12, '-info', '-noout', '-passin', 'pass:wrong']).status).not.toBe(0);
    // Node's TLS takes it as a pfx, and a client trusting the CA connects.
    const server = createServer({ pfx: readFileSync(p12), passphrase: 's3cret-pw' }, (s) => s.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { connect } = await import('node:tls');
    const ca = (await runBin(['tls', 'ca', 'export'], { env })).stdout;
    const reply = await new Promise<string>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, servername: 'p12.example.test', ca }, () => c.on('data', (d) => resolve(d.toString())));
      c.on('error', reject);
    });
    server.close();
    expect(reply).toBe('hello');
  });

  it('inspect reads our P12 and a legacy RC2 one; a wrong password is exit 4', async () => {
    const p12 = join(home, 'ecp256', 'p12.example.test.p12');
    const got = await runBin(['tls', 'inspect', p12, '--password-stdin', '--chain', '--json'], { env, input: 's3cret-pw' });
    expect(got.code, got.stderr).toBe(0);
    expect(JSON.parse(got.stdout).map((c: { subject: string }) => c.subject)[0]).toBe('CN=p12.example.test');
    const wrong = await runBin(['tls', 'inspect', p12, '--password-stdin'], { env, input: 'nope' });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/wrong password/);
    const legacy = join(home, 'legacy.p12');
    const made = openssl(['pkcs12', '-export', '-legacy', '-in', join(home, 'rsa2048', 'p12.example.test.pem'), '-inkey', join(home, 'rsa2048', 'p12.example.test-key.pem'), '-out', legacy, '-passout', 'pass:old']);
    expect(made.status, made.stderr).toBe(0);
    expect(openssl(['pkcs12', '-in', legacy, '-info', '-noout', '-passin', 'pass:old']).status).not.toBe(0); // OpenSSL 3 needs -legacy
    const read = await runBin(['tls', 'inspect', legacy, '--password-stdin', '--json'], { env, input: 'old' });
    expect(read.code, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout).subject).toBe('CN=p12.example.test');
  });

  it('export: PEM bundle and P12 of an issued certificate from the vault', async () => {
    const pem = await runBin(['tls', 'export', 'p12.example.test'], { env });
    expect(pem.code, pem.stderr).toBe(0);
    expect(pem.stdout.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(pem.stdout).toMatch(/BEGIN PRIVATE KEY/);
    const out = join(home, 'exported.p12');
    expect((await runBin(['tls', 'export', 'p12.example.test', '--format', 'p12', '--out', out, '--password-stdin'], { env, input: 'pw2' })).code).toBe(0);
    expect(openssl(['pkcs12', '-in', out, '-info', '-noout', '-passin', 'pass:pw2']).status).toBe(0);
    expect((await runBin(['tls', 'export', 'no.such'], { env })).code).toBe(3);
  });

  it('without a terminal and without --p12-password-stdin: exit 2 naming the flag, no files', async () => {
    const out = join(home, 'noprompt');
    const got = await runBin(['tls', 'issue', 'x.example.test', '--p12', '--out-dir', out], { env });
    expect(got.code).toBe(2);
    expect(got.stderr).toMatch(/--p12-password-stdin/);
    expect(() => readdirSync(out)).toThrow();
  });
});
