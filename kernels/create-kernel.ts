import { resolve } from 'node:path';
import { logger, type Logger } from '../log/logger.ts';
import type { BatchKernel } from './batch-kernel.ts';
import type { CustomKernel } from './custom-kernel.ts';
import type { GeofenceKernel, GeofenceParams } from './geofence.ts';
import { unknownKernel } from './host/builtin-wasm.ts';
import { KernelError } from './host/kernel-error.ts';
import { kernelSchema } from './host/kernel-instance.ts';
import type { SnapshotPolicy } from './host/kernel-runner.ts';
import { loadKernelModule } from './host/load-module.ts';
import { wasiNamed, type WasiName } from './host/node-wasi.ts';
import { checkParams } from './host/params.ts';
import type { HotspotKernel, HotspotParams } from './hotspot.ts';
import type { KernelOptions, KernelStateFace, LoadedNetwork, PreparedKernel } from './kernel.ts';
import { loadFences } from './load-fences.ts';
import type { MapMatchKernel, MapMatchParams } from './mapmatch.ts';
import type { RoamKernel, RoamParams } from './roam.ts';

/**
 * The kernels in Node: each factory reads what its params name from files (fences, road networks, a custom
 * .wasm) and sets up the kernel with Node's WASI. The calls behind `geoflux kernel`, `fence`, `hotspot` and
 * `match`, a workflow's `kernel:` functions and the `kernel()` operator.
 */

export interface NodeKernelOptions {
  /** where relative paths in params (and a kernel's own path) are resolved: a workflow's directory */
  baseDir?: string;
  /** WASI implementation (default node:wasi) */
  wasi?: WasiName;
  /** memory cap in 64 KiB pages (default 1024: 64 MiB) */
  maxPages?: number;
  /** where a kernel's warnings go (a fence that crosses itself); default: the geoflux log */
  log?: Logger;
  /** when a kernel with state is snapshot, so a trap costs no state (default: every 50,000 fixes or second) */
  snapshot?: SnapshotPolicy | false;
}

/** A kernel ready to make: compiled and set up, its params with the files they name read. */
export type KernelFiles = { setup: KernelOptions; params: Record<string, unknown> };

/**
 * The kernel compiled, its params checked against its schema (before any file is read: a misspelt param
 * should not wait for a road network to load), and the files its data params name read: fences (GeoJSON,
 * or an OSM PBF's boundaries at `adminLevel`) and road networks.
 */
export async function kernelFiles(kernel: string, params: Record<string, unknown>, opts: NodeKernelOptions & { outCap?: number } = {}): Promise<KernelFiles> {
  const [{ module }, wasi] = await Promise.all([loadKernelModule(kernel, opts.baseDir), wasiNamed(opts.wasi)]);
  const setup: KernelOptions = { module, wasi, maxPages: opts.maxPages, snapshot: opts.snapshot, outCap: opts.outCap };
  // roam's groups ride on the device ids, for `geoflux kernel roam` as for createRoam
  if (kernel === 'roam') setup.deviceTag = (await import('./roam.ts')).groupTag(params);
  const schema = kernelSchema(module, setup);
  checkParams(schema, params);
  const read = { ...params };
  for (const p of schema.params) {
    const v = params[p.name];
    if (typeof v !== 'string') continue;
    if (p.type === 'fences') {
      const loaded = await loadFences(v, opts.baseDir, params.adminLevel as number | undefined);
      read[p.name] = loaded.geojson;
      setup.source = loaded.source;
    } else if (p.type === 'roads') {
      read[p.name] = await (await import('../network/load-network.ts')).loadNetwork(resolve(opts.baseDir ?? process.cwd(), v));
    }
  }
  return { setup, params: read };
}

export interface GeofenceFileParams extends Omit<GeofenceParams, 'fences'> {
  /** a GeoJSON file or an OSM PBF (path, relative to `baseDir`), or the GeoJSON itself */
  fences: string | object;
  /** with an OSM PBF: the admin_level of the boundaries to use (default 10) */
  adminLevel?: number;
}

export interface MapMatchFileParams extends Omit<MapMatchParams, 'network'> {
  /** an OSM PBF or a Kubička prefix/directory (path, relative to `baseDir`), or a graph already loaded */
  network: string | LoadedNetwork;
}

type MakeOptions = NodeKernelOptions & { outCap?: number; contains?: boolean };
type Face<K> = (read: Record<string, unknown>, setup: KernelOptions, opts: MakeOptions) => K;

// each kernel's JavaScript is read only when a kernel of its kind is made: a geofence gateway's threads hold
// no map matcher, road network reader or roam (docs/serverless.md, the footprint)
const lazy =
  <M, K>(load: () => Promise<M>, face: (m: M) => Face<K>) =>
  async (): Promise<Face<K>> =>
    face(await load());
const geofence = lazy(() => import('./geofence.ts'), ({ GeofenceKernel }) => (read, setup, opts) => GeofenceKernel.create(read as unknown as GeofenceParams, { ...setup, contains: opts.contains }));
const hotspot = lazy(() => import('./hotspot.ts'), ({ HotspotKernel }) => (read, setup) => HotspotKernel.create(read, setup));
const mapmatch = lazy(() => import('./mapmatch.ts'), ({ MapMatchKernel }) => (read, setup) => MapMatchKernel.create(read as unknown as MapMatchParams, setup));
const roam = lazy(() => import('./roam.ts'), ({ RoamKernel }) => (read, setup) => RoamKernel.create(read, setup));
const custom = lazy(() => import('./custom-kernel.ts'), ({ CustomKernel }) => (read, setup) => CustomKernel.create(read, setup));

/** Makes kernels of one kind and params, each fresh (no state, an instance of its own). */
export type KernelMaker<K = BatchKernel> = () => K;

/**
 * Reads the kernel's files once (kernelFiles) and prepares its params with the first kernel it makes; every
 * kernel made after is only instances, initialised with the same prepared params. What a parked function's
 * host keeps, so that its wake is an instance and a state import (docs/serverless.md); the kernels it makes
 * see the files as they were when it read them, as the state the wake restores was built against.
 */
async function maker<K extends KernelStateFace>(kernel: string, params: Record<string, unknown>, opts: MakeOptions, faceOf: () => Promise<Face<K>>): Promise<KernelMaker<K>> {
  const [{ setup, params: read }, face] = await Promise.all([kernelFiles(kernel, { ...params }, opts), faceOf()]);
  let prepared: PreparedKernel | undefined;
  return () => {
    const k = face(read, { ...setup, prepared }, opts);
    if (!prepared) for (const w of k.prepared.warnings) (opts.log ?? logger(k.prepared.schema.name)).warn(w);
    prepared = k.prepared;
    return k;
  };
}

const made = async <K extends KernelStateFace>(kernel: string, params: object, opts: MakeOptions, faceOf: () => Promise<Face<K>>): Promise<K> => (await maker(kernel, params as Record<string, unknown>, opts, faceOf))();

export const createGeofence = (params: GeofenceFileParams, opts: NodeKernelOptions & { contains?: boolean; outCap?: number } = {}): Promise<GeofenceKernel> => made('geofence', params, opts, geofence);

export const createHotspot = (params: HotspotParams = {}, opts: NodeKernelOptions & { outCap?: number } = {}): Promise<HotspotKernel> => made('hotspot', params, opts, hotspot);

export const createRoam = (params: RoamParams = {}, opts: NodeKernelOptions & { outCap?: number } = {}): Promise<RoamKernel> => made('roam', params, opts, roam);

export const createMapMatch = (params: MapMatchFileParams, opts: NodeKernelOptions & { outCap?: number } = {}): Promise<MapMatchKernel> => made('mapmatch', params, opts, mapmatch);

/** A kernel of your own, a .wasm file (docs/kernel-abi.md); also any built-in by name, its rows as JSON objects. */
export const loadKernel = (path: string, params: Record<string, unknown> = {}, opts: NodeKernelOptions & { outCap?: number } = {}): Promise<CustomKernel> => made(path, params, opts, custom);

/** `geofence`, `hotspot`, `mapmatch`, `roam` (their events), or a path to a .wasm kernel (its rows as JSON objects): a maker of them, in this thread. */
export function kernelMaker(kernel: string, params: Record<string, unknown> = {}, opts: NodeKernelOptions = {}): Promise<KernelMaker> {
  const builtins: Record<string, () => Promise<Face<KernelStateFace & BatchKernel>>> = { geofence, hotspot, mapmatch, roam };
  const faceOf: (() => Promise<Face<KernelStateFace & BatchKernel>>) | undefined = Object.hasOwn(builtins, kernel) ? builtins[kernel] : kernel.endsWith('.wasm') ? custom : undefined;
  if (!faceOf) return Promise.reject(new KernelError(unknownKernel(kernel)));
  return maker(kernel, params, opts, faceOf);
}

/** `geofence`, `hotspot`, `mapmatch`, `roam` (their events), or a path to a .wasm kernel (its rows as JSON objects), in this thread. */
export async function createKernel(kernel: string, params: Record<string, unknown> = {}, opts: NodeKernelOptions = {}): Promise<BatchKernel> {
  return (await kernelMaker(kernel, params, opts))();
}
