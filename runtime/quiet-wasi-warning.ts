/**
 * Node 20 calls node:wasi experimental on every first use, in every thread; kernels use it on purpose, so
 * that warning is noise to geoflux's users. Imported for its effect by kernels/host/node-wasi.ts, the one
 * place node:wasi is loaded (so the command, geoflux's worker threads and library users alike are quiet),
 * and first thing by the worker threads; every other warning is printed as before.
 */
const printWarning = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'ExperimentalWarning' && /WASI/.test(w.message)) return;
  for (const l of printWarning) l(w);
});
