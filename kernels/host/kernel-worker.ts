import '../../runtime/quiet-wasi-warning.ts';
import { parentPort } from 'node:worker_threads';
import type { GpsBatch } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import type { BatchKernel } from '../batch-kernel.ts';
import { checkConformance, syntheticFixesFor } from '../conformance.ts';
import { createKernel, kernelFiles, loadKernel, type NodeKernelOptions } from '../create-kernel.ts';
import type { CustomKernel } from '../custom-kernel.ts';

/**
 * A kernel in its own thread (see isolated-kernel.ts): the main thread can stop it when a call runs too
 * long, which a call on the main thread could never be.
 */
export type WorkerRequest =
  /** make: the kernel's events (a workflow), its rows as objects (`geoflux kernel`), or nothing yet (`--check`) */
  | { type: 'create'; kernel: string; params: Record<string, unknown>; opts: NodeKernelOptions; make: 'events' | 'rows' | 'none' }
  | { type: 'process'; id: number; batch: GpsBatch }
  | { type: 'flush'; id: number }
  | { type: 'exportDevices' | 'dropDevices'; id: number; devices: readonly string[] }
  | { type: 'importDevices'; id: number; bytes: Uint8Array }
  /** the rows kernel's counters, in the order its schema declares them, then what traps cost */
  | { type: 'stats'; id: number }
  /** the conformance suite, over `fixes` or synthetic ones */
  | { type: 'check'; id: number; fixes?: GpsRecord[] };

/** a call's answer: its events (process, flush), or what a device call returns */
export type WorkerReply = { id: number; events: unknown } | { id: number; error: string; name: string };

let kernel: BatchKernel | undefined;
let created: Extract<WorkerRequest, { type: 'create' }> | undefined;
const port = parentPort!;

/** a call on the kernel in this thread */
async function answer(m: Exclude<WorkerRequest, { type: 'create' }>): Promise<unknown> {
  switch (m.type) {
    case 'process':
      return kernel!.process(m.batch);
    case 'flush':
      return (await kernel!.flush?.()) ?? [];
    case 'exportDevices':
      return kernel!.exportDevices!(m.devices);
    case 'importDevices':
      return kernel!.importDevices!(m.bytes);
    case 'dropDevices':
      return kernel!.dropDevices!(m.devices);
    case 'stats': {
      const k = kernel as CustomKernel;
      return [{ name: k.schema.name, counters: k.schema.counters, stats: k.stats() }];
    }
    case 'check': {
      const files = await kernelFiles(created!.kernel, created!.params, created!.opts);
      return checkConformance({ ...files, fixes: m.fixes ?? syntheticFixesFor(files.params) });
    }
  }
}

port.on('message', async (m: WorkerRequest) => {
  if (m.type === 'create') {
    created = m;
    try {
      if (m.make === 'events') kernel = await createKernel(m.kernel, m.params, m.opts);
      else if (m.make === 'rows') kernel = await loadKernel(m.kernel, m.params, m.opts);
      port.postMessage({ id: 0, events: [] } satisfies WorkerReply);
    } catch (e) {
      port.postMessage({ id: 0, error: (e as Error).message, name: (e as Error).name } satisfies WorkerReply);
    }
    return;
  }
  try {
    port.postMessage({ id: m.id, events: await answer(m) } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).message, name: (e as Error).name } satisfies WorkerReply);
  }
});
