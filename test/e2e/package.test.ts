// The published package as a stranger gets it: `npm pack`, install the tarball into an empty project,
// then a TypeScript file that imports keysmith must typecheck against the shipped declarations (strict,
// skipLibCheck off) and run under node. Without the declarations, or with declarations that type the
// API as `any`, tsc fails here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const typesNodeVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;

/** The environment of an outer `npm test` must not steer the inner npm (project root, lifecycle). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_(lifecycle_|package_|config_local_prefix$)|^INIT_CWD$/i.test(k)) env[k] = v;
  }
  return env;
}

function run(command: string, args: string[], cwd: string): string {
  const r = spawnSync(command, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) throw new Error(`${[command, ...args].join(' ')} (in ${cwd}) exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// Uses only the public API, as README's "As a library" does. The env backend keeps it free of keychains and files.
const CONSUMER = `import { envVarName, findSecret, openVault, resolvePaths, type SecretRecord, type Vault } from 'keysmith';

const env: NodeJS.ProcessEnv = { KEYSMITH_HOME: process.argv[2], KEYSMITH_VAULT: 'env', [envVarName('token')]: 'hunter2' };
const { vault, backend } = await openVault({
  paths: resolvePaths(env), env, now: () => new Date(), notice: () => {}, passphrase: async () => '',
});
const typed: Vault = vault;
const record: SecretRecord | undefined = await findSecret(typed, 'token');
// @ts-expect-error -- a Vault has no \`value\`: if the package's types were missing or \`any\`, this directive would be unused, and tsc fails
typed.value;
console.log(JSON.stringify({ backend, value: record?.value ?? null, missing: (await findSecret(typed, 'db/nothing')) === undefined, names: (await typed.list()).map((s) => s.name) }));
`;

describe('the packed package (npm pack → npm install → tsc → node)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keysmith-package-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs into an empty project; `import { openVault } from "keysmith"` typechecks against its .d.ts and runs', () => {
    expect(existsSync(join(ROOT, 'dist/index.js')), 'dist/index.js is missing: run npm run build').toBe(true);
    // Fresh declarations, failing on any type error; the JavaScript bundle is left alone, so this
    // test can run beside others that spawn the built CLI (`npm pack` without scripts never rebuilds it).
    run(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--types'], ROOT);
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    expect(packed!.filename).toBe(`keysmith-${version}.tgz`);
    const files = packed!.files.map((f) => f.path);
    for (const f of ['package.json', 'bin/keysmith.js', 'dist/index.js', 'dist/cli.js', 'dist/types/index.d.ts', 'dist/types/vault/open.d.ts']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);

    const project = join(dir, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    run('npm', ['install', join(dir, packed!.filename), `@types/node@${typesNodeVersion}`, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, types: ['node'], outDir: 'out', rootDir: '.' },
      files: ['main.ts'],
    }));
    writeFileSync(join(project, 'main.ts'), CONSUMER);
    // Resolved through the consumer's node_modules: the exports map's `types` condition, not our src/.
    run(process.execPath, [TSC, '-p', join(project, 'tsconfig.json'), '--pretty', 'false'], project);
    const printed = JSON.parse(run(process.execPath, [join(project, 'out/main.js'), join(dir, 'home')], project));
    expect(printed).toEqual({ backend: 'env', value: 'hunter2', missing: true, names: ['token'] });

    // ESM only, yet `require('keysmith')` works on Node >= 20.19 (require of ES modules): the
    // exports map's `default` condition serves it, no CommonJS build needed.
    const required = run(process.execPath, ['-e', "const k = require('keysmith'); console.log(typeof k.openVault, k.envVarName('a/b'))"], project);
    expect(required.trim()).toBe('function KEYSMITH_SECRET_A_B');
    expect(dirname(run(process.execPath, ['-p', "require.resolve('keysmith')"], project).trim())).toBe(join(project, 'node_modules/keysmith/dist'));
  }, 120_000);
});
