/**
 * A real OCSP responder for tests: a test CA kept by `openssl ca` (index.txt), leaves whose AIA names
 * the responder, and OpenSSL's own responder answering from that index.
 *
 * Why not `openssl ocsp -port`: OpenSSL 3.0's responder takes a bare port number ("Can't parse
 * 127.0.0.1:N as a number") and listens on [::]:N, every interface. Tests listen on 127.0.0.1 only, so
 * a Node HTTP server on 127.0.0.1 hands each request to `openssl ocsp -index … -reqin - -respout -`:
 * the same OpenSSL responder code (index lookup, status, signing), over a loopback-only socket.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { promisify } from 'node:util';

/** Who signs the responder's answers, chosen by the request path. */
export const SIGNERS = {
  /** A delegated responder: issued by the CA, EKU OCSPSigning (RFC 6960 §4.2.2.2). */
  delegated: '/',
  /** The CA key itself. */
  ca: '/ca',
  /** A CA-issued certificate with EKU serverAuth only: its answers must be refused. */
  'no-eku': '/no-eku',
  /** The delegated responder, but its certificate left out of the response (-resp_no_certs). */
  'no-certs': '/no-certs',
} as const;
export type Signer = keyof typeof SIGNERS;

export type LeafName = 'good' | 'revoked' | 'unknown' | 'noAia' | 'down';

export interface TestCertificate {
  pemPath: string;
  keyPath: string;
  pem: string;
  keyPem: string;
  der: Buffer;
}

export interface OcspTestPki {
  dir: string;
  /** The responder every leaf's AIA names (delegated signer): http://127.0.0.1:PORT/ */
  url: string;
  /** The same responder with another signer, e.g. `urlFor('ca')`. */
  urlFor(signer: Signer): string;
  ca: TestCertificate;
  /**
   * good: in index.txt, valid · revoked: revoked with reason keyCompromise · unknown: issued by the
   * CA but not in index.txt · noAia: no AIA extension · down: AIA http://127.0.0.2:PORT, where nothing
   * listens (the responder is bound to 127.0.0.1 only).
   */
  leaves: Record<LeafName, TestCertificate>;
  /**
   * A DER OCSPResponse for `leaf`, fetched by `openssl ocsp -respout` from the responder (no nonce).
   * Every answer has nextUpdate = thisUpdate + 1 day (-ndays 1).
   */
  response(leaf: LeafName, signer?: Signer): Promise<Buffer>;
  /** How many HTTP requests the responder has received. */
  requests(): number;
  close(): Promise<void>;
}

const openssl = (args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) =>
  execFileSync('openssl', args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });

/** Runs one request through OpenSSL's responder. */
function respond(dir: string, signer: Signer, request: Buffer): Promise<Buffer> {
  const signerFiles = { delegated: 'ocsp-signer', ca: 'ca', 'no-eku': 'no-eku', 'no-certs': 'ocsp-signer' }[signer];
  const args = ['ocsp', '-index', 'index.txt', '-CA', 'ca.pem', '-rsigner', `${signerFiles}.pem`, '-rkey', `${signerFiles}.key`];
  args.push('-ndays', '1', '-reqin', '-', '-respout', '-', ...(signer === 'no-certs' ? ['-resp_no_certs'] : []));
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`openssl ocsp: ${Buffer.concat(err).toString()}`))));
    child.stdin.end(request);
  });
}

/**
 * Makes the test PKI in a temp dir and starts its responder on 127.0.0.1. Call `close()` in afterAll.
 *
 * @example
 * const pki = await ocspTestPki();
 * await checkOcsp(pki.leaves.revoked.der, pki.ca.der, { timeoutMs: 5000, now: new Date() }); // revoked
 */
export async function ocspTestPki(): Promise<OcspTestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'keysmith-ocsp-'));
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const signer = (Object.keys(SIGNERS) as Signer[]).find((s) => SIGNERS[s] === req.url);
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      if (req.method !== 'POST' || !signer) return void res.writeHead(404).end();
      respond(dir, signer, Buffer.concat(chunks)).then(
        (der) => res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(der),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/`;
  const close = () => {
    server.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
    return new Promise<void>((r) => server.close(() => r()));
  };

  try {
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), '1000\n');
    writeFileSync(join(dir, 'ca.cnf'), caConfig(dir));
    const run = (args: string[], aia = url) => openssl(args, { cwd: dir, env: { ...process.env, OCSP_URL: aia } });

    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3650', '-subj', '/O=keysmith tests/CN=OCSP Test CA', '-config', 'ca.cnf', '-extensions', 'ca_ext']);
    const issue = (name: string, extensions: string, aia = url) => {
      run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}.ocsp.test`]);
      run(['ca', '-batch', '-config', 'ca.cnf', '-extensions', extensions, '-days', '30', '-notext', '-in', `${name}.csr`, '-out', `${name}.pem`], aia);
    };
    issue('ocsp-signer', 'signer_ext');
    issue('no-eku', 'no_eku_ext');
    issue('good', 'leaf_ext');
    issue('revoked', 'leaf_ext');
    issue('noAia', 'no_aia_ext');
    issue('down', 'leaf_ext', `http://127.0.0.2:${port}/`);
    run(['ca', '-config', 'ca.cnf', '-revoke', 'revoked.pem', '-crl_reason', 'keyCompromise']);
    // Signed by the CA but never recorded in index.txt: the responder does not know it.
    run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'unknown.key', '-out', 'unknown.csr', '-subj', '/CN=unknown.ocsp.test']);
    run(['x509', '-req', '-in', 'unknown.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x7e57ab1e', '-days', '30', '-extfile', 'ca.cnf', '-extensions', 'leaf_ext', '-out', 'unknown.pem']);
  } catch (error) {
    await close();
    throw error;
  }

  const load = (name: string): TestCertificate => {
    const pem = readFileSync(join(dir, `${name}.pem`), 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    return { pemPath: join(dir, `${name}.pem`), keyPath: join(dir, `${name}.key`), pem, keyPem: readFileSync(join(dir, `${name}.key`), 'utf8'), der };
  };
  const urlFor = (signer: Signer) => new URL(SIGNERS[signer], url).href;
  let responses = 0;
  return {
    dir,
    url,
    urlFor,
    ca: load('ca'),
    leaves: { good: load('good'), revoked: load('revoked'), unknown: load('unknown'), noAia: load('noAia'), down: load('down') },
    response: async (leaf, signer = 'delegated') => {
      // -respout to a file: with '-' openssl also prints the status after the DER on stdout.
      // Asynchronous: the responder answering it runs in this very process.
      const file = join(dir, `response-${++responses}.der`);
      await promisify(execFile)('openssl', ['ocsp', '-issuer', 'ca.pem', '-cert', `${leaf}.pem`, '-url', urlFor(signer), '-no_nonce', '-noverify', '-respout', file], { cwd: dir });
      return readFileSync(file);
    },
    requests: () => requests,
    close,
  };
}

function caConfig(dir: string): string {
  return `[ca]
default_ca = test_ca

[test_ca]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/certs
serial = $dir/serial
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none

[any]
commonName = supplied

[req]
distinguished_name = dn

[dn]

[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash

[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityInfoAccess = OCSP;URI:$ENV::OCSP_URL
authorityKeyIdentifier = keyid

[no_aia_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
authorityKeyIdentifier = keyid

[signer_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
authorityKeyIdentifier = keyid

[no_eku_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
`;
}

/**
 * A TLS server on 127.0.0.1 that staples `staple` (a DER OCSPResponse) to every handshake whose
 * client asks for one. `certPem` should carry the issuer after the leaf: Node passes it to the
 * OCSPRequest handler, as a real server would use it to ask its responder.
 */
export async function staplingServer(certPem: string, keyPem: string, staple: Buffer): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createTlsServer({ cert: certPem, key: keyPem }, (socket) => socket.end());
  server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, callback: (err: Error | null, response: Buffer) => void) => callback(null, staple));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
