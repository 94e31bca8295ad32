#!/usr/bin/env node
// Thin shim: the CLI lives in the bundled build (npm run build) so start-up stays cheap.
// `--version` alone is answered here, without loading the CLI: scripts call it as a health check.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  // With --debug (before any `--`), traces name the TypeScript sources: the maps are read only then,
  // and before the bundle loads, as Node maps only what loads after.
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (own.includes('--debug')) process.setSourceMapsEnabled(true);
  const { main } = await import('../dist/cli.js');
  process.exitCode = await main(args);
}
