import type { Entry } from '../manifest.js';
import { helper } from './helper/index.js';
import { oauth } from './oauth/index.js';
import { secret } from './secret/index.js';
import { ssh } from './ssh/index.js';
import { team } from './team/index.js';
import { tls } from './tls/index.js';
import { vault } from './vault/index.js';

/** The whole command tree, as `keysmith --help` lists it; see manifest.ts. */
export const commands: Entry[] = [
  secret,
  vault,
  ssh,
  tls,
  oauth,
  team,
  helper,
  { term: 'exec [options] <command...>', summary: "run a command with secrets in its environment, masked in its output; exits with the command's code", load: () => import('./scripting/exec.js') },
  { term: 'inject [options]', summary: 'fill {{ ks://name }} references in a template; the output file is written 0600', load: () => import('./scripting/inject.js') },
  { term: 'scan [options] [paths...]', summary: "find other tools' plaintext credentials (git, docker, AWS, kubeconfig, netrc, npm, …) and unprotected keys; --fix moves them into the vault; exit 1 when any is found", load: () => import('./helper/scan.js') },
  { term: 'expiry [options]', summary: 'every credential\'s end date in one report, soonest first (monitoring-plugin exit codes); --renew renews what it can', load: () => import('./expiry.js') },
  { term: 'completion <shell>', summary: 'print a shell completion script', load: () => import('./scripting/completion.js') },
];
