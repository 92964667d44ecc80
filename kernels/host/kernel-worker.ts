import '../../runtime/quiet-wasi-warning.ts';
import { parentPort } from 'node:worker_threads';
import type { GpsBatch } from '../../codecs/gps-batch.ts';
import type { BatchKernel } from '../batch-kernel.ts';
import { createKernel, type NodeKernelOptions } from '../create-kernel.ts';

/**
 * A kernel in its own thread (see isolated-kernel.ts): the main thread can stop it when a call runs too
 * long, which a call on the main thread could never be.
 */
export type WorkerRequest =
  | { type: 'create'; kernel: string; params: Record<string, unknown>; opts: NodeKernelOptions }
  | { type: 'process'; id: number; batch: GpsBatch }
  | { type: 'flush'; id: number }
  | { type: 'exportDevices' | 'dropDevices'; id: number; devices: readonly string[] }
  | { type: 'importDevices'; id: number; bytes: Uint8Array };

/** a call's answer: its events (process, flush), or what a device call returns */
export type WorkerReply = { id: number; events: unknown } | { id: number; error: string; name: string };

/** a call on the kernel in this thread */
function answer(k: BatchKernel, m: Exclude<WorkerRequest, { type: 'create' }>): unknown {
  switch (m.type) {
    case 'process':
      return k.process(m.batch);
    case 'flush':
      return k.flush?.() ?? [];
    case 'exportDevices':
      return k.exportDevices!(m.devices);
    case 'importDevices':
      return k.importDevices!(m.bytes);
    case 'dropDevices':
      return k.dropDevices!(m.devices);
  }
}

let kernel: BatchKernel | undefined;
const port = parentPort!;

port.on('message', async (m: WorkerRequest) => {
  if (m.type === 'create') {
    try {
      kernel = await createKernel(m.kernel, m.params, m.opts);
      port.postMessage({ id: 0, events: [] } satisfies WorkerReply);
    } catch (e) {
      port.postMessage({ id: 0, error: (e as Error).message, name: (e as Error).name } satisfies WorkerReply);
    }
    return;
  }
  try {
    port.postMessage({ id: m.id, events: await answer(kernel!, m) } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).message, name: (e as Error).name } satisfies WorkerReply);
  }
});
