#!/usr/bin/env node
// The geoflux command: the compiled CLI in dist/ (npm run build makes it; npm install in a clone runs the build).

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

const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
