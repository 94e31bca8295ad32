import type { Entry } from '../../../manifest.js';

/** `keysmith ssh ca`: its commands, each verb's module imported only when it runs. */
export const ca: Entry = {
  term: 'ca',
  summary: 'SSH certificate authorities in the vault: sign user and host certificates (PROTOCOL.certkeys), like ssh-keygen -s',
  commands: [
    { term: 'create [options] <name>', summary: 'create an SSH CA; its private key stays in the vault', load: () => import('./create.js') },
    { term: 'sign [options] <ca> <public-key>', summary: 'certify a public key as ssh-keygen -s does; writes KEY-cert.pub beside it', load: () => import('./sign.js') },
    { term: 'export [options] <name>', summary: "print a CA's public key as sshd's TrustedUserCAKeys or known_hosts' @cert-authority wants it", load: () => import('./export.js') },
    { term: 'list', summary: 'list the SSH CAs in the vault', load: () => import('./list.js') },
  ],
};
