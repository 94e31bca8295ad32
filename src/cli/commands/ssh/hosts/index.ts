import type { Entry } from '../../../manifest.js';

/** `keysmith ssh hosts`: its commands, each verb's module imported only when it runs. */
export const hosts: Entry = {
  term: 'hosts',
  summary: 'the hosts a key is deployed to (used by rotate)',
  commands: [
    { term: 'add [options] <name> <target>', summary: 'record a host for a key (does not connect; see ssh deploy)', load: () => import('./add.js') },
    { term: 'rm <name> <target>', summary: 'forget a host of a key (its authorized_keys is not touched)', load: () => import('./rm.js') },
    { term: 'list <name>', summary: "list a key's hosts", load: () => import('./list.js') },
  ],
};
