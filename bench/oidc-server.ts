// Runs a test oidc-provider for the OAuth benchmarks in its own process (the benchmark blocks its
// own event loop while it measures) and prints {issuer, caFile} once ready.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProvider } from '../test/helpers/oidc.js';

const provider = await startProvider(mkdtempSync(join(tmpdir(), 'ks-bench-oidc-')));
process.stdout.write(`${JSON.stringify({ issuer: provider.issuer, caFile: provider.caFile })}\n`);
