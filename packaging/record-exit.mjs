// Loaded into every Node process a README line starts (readme-commands.test.ts puts it in NODE_OPTIONS).
// After a Ctrl-C, npm and npx report the signal they got whatever their child did, so each process writes
// down its own exit code; one that a signal kills writes nothing.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.GEOFLUX_README_EXITS;
if (file && isMainThread) process.on('exit', (code) => appendFileSync(file, `${JSON.stringify({ argv: process.argv.slice(1), code })}\n`));
