// Bundles bench/run.ts (TypeScript) with esbuild and runs it: no TypeScript runner is needed or shipped.
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';

const common = { bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' };
await build({ ...common, entryPoints: ['bench/run.ts'], outfile: '.bench/run.mjs' });
await build({ ...common, entryPoints: ['bench/oidc-server.ts'], outfile: '.bench/oidc-server.mjs' });
await import(pathToFileURL(".bench/run.mjs").href); // sees this process.argv: `npm run bench -- vault|scripting`
