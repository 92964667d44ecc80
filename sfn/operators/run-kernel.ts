import { concat, concatMap, defer, finalize, from, ignoreElements, merge, type OperatorFunction } from 'rxjs';
import type { GpsBatch } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import type { BatchKernel } from '../../kernels/batch-kernel.ts';
import { KernelBatches, type RunKernelOptions } from '../kernel-batches.ts';

/**
 * Runs batches of fixes (or arrays of records) through a kernel and emits its events, in order; at the end
 * of input, what the kernel still holds comes before completion. See KernelBatches for what a bad row costs.
 */
export function runKernel<E = unknown>(kernel: BatchKernel | Promise<BatchKernel>, o: RunKernelOptions = {}): OperatorFunction<GpsBatch | readonly GpsRecord[], E> {
  const k = new KernelBatches<E>(kernel, o);
  return (source) =>
    merge(
      from(k.loaded).pipe(ignoreElements()),
      concat(source.pipe(concatMap((x) => from(k.run(x)).pipe(concatMap((events) => events)))), defer(() => from(k.flush()).pipe(concatMap((events) => events)))),
    ).pipe(finalize(() => k.close()));
}
