import type { Entry } from '../../manifest.js';

/** `keysmith helper`: the credential-helper protocols of other tools, spoken over the vault. */
export const helper: Entry = {
  term: 'helper',
  summary: "be the credential helper of other tools (git), in their own protocol",
  commands: [
    { term: 'git <operation>', summary: "git's credential helper (get, store, erase); git runs it as git-credential-keysmith", load: () => import('./git.js') },
  ],
};
