import type { Entry } from '../../manifest.js';

/** `keysmith vault`: its commands, each verb's module imported only when it runs. */
export const vault: Entry = {
  term: 'vault',
  summary: 'choose, set up, move, back up and unlock the vault',
  commands: [
    { term: 'status', summary: 'which vault is in use, where, why it was chosen, and whether it opens (exit 0 only if it does)', load: () => import('./status.js') },
    { term: 'init [options]', summary: 'set up a vault backend and make it the default (an existing vault is kept, never replaced)', load: () => import('./init.js') },
    { term: 'migrate [options]', summary: 'move every record to another backend: copy, verify each, then remove from the source', load: () => import('./migrate.js') },
    { term: 'export [options]', summary: 'write an age-encrypted backup of every record (0600)', load: () => import('./export.js') },
    { term: 'import [options] <file>', summary: 'add the records of a backup (from vault export, or any keysmith vault file) to the vault', load: () => import('./import.js') },
    { term: 'unlock [options]', summary: 'unlock the file vault once and print a session token for KEYSMITH_SESSION', load: () => import('./unlock.js') },
    { term: 'lock', summary: 'end every unlock session', load: () => import('./lock.js') },
  ],
};
