#!/usr/bin/env node
// Thin shim: the CLI lives in the bundled build (npm run build) so start-up stays cheap.
// `--version` alone is answered here, without loading the CLI: scripts call it as a health check.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  // Node >= 22.1 keeps V8's compiled code of the bundle between runs. In a private folder of the
  // user's cache, not the shared default in /tmp: another local user could plant code there.
  const { enableCompileCache } = await import('node:module');
  if (enableCompileCache) {
    const { mkdirSync } = await import('node:fs');
    const { homedir } = await import('node:os');
    const dir = `${process.env.XDG_CACHE_HOME || `${homedir()}/.cache`}/keysmith/v8-${process.version}`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      enableCompileCache(dir);
    } catch {
      // no cache: only slower
    }
  }
  // With --debug (before any `--`), traces name the TypeScript sources: the maps are read only then,
  // and before the bundle loads, as Node maps only what loads after.
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  if (own.includes('--debug')) process.setSourceMapsEnabled(true);
  const { main } = await import('../dist/cli.js');
  process.exitCode = await main(args);
}
