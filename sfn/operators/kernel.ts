import { defer, type OperatorFunction } from 'rxjs';
import type { GpsBatch } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import type { BatchKernel } from '../../kernels/batch-kernel.ts';
import { createKernel, type NodeKernelOptions } from '../../kernels/create-kernel.ts';
import { IsolatedKernel } from '../../kernels/host/isolated-kernel.ts';
import { logger } from '../../log/logger.ts';
import { insideRecordPipeline } from '../record-pipeline.ts';
import { runKernel, type RunKernelOptions } from './run-kernel.ts';

export interface KernelOperatorOptions extends NodeKernelOptions, RunKernelOptions {
  /** ms a call may take; when set, the kernel runs in its own thread so an overrun can be stopped */
  timeout?: number;
}

const IN_RECORD_MODE =
  'kernel() keeps per-device state across records, and a stream function runs its RxJS handler once per record: give the function a batch handler instead (handleBatches, or export `batches` from a function module), e.g. handleBatches(await createGeofence(params))';

/** A kernel by name (or .wasm path), in this thread, or in a thread of its own when a call has a time limit. */
export const openKernel = (name: string, params: Record<string, unknown>, opts: KernelOperatorOptions): Promise<BatchKernel> =>
  opts.timeout ? IsolatedKernel.create(name, params, { ...opts, timeout: opts.timeout }) : createKernel(name, params, opts);

/**
 * Runs batches of fixes through a WASI kernel and emits its events:
 * `in$.pipe(batchBy({ max: 4096, ms: 50 }), kernel('geofence', { fences: 'fences.geojson' }))`.
 * The kernel loads at subscription (batches that arrive meanwhile wait, in order); see runKernel for how
 * bad rows and traps cost only themselves.
 */
export function kernel<E = unknown>(name: string, params: Record<string, unknown> = {}, opts: KernelOperatorOptions = {}): OperatorFunction<GpsBatch | readonly GpsRecord[], E> {
  return (source) =>
    defer(() => {
      if (insideRecordPipeline()) throw new Error(IN_RECORD_MODE);
      return source.pipe(runKernel<E>(openKernel(name, params, opts), { log: logger(`kernel ${name}`), ...opts }));
    });
}
