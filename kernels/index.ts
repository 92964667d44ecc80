/**
 * geoflux/kernels in Node: the geofence, hotspot, map-matching and roam kernels as library calls on arrays of
 * fixes or columnar batches, and custom .wasm kernels.
 *
 *   const fence = await createGeofence({ fences: 'quarters.geojson', detect: ['enter', 'exit'] });
 *   for (const e of fence.process(fixes)) console.log(e.detect, e.fence.name, e.deviceId);
 */
export * from './shared-exports.ts';
export { createGeofence, createHotspot, createMapMatch, createRoam, createKernel, kernelFiles, loadKernel, type GeofenceFileParams, type KernelFiles, type MapMatchFileParams, type NodeKernelOptions } from './create-kernel.ts';
export { kernelParamProblems } from './param-check.ts';
export { checkConformance, syntheticFixes, threeDevices, type CheckResult, type ConformanceInput } from './conformance.ts';
export { loadFences } from './load-fences.ts';
export { loadKernelModule } from './host/load-module.ts';
export { loadWasmer, nodeWasi, wasmerWasi, type WasiName } from './host/node-wasi.ts';
export type { BatchKernel } from './batch-kernel.ts';
export { loadNetwork, type LoadedNetwork } from '../network/load-network.ts';
