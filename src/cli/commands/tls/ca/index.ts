import type { Entry } from '../../../manifest.js';

/** `keysmith tls ca`: its commands, each verb's module imported only when it runs. */
export const ca: Entry = {
  term: 'ca',
  summary: 'create, list, show and export local certificate authorities (kept in the vault)',
  commands: [
    { term: 'create [options] [name]', summary: 'create a local root CA; its key stays in the vault', load: () => import('./create.js') },
    { term: 'list', summary: 'list the CAs in the vault', load: () => import('./list.js') },
    { term: 'show [name]', summary: "show a CA's certificate", load: () => import('./show.js') },
    { term: 'export [options] [name]', summary: "print or write a CA's certificate (PEM) — never its key", load: () => import('./export.js') },
    { term: 'trust [options] [name]', summary: 'add a CA to the system trust store and NSS databases (Chrome, Firefox), as mkcert -install does', load: () => import('./trust.js') },
    { term: 'untrust [options] [name]', summary: 'remove a CA from the system trust store and NSS databases', load: () => import('./untrust.js') },
  ],
};
