import { CustomKernel } from './custom-kernel.ts';
import { GeofenceKernel, type GeofenceParams } from './geofence.ts';
import { HotspotKernel, type HotspotParams } from './hotspot.ts';
import { BUILTIN_WASM, type BuiltinKernel } from './host/builtin-wasm.ts';
import { browserWasi } from './host/browser-wasi.ts';
import { compileKernel } from './host/compile.ts';
import type { SnapshotPolicy } from './host/kernel-runner.ts';
import type { KernelOptions } from './kernel.ts';
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
  /** when a kernel with state is snapshot, so a trap costs no state (default: every 50,000 fixes or second) */
  snapshot?: SnapshotPolicy | false;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (typeof source !== 'string' && !(source instanceof URL)) return compileKernel(ArrayBuffer.isView(source) ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength) : new Uint8Array(source));
  const href = String(source);
  let m = compiled.get(href);
  if (!m) {
    m = fetch(href).then(async (r) => {
      if (!r.ok) throw new Error(`kernel ${href}: HTTP ${r.status}`);
      return compileKernel(new Uint8Array(await r.arrayBuffer()));
    });
    compiled.set(href, m);
    m.catch(() => compiled.delete(href));
  }
  return m;
}

const setup = async (wasm: WasmSource, o: Omit<BrowserKernelOptions, 'wasm'> & { outCap?: number }): Promise<KernelOptions> => ({
  module: await compile(wasm),
  wasi: browserWasi,
  maxPages: o.maxPages,
  snapshot: o.snapshot,
  outCap: o.outCap,
});
const builtin = (name: BuiltinKernel, o: BrowserKernelOptions & { outCap?: number }) => setup(o.wasm ?? BUILTIN_WASM[name](), o);

export async function createGeofence(params: GeofenceParams, opts: BrowserKernelOptions & { contains?: boolean; outCap?: number } = {}): Promise<GeofenceKernel> {
  return GeofenceKernel.create(params, { ...(await builtin('geofence', opts)), contains: opts.contains });
}

export async function createHotspot(params: HotspotParams = {}, opts: BrowserKernelOptions & { outCap?: number } = {}): Promise<HotspotKernel> {
  return HotspotKernel.create(params, await builtin('hotspot', opts));
}

export async function createMapMatch(params: MapMatchParams, opts: BrowserKernelOptions & { outCap?: number } = {}): Promise<MapMatchKernel> {
  return MapMatchKernel.create(params, await builtin('mapmatch', opts));
}

/** A kernel of your own (docs/kernel-abi.md) from its URL or bytes: its rows as JSON objects. */
export async function loadKernel(wasm: WasmSource, params: Record<string, unknown> = {}, opts: Omit<BrowserKernelOptions, 'wasm'> & { outCap?: number } = {}): Promise<CustomKernel> {
  return CustomKernel.create(params, await setup(wasm, opts));
}
