import { GeofenceKernel, type GeofenceParams } from './geofence.ts';
import { HotspotKernel, type HotspotParams } from './hotspot.ts';
import { BUILTIN_WASM, type BuiltinKernel } from './host/builtin-wasm.ts';
import { browserWasi } from './host/browser-wasi.ts';
import type { KernelSetup } from './host/kernel-instance.ts';
import { JsonLinesKernel } from './json-lines.ts';
import { MapMatchKernel, type MapMatchParams } from './mapmatch.ts';

/**
 * The kernels in a browser page: the very .wasm files the edge runs, fetched and run with the page's own
 * WASI shim. Fences and road graphs arrive as objects (there are no files to read); a bundled page passes
 * `wasm:` the URL it serves the kernel at (the package has them in dist/kernels/build/).
 */

/** a kernel's bytes: a URL to fetch, the bytes themselves, or a module already compiled */
export type WasmSource = URL | string | BufferSource | WebAssembly.Module;

export interface BrowserKernelOptions {
  /** where the .wasm is (default: beside this module, as the package lays it out) */
  wasm?: WasmSource;
  /** memory cap in 64 KiB pages (default 1024: 64 MiB) */
  maxPages?: number;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source !== 'string' && !(source instanceof URL)) return WebAssembly.compile(source);
  const href = String(source);
  let m = compiled.get(href);
  if (!m) {
    m = fetch(href).then(async (r) => {
      if (!r.ok) throw new Error(`kernel ${href}: HTTP ${r.status}`);
      return WebAssembly.compile(await r.arrayBuffer());
    });
    compiled.set(href, m);
    m.catch(() => compiled.delete(href));
  }
  return m;
}

const setup = async (builtin: BuiltinKernel, o: BrowserKernelOptions): Promise<KernelSetup> => ({
  module: await compile(o.wasm ?? BUILTIN_WASM[builtin]()),
  wasi: browserWasi,
  maxPages: o.maxPages,
});

export async function createGeofence(params: GeofenceParams, opts: BrowserKernelOptions & { contains?: boolean; outCap?: number } = {}): Promise<GeofenceKernel> {
  return GeofenceKernel.create(params, { ...(await setup('geofence', opts)), contains: opts.contains, outCap: opts.outCap });
}

export async function createHotspot(params: HotspotParams = {}, opts: BrowserKernelOptions & { outCap?: number } = {}): Promise<HotspotKernel> {
  return HotspotKernel.create(params, { ...(await setup('hotspot', opts)), outCap: opts.outCap });
}

export async function createMapMatch(params: MapMatchParams, opts: BrowserKernelOptions & { outCap?: number } = {}): Promise<MapMatchKernel> {
  return MapMatchKernel.create(params, { ...(await setup('mapmatch', opts)), outCap: opts.outCap });
}

/** A custom JSON-lines kernel (docs/kernel-abi.md) from its URL or bytes. */
export async function loadKernel(wasm: WasmSource, params: Record<string, unknown> = {}, opts: Omit<BrowserKernelOptions, 'wasm'> = {}): Promise<JsonLinesKernel> {
  return JsonLinesKernel.create(params, { module: await compile(wasm), wasi: browserWasi, maxPages: opts.maxPages });
}
