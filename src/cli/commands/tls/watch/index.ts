import type { Entry } from '../../../manifest.js';

/** `keysmith tls watch`: the files and endpoints `keysmith expiry` checks beside the vault. */
export const watch: Entry = {
  term: 'watch',
  summary: 'certificate files, globs and TLS endpoints for keysmith expiry to check',
  commands: [
    { term: 'add <targets...>', summary: 'watch targets, as tls check takes them (host:port, https://…, files, quoted globs)', load: () => import('./add.js') },
    { term: 'rm <targets...>', summary: 'stop watching targets', load: () => import('./rm.js') },
    { term: 'list', summary: 'list the watched targets', load: () => import('./list.js') },
  ],
};
