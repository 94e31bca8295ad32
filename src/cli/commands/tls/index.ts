import type { Entry } from '../../manifest.js';
import { ca } from './ca/index.js';
import { acme } from './acme/index.js';
import { watch } from './watch/index.js';

/** `keysmith tls`: its commands, each verb's module imported only when it runs. */
export const tls: Entry = {
  term: 'tls',
  summary: 'a local CA in the vault: issue and sign certificates, inspect certificates and requests',
  commands: [
    ca,
    { term: 'issue [options] <names...>', summary: 'issue a certificate and key for host names, IP addresses, emails or URIs', load: () => import('./issue.js') },
    { term: 'csr [options] <names...>', summary: 'make a key and a certificate signing request (PKCS#10) for names', load: () => import('./csr.js') },
    { term: 'sign [options] <csr>', summary: 'sign a certificate signing request with a CA from the vault', load: () => import('./sign.js') },
    { term: 'inspect [options] <target>', summary: 'show a certificate or request from a file (PEM bundle, DER), stdin, or a live TLS server', load: () => import('./inspect.js') },
    { term: 'check [options] [targets...]', summary: 'check certificate expiry, trust and host names of files and live TLS endpoints (monitoring-plugin exit codes)', load: () => import('./check.js') },
    { term: 'renew [options] [names...]', summary: 'issue again, to the same files, the certificates keysmith issued that end within --before', load: () => import('./renew.js') },
    watch,
    acme,
    { term: 'export [options] <name>', summary: 'export an issued certificate with its key and CA chain, as PEM or PKCS#12', load: () => import('./export.js') },
  ],
};
