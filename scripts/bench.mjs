// Bundles bench/run.ts (TypeScript) with esbuild and runs it: no TypeScript runner is needed or shipped.
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';

await build({ entryPoints: ['bench/run.ts'], outfile: '.bench/run.mjs', bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
await import(pathToFileURL(".bench/run.mjs").href); // sees this process.argv: `npm run bench -- vault|scripting`
