// npm run bench: builds, then measures keysmith against its peers in one run and prints medians and ratios.
import { mkdirSync, writeFileSync } from 'node:fs';
import { expiryBenchmarks } from './expiry.js';
import { helperBenchmarks } from './helpers.js';
import { report } from './lib.js';
import { agentBenchmarks } from './ssh-agent.js';
import { oauthBenchmarks } from './oauth.js';
import { scriptingBenchmarks } from './scripting.js';
import { sshBenchmarks } from './ssh.js';
import { sshCaBenchmarks } from './ssh-ca.js';
import { startupBenchmarks } from './startup.js';
import { teamBenchmarks } from './team.js';
import { tlsBenchmarks } from './tls.js';
import { vaultBenchmarks } from './vault.js';

const only = process.argv[2];
const rows = [];
const notes: string[] = [];
if (!only || only === 'startup') {
  const s = startupBenchmarks();
  rows.push(...s.rows);
  notes.push(...s.notes);
}
if (!only || only === 'vault') rows.push(...vaultBenchmarks());
if (!only || only === 'scripting') {
  const s = scriptingBenchmarks();
  rows.push(...s.rows);
  notes.push(...s.notes);
}
if (!only || only === 'ssh') {
  const t = await sshBenchmarks();
  rows.push(...t.rows);
  notes.push(...t.notes);
}
if (!only || only === 'agent') {
  const t = await agentBenchmarks();
  rows.push(...t.rows);
  notes.push(...t.notes);
}
if (!only || only === 'ssh-ca') {
  const t = sshCaBenchmarks();
  rows.push(...t.rows);
  notes.push(...t.notes);
}
if (!only || only === 'helpers') {
  const t = helperBenchmarks();
  rows.push(...t.rows);
  notes.push(...t.notes);
}
if (!only || only === 'oauth') {
  const t = await oauthBenchmarks();
  rows.push(...t.rows);
}
if (!only || only === 'tls') {
  const t = await tlsBenchmarks();
  rows.push(...t.rows);
  notes.push(...t.notes);
}
if (!only || only === 'expiry') {
  const t = await expiryBenchmarks();
  rows.push(...t.rows);
  notes.push(...t.notes);
}
if (!only || only === 'team') {
  const t = await teamBenchmarks();
  rows.push(...t.rows);
  notes.push(...t.notes);
}
const text = `node ${process.version}, ${new Date().toISOString()}: medians, commands interleaved round by round\n\n${report(rows)}\n\n${notes.join('\n')}\n`;
console.log(text);
mkdirSync('.bench', { recursive: true });
writeFileSync('.bench/results.md', text);
