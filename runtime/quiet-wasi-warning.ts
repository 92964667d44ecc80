/**
 * Node 20 calls node:wasi experimental on every first use, in every thread; kernels use it on purpose, so
 * that warning is noise to geoflux's users. Imported for its effect by the command and by geoflux's worker
 * threads; every other warning is printed as before.
 */
const printWarning = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (w) => {
  if (w.name === 'ExperimentalWarning' && /WASI/.test(w.message)) return;
  for (const l of printWarning) l(w);
});
