#!/usr/bin/env node
// Thin shim: the CLI lives in the bundled build (npm run build) so start-up stays cheap.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
