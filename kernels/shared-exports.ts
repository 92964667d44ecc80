/** What geoflux/kernels offers on every platform (Node and browsers), beside each platform's factories. */
export { GeofenceKernel, DETECTS, type Detect, type GeofenceEvent, type GeofenceParams } from './geofence.ts';
export { compileFences, FenceError, type Fence } from './fence-compiler.ts';
export { HotspotKernel, type HotspotEvent, type HotspotParams } from './hotspot.ts';
export { RoamKernel, type RoamEvent, type RoamParams } from './roam.ts';
export { MapMatchKernel, type MapMatchEvent, type MapMatchParams, type MatchedFix, type Traversal, type UnmatchedFix } from './mapmatch.ts';
export { CustomKernel } from './custom-kernel.ts';
export { Kernel, type DeviceSelection, type KernelOptions, type KernelState, type KernelStats } from './kernel.ts';
export { KernelError, KernelParamError, KernelTrap, type ParamProblem } from './host/kernel-error.ts';
export { KernelInstance, type KernelExports, type KernelSetup } from './host/kernel-instance.ts';
export { KernelRunner, type SnapshotPolicy, type StateStats } from './host/kernel-runner.ts';
export { parseKernelSchema, type FieldSpec, type KernelSchema, type ParamSpec } from './host/kernel-schema.ts';
export { paramProblems } from './host/params.ts';
export { BUILTIN_KERNELS, type BuiltinKernel } from './host/builtin-wasm.ts';
export type { WasiHost } from './host/wasi.ts';
export { batchFromRecords, recordsOf, toBatch, type GpsBatch } from '../codecs/gps-batch.ts';
export type { GpsRecord } from '../codecs/gps-record.ts';
