/**
 * geoflux/kernels in a browser (the `browser` export condition): the same kernels, the same .wasm files and
 * the same events as in Node, with fences and road graphs given as objects.
 *
 *   const fence = await createGeofence({ fences: featureCollection }, { wasm: '/kernels/geofence.wasm' });
 */
export * from './shared-exports.ts';
export { createGeofence, createHotspot, createMapMatch, loadKernel, type BrowserKernelOptions, type WasmSource } from './create-browser-kernel.ts';
export { browserWasi } from './host/browser-wasi.ts';
