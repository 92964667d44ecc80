import { resolve } from 'node:path';
import { logger, type Logger } from '../log/logger.ts';
import { loadNetwork } from '../network/load-network.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import type { SegmentIndex } from '../network/segment-index.ts';
import { GeofenceKernel, type GeofenceParams } from './geofence.ts';
import { HotspotKernel, type HotspotParams } from './hotspot.ts';
import type { BatchKernel } from './batch-kernel.ts';
import { unknownKernel } from './host/builtin-wasm.ts';
import { KernelError, type KernelSetup } from './host/kernel-instance.ts';
import { loadKernelModule } from './host/load-module.ts';
import { wasiNamed, type WasiName } from './host/node-wasi.ts';
import { JsonLinesKernel } from './json-lines.ts';
import { loadFences } from './load-fences.ts';
import { MapMatchKernel, type MapMatchParams } from './mapmatch.ts';

/**
 * The kernels in Node: each factory reads what its params name from files (fences, road networks, a custom
 * .wasm) and sets up the kernel with Node's WASI. The calls behind `geoflux fence`, `hotspot` and `match`,
 * a workflow's `kernel:` functions and the `kernel()` operator.
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
}

async function setup(kernel: string, opts: NodeKernelOptions): Promise<KernelSetup> {
  const [{ module }, wasi] = await Promise.all([loadKernelModule(kernel, opts.baseDir), wasiNamed(opts.wasi)]);
  return { module, wasi, maxPages: opts.maxPages };
}

export interface GeofenceFileParams extends Omit<GeofenceParams, 'fences'> {
  /** a GeoJSON file or an OSM PBF (path, relative to `baseDir`), or the GeoJSON itself */
  fences: string | object;
  /** with an OSM PBF: the admin_level of the boundaries to use (default 10) */
  adminLevel?: number;
}

export async function createGeofence(params: GeofenceFileParams, opts: NodeKernelOptions & { contains?: boolean; outCap?: number } = {}): Promise<GeofenceKernel> {
  const { fences, adminLevel, ...rest } = params;
  const loaded = typeof fences === 'string' ? await loadFences(fences, opts.baseDir, adminLevel) : { geojson: fences, source: 'fences' };
  const k = GeofenceKernel.create({ ...rest, fences: loaded.geojson as object }, { ...(await setup('geofence', opts)), contains: opts.contains, outCap: opts.outCap, source: loaded.source });
  for (const w of k.warnings) (opts.log ?? logger('geofence')).warn(w);
  return k;
}

export async function createHotspot(params: HotspotParams = {}, opts: NodeKernelOptions & { outCap?: number } = {}): Promise<HotspotKernel> {
  return HotspotKernel.create(params, { ...(await setup('hotspot', opts)), outCap: opts.outCap });
}

export interface MapMatchFileParams extends Omit<MapMatchParams, 'network'> {
  /** an OSM PBF or a Kubička prefix/directory (path, relative to `baseDir`), or a graph already loaded */
  network: string | { graph: RoadGraph; index: SegmentIndex };
}

export async function createMapMatch(params: MapMatchFileParams, opts: NodeKernelOptions & { outCap?: number } = {}): Promise<MapMatchKernel> {
  if (!params.network) throw new KernelError('mapmatch needs params.network: an OSM PBF or a Kubička network');
  const network = typeof params.network === 'string' ? await loadNetwork(resolve(opts.baseDir ?? process.cwd(), params.network)) : params.network;
  return MapMatchKernel.create({ ...params, network }, { ...(await setup('mapmatch', opts)), outCap: opts.outCap });
}

/** A custom kernel (`kernel: ./my.wasm`): a .wasm file that writes JSON lines (docs/kernel-abi.md). */
export async function loadKernel(path: string, params: Record<string, unknown> = {}, opts: NodeKernelOptions = {}): Promise<JsonLinesKernel> {
  if (!path.endsWith('.wasm')) throw new KernelError(`a custom kernel is a .wasm file (got "${path}")`);
  return JsonLinesKernel.create(params, await setup(path, opts));
}

/** `geofence`, `hotspot`, `mapmatch`, or a path to a custom .wasm in the JSON-lines format, in this thread. */
export async function createKernel(kernel: string, params: Record<string, unknown> = {}, opts: NodeKernelOptions = {}): Promise<BatchKernel> {
  if (kernel === 'geofence') return createGeofence(params as unknown as GeofenceFileParams, opts);
  if (kernel === 'hotspot') return createHotspot(params as HotspotParams, opts);
  if (kernel === 'mapmatch') return createMapMatch(params as unknown as MapMatchFileParams, opts);
  if (!kernel.endsWith('.wasm')) throw new KernelError(unknownKernel(kernel));
  return loadKernel(kernel, params, opts);
}
