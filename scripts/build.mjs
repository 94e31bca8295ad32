// Bundles the CLI and the library with esbuild. Code splitting keeps each command's heavy
// dependencies (age-encryption, @inquirer/password) in chunks loaded only when that command runs.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // Prefer ES module builds (@peculiar/x509's CommonJS build loses its named exports when bundled).
  mainFields: ['module', 'main'],
  // Native addons (and ssh2, which loads its own optionally): from node_modules at run time.
  external: ['@napi-rs/keyring', 'ssh2'],
  define: { KEYSMITH_VERSION: JSON.stringify(version) },
  // Bundled CommonJS dependencies (commander) call require(); ESM output needs one.
  banner: { js: "import{createRequire as __ksRequire}from'node:module';const require=__ksRequire(import.meta.url);" },
  logLevel: 'warning',
});
