#!/usr/bin/env node
// git's credential helper: `git config credential.helper keysmith` makes git run
// `git-credential-keysmith get|store|erase`, which is `keysmith helper git get|store|erase`.
process.argv.splice(2, 0, 'helper', 'git');
await import('./keysmith.js');
