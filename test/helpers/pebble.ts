import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { listening } from './registry.js';
import { freePort } from './sshd.js';
import { serverCredentials, testCa } from './tls-servers.js';

export interface Pebble {
  /** https://127.0.0.1:PORT/dir */
  directory: string;
  /** The CA of pebble's own HTTPS certificate (give it to keysmith as NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** The port pebble's VA asks http-01 answers on (keysmith's --listen, or a web server's), and tls-alpn-01's. */
  httpPort: number;
  tlsPort: number;
  /** An External Account Binding pebble knows. */
  eab: { kid: string; hmacKey: string };
  /** The root pebble issues under (PEM), from its management API. */
  root(): Promise<string>;
  /** challtestsrv's management API (set-txt, clear-txt), for a dns-01 hook. */
  challtestsrv: string;
  close(): void;
}

const EAB = { kid: 'kid-keysmith', hmacKey: 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' };

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    }).on('error', reject).end();
  });
}

/**
 * Debian's pebble (an RFC 8555 test CA) and pebble-challtestsrv (its mock DNS, every name
 * 127.0.0.1) on 127.0.0.1 and random ports. Pebble rejects 5% of nonces at random, as it does by
 * default: a client must retry badNonce. Its VA does not sleep between checks (PEBBLE_VA_NOSLEEP), and
 * every order is validated afresh (PEBBLE_AUTHZREUSE=0: a valid authorization is not reused).
 */
export async function startPebble(dir: string): Promise<Pebble> {
  const ca = await testCa('pebble');
  const creds = await serverCredentials(ca, ['127.0.0.1', 'localhost']);
  writeFileSync(join(dir, 'pebble-cert.pem'), creds.cert);
  writeFileSync(join(dir, 'pebble-key.pem'), creds.key);
  const caFile = join(dir, 'pebble-ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  const [acmePort, managementPort, httpPort, tlsPort, dnsPort, challtestPort] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: join(dir, 'pebble-cert.pem'), privateKey: join(dir, 'pebble-key.pem'),
      httpPort, tlsPort, ocspResponderURL: '', externalAccountBindingRequired: false,
      externalAccountMACKeys: { [EAB.kid]: EAB.hmacKey },
    },
  }));
  const children: ChildProcess[] = [
    spawn('pebble-challtestsrv', ['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challtestPort}`], { stdio: 'ignore' }),
    spawn('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`], { stdio: 'ignore', env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: '0' } }),
  ];
  for (const port of [acmePort, managementPort, challtestPort]) {
    for (let i = 0; i < 200 && !(await listening(port!)); i++) await new Promise((r) => setTimeout(r, 50));
  }
  return {
    directory: `https://127.0.0.1:${acmePort}/dir`, caFile, httpPort: httpPort!, tlsPort: tlsPort!, eab: EAB,
    root: () => get(`https://127.0.0.1:${managementPort}/roots/0`, ca.certificatePem),
    challtestsrv: `http://127.0.0.1:${challtestPort}`,
    close: () => children.forEach((c) => c.kill()),
  };
}
