import { defer, type OperatorFunction } from 'rxjs';
import type { GpsBatch } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import { logger } from '../../log/logger.ts';
import type { RunKernelOptions } from '../kernel-batches.ts';
import { openKernel, type OpenKernelOptions } from '../open-kernel.ts';
import { insideRecordPipeline } from '../record-pipeline.ts';
import { runKernel } from './run-kernel.ts';

export type KernelOperatorOptions = OpenKernelOptions & RunKernelOptions;

const IN_RECORD_MODE =
  'kernel() keeps per-device state across records, and a stream function runs its RxJS handler once per record: give the function a batch handler instead (handleBatches, or export `batches` from a function module), e.g. handleBatches(await createGeofence(params))';

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
