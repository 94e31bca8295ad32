/**
 * A process that takes keysmith's file lock (bundled by the lock test): `hold` takes it and never
 * lets go (the test SIGKILLs it); `add` takes it, records entering and leaving in a log, and adds
 * one to a counter file — an acknowledged write, when it exits 0.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { withFileLock } from '../../src/fs.js';

const [mode, lockTarget, log, counter] = process.argv.slice(2) as [string, string, string, string];
await withFileLock(lockTarget, async () => {
  if (mode === 'hold') {
    process.stdout.write('held\n');
    await new Promise(() => undefined);
  }
  appendFileSync(log, `enter ${process.pid}\n`);
  const n = Number(readFileSync(counter, 'utf8') || '0');
  await new Promise((r) => setTimeout(r, Math.random() * 3));
  writeFileSync(counter, String(n + 1));
  appendFileSync(log, `leave ${process.pid}\n`);
}, { timeoutMs: 60_000 });
