import type { Entry } from '../../manifest.js';

/** `keysmith secret`: its commands, each verb's module imported only when it runs. */
export const secret: Entry = {
  term: 'secret',
  summary: 'store, read, list, generate and remove secrets',
  commands: [
    { term: 'set [options] <name> [source]', summary: 'store a secret; the value comes from stdin, a file, an environment variable or a hidden prompt — never from argv', load: () => import('./set.js') },
    { term: 'get [options] <name>', summary: 'print a secret value, byte for byte (a newline is added only on a terminal)', load: () => import('./get.js') },
    { term: 'list|ls [prefix]', summary: 'list secret names, kinds and dates — never values', load: () => import('./list.js') },
    { term: 'rm|delete [options] <name>', summary: 'remove a secret', load: () => import('./rm.js') },
    { term: 'generate [options] <name>', summary: 'generate a random password and store it', load: () => import('./generate.js') },
  ],
};
