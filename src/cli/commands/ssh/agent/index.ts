import type { Entry } from '../../../manifest.js';

/** `keysmith ssh agent`: an ssh-agent over vault keys. */
export const agent: Entry = {
  term: 'agent',
  summary: 'an ssh-agent serving vault keys to ssh, git and ssh-add; private keys stay off the disk',
  commands: [
    { term: 'start [options]', summary: 'start the agent and print SSH_AUTH_SOCK for eval', load: () => import('./start.js') },
    { term: 'stop', summary: 'forget every key and stop the agent', load: () => import('./stop.js') },
    { term: 'status', summary: 'whether the agent runs, its socket and how many identities it lists', load: () => import('./status.js') },
  ],
};
