// npm run bench: builds, then measures keysmith against its peers in one run and prints medians and ratios.
import { mkdirSync, writeFileSync } from 'node:fs';
import { report } from './lib.js';
import { vaultBenchmarks } from './vault.js';

const rows = vaultBenchmarks();
const table = report(rows);
console.log(`node ${process.version}, ${new Date().toISOString()}, medians of 21 runs (11 for set, 5 for the passphrase unlock)\n`);
console.log(table);
mkdirSync('.bench', { recursive: true });
writeFileSync('.bench/results.md', `${table}\n`);
