import type { GpsBatch } from '../codecs/gps-batch.ts';

/** What the kernel operator and a workflow need of any kernel, in this thread or its own: batches in, events out. */
export interface BatchKernel {
  process(b: GpsBatch): unknown[] | Promise<unknown[]>;
  /** events still held at the end of input (hotspot's window in progress, mapmatch's lag) */
  flush?(): unknown[] | Promise<unknown[]>;
  /** frees what outlives the stream (a kernel thread) */
  close?(): void | Promise<void>;
}
