import type { Entry } from '../../manifest.js';
import { agent } from './agent/index.js';
import { ca } from './ca/index.js';
import { hosts } from './hosts/index.js';

/** `keysmith ssh`: its commands, each verb's module imported only when it runs. */
export const ssh: Entry = {
  term: 'ssh',
  summary: 'generate, inspect, deploy and rotate SSH keys',
  commands: [
    { term: 'keygen [options] <name>', summary: 'generate an SSH key pair (OpenSSH format) and manage it', load: () => import('./keygen.js') },
    { term: 'list', summary: 'list managed keys: name, type, bits, fingerprint, path, age, hosts', load: () => import('./list.js') },
    { term: 'show [options] <name>', summary: 'show a managed key: public key line, fingerprints, randomart, hosts', load: () => import('./show.js') },
    { term: 'fingerprint [options] <file...>', summary: 'print the fingerprints of public or private OpenSSH keys and certificates, like ssh-keygen -l', load: () => import('./fingerprint.js') },
    { term: 'import [options] <path> [name]', summary: 'adopt an existing key pair (the files stay where they are)', load: () => import('./import.js') },
    hosts,
    { term: 'deploy [options] <name> <target>', summary: "install a key in a host's authorized_keys, like ssh-copy-id (idempotent; the host key is verified)", load: () => import('./deploy.js') },
    agent,
    { term: 'rotate [options] <name>', summary: 'replace a key on all its hosts without locking anyone out; resumable', load: () => import('./rotate.js') },
    ca,
  ],
};
