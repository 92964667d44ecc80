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
  | { type: 'flush'; id: number };

export type WorkerReply = { id: number; events: unknown[] } | { id: number; error: string; name: string };

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
    const events = m.type === 'process' ? await kernel!.process(m.batch) : ((await kernel!.flush?.()) ?? []);
    port.postMessage({ id: m.id, events } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).message, name: (e as Error).name } satisfies WorkerReply);
  }
});
