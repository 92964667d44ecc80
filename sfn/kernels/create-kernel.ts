import { batchFromRecords, type GpsBatch } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import { kernelPath, loadKernelModule, loadWasmer, type InstanceOptions } from '../kernel-host.ts';
import { GeofenceKernel, type GeofenceParams } from './geofence.ts';
import { HotspotKernel, type HotspotParams } from './hotspot.ts';
import { JsonLinesKernel } from './json-lines.ts';
import { MapMatchKernel, type MapMatchParams } from './mapmatch.ts';

/** What the kernel operator and the workflow need of any kernel: batches in, events out. */
export interface BatchKernel {
  process(b: GpsBatch): unknown[] | Promise<unknown[]>;
  /** events still held at the end of input (hotspot's window in progress) */
  flush?(): unknown[] | Promise<unknown[]>;
  /** frees what outlives the stream (a kernel thread) */
  close?(): void | Promise<void>;
}

export interface KernelOptions extends InstanceOptions {
  /** where a relative kernel path or fence file is resolved (the workflow's directory) */
  baseDir?: string;
  /** ms a call may take; when set, the kernel runs in its own thread so an overrun can be stopped */
  timeout?: number;
}

export const BUILTIN_KERNELS = ['geofence', 'hotspot', 'mapmatch'];

/** `geofence`, `hotspot`, or a path to a custom .wasm in the JSON-lines format. */
export async function createKernel(kernel: string, params: Record<string, unknown> = {}, opts: KernelOptions = {}): Promise<BatchKernel> {
  if (opts.timeout) {
    const { IsolatedKernel } = await import('./isolated-kernel.ts');
    return IsolatedKernel.create(kernel, params, { ...opts, timeout: opts.timeout });
  }
  if (opts.wasi === 'wasmer') await loadWasmer();
  if (kernel === 'geofence') return GeofenceKernel.create(params as unknown as GeofenceParams, opts);
  if (kernel === 'hotspot') {
    const k = await HotspotKernel.create(params as HotspotParams, opts);
    return { process: (b) => k.process(b), flush: () => k.flush() };
  }
  if (kernel === 'mapmatch') {
    const k = await MapMatchKernel.create(params as unknown as MapMatchParams, opts);
    return { process: (b) => k.process(b), flush: () => k.flush() };
  }
  if (!kernel.endsWith('.wasm')) throw new Error(`unknown kernel "${kernel}" (built-in: ${BUILTIN_KERNELS.join(', ')}; or a path to a .wasm file)`);
  const { module } = await loadKernelModule(kernelPath(kernel, opts.baseDir));
  return JsonLinesKernel.create(module, params, opts);
}

export const toBatch = (x: GpsBatch | readonly GpsRecord[]): GpsBatch => (Array.isArray(x) ? batchFromRecords(x as GpsRecord[]) : (x as GpsBatch));
