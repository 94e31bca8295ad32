import type { Entry } from '../../manifest.js';

/** `keysmith helper`: the credential-helper protocols of other tools, spoken over the vault. */
export const helper: Entry = {
  term: 'helper',
  summary: 'be the credential helper of other tools (git, docker, podman, skopeo), in their own protocol',
  commands: [
    { term: 'docker <action>', summary: 'the docker credential helper (store, get, erase, list); docker, podman and skopeo run it as docker-credential-keysmith', load: () => import('./docker.js') },
    { term: 'git <operation>', summary: "git's credential helper (get, store, erase); git runs it as git-credential-keysmith", load: () => import('./git.js') },
  ],
};
