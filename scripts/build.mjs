// Bundles the CLI and the library with esbuild. Code splitting keeps each command's heavy
// dependencies (age-encryption, @inquirer/password) in chunks loaded only when that command runs.
// `node scripts/build.mjs --types` (npm run build:types; run by prepack, lint:package and
// test/e2e/package.test.ts) emits the library's declarations instead: tsc -p tsconfig.build.json
// into dist/types, failing on any type error. They are not part of the plain build, which every
// `npm test` and `npm run bench` runs: tsc takes ~0.8 s of CPU, more than the esbuild bundle.
// The plain build clears dist/ but leaves dist/types, as npm pack runs prepack before prepare.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');

if (process.argv.includes('--types')) {
  rmSync(join(dist, 'types'), { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin/tsc');
  const { status } = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (status !== 0 || !existsSync(join(dist, 'types/index.d.ts'))) {
    console.error(`declarations (tsc -p tsconfig.build.json) failed${status ? ` (exit ${status})` : ''}`);
    process.exit(1);
  }
  process.exit(0);
}

const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const entry of existsSync(dist) ? readdirSync(dist) : []) {
  if (entry !== 'types') rmSync(join(dist, entry), { recursive: true, force: true });
}

// commander loads node:child_process (~1.8 ms on every run) for executable subcommands, which
// keysmith has none of: it is required on the first spawn instead. A commander that no longer
// has the line fails the build rather than losing the change unseen.
const lazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async ({ path }) => {
      const line = "const childProcess = require('node:child_process');";
      const source = await readFile(path, 'utf8');
      if (!source.includes(line)) throw new Error(`${path}: no "${line}" to make lazy (commander changed?)`);
      return { contents: source.replace(line, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: 'js' };
    });
  },
};

// An ES import of a built-in module (`import { fstatSync } from 'node:fs'`) makes Node build its
// namespace, which reads every export, lazy getters included: node:process computes its allowed
// flags, node:fs loads fs/promises, node:http loads undici (22 ms). Bundled as CommonJS modules
// of process.getBuiltinModule(), an export is read only when the code uses it. ~5 ms a run on Node 22.
const builtin = new RegExp(`^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({ filter: builtin }, ({ path }) => ({ path: path.startsWith('node:') ? path : `node:${path}`, namespace: 'builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, ({ path }) => ({ contents: `module.exports = process.getBuiltinModule(${JSON.stringify(path)});`, loader: 'js' }));
  },
};

await build({
  entryPoints: { cli: 'src/cli/main.ts', index: 'src/index.ts' },
  plugins: [lazyChildProcess, lazyBuiltins],
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
  // Bundled CommonJS dependencies (commander) call require() of Node's built-in modules (the rest
  // is bundled), which ESM output lacks: process.getBuiltinModule answers it without the CommonJS
  // loader (createRequire and its module lookups: ~2 ms a run).
  banner: { js: "const require=(id)=>process.getBuiltinModule(id)??process.getBuiltinModule('node:module').createRequire(import.meta.url)(id);" },
  logLevel: 'warning',
});
