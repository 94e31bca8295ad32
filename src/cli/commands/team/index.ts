import type { Entry } from '../../manifest.js';

/** `keysmith team`: its commands, each verb's module imported only when it runs. */
export const team: Entry = {
  term: 'team',
  summary: "team vaults on git: secrets shared by a team and its CI, encrypted to each member's SSH key",
  commands: [
    { term: 'create [options] <team>', summary: 'create a team vault with you as its first member', load: () => import('./create.js') },
    { term: 'join [options] <team> <remote>', summary: 'clone a team vault, checking every commit; prints your recipient line', load: () => import('./join.js') },
    { term: 'add [options] <team> <member> <recipient>', summary: 'add a member and re-encrypt what they read', load: () => import('./add.js') },
    { term: 'remove [options] <team> <member>', summary: 'remove a member, re-encrypt without them and list what they saw', load: () => import('./remove.js') },
    { term: 'members <team>', summary: 'list the members, what they read and whether they write', load: () => import('./members.js') },
    { term: 'sync <team>', summary: 'pull (each commit checked), rebase and push', load: () => import('./sync.js') },
    { term: 'resolve [options] <team>', summary: 'end a sync conflict, keeping mine or theirs', load: () => import('./resolve.js') },
    { term: 'status <team>', summary: 'remote, last sync, members, changes not yet pushed or pulled', load: () => import('./status.js') },
  ],
};
