#!/usr/bin/env node
// geoflux is written in TypeScript and runs from source: tsx compiles each module as it loads.
import { register } from 'tsx/esm/api';

// Node 20 calls node:wasi experimental on every start; kernels use it on purpose, so that warning is noise
const printWarning = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'ExperimentalWarning' && /WASI/.test(w.message)) return;
  for (const l of printWarning) l(w);
});
// `geoflux fence ... | head` closes our stdout early: that is the reader's choice, not an error
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
