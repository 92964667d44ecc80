import { concat, concatMap, defer, finalize, from, ignoreElements, merge, type OperatorFunction } from 'rxjs';
import { toBatch, type GpsBatch } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import type { BatchKernel } from '../../kernels/batch-kernel.ts';
import { createKernel, type NodeKernelOptions } from '../../kernels/create-kernel.ts';
import { IsolatedKernel } from '../../kernels/host/isolated-kernel.ts';
import { logger } from '../../log/logger.ts';

export interface KernelOperatorOptions extends NodeKernelOptions {
  /** ms a call may take; when set, the kernel runs in its own thread so an overrun can be stopped */
  timeout?: number;
  /** a batch the kernel failed on (a trap, a bad batch); default: logged. The stream goes on. */
  onError?: (err: Error, batch: GpsBatch) => void;
}

/**
 * Runs batches of fixes through a WASI kernel and emits its events:
 * `in$.pipe(batchBy({ max: 4096, ms: 50 }), kernel('geofence', { fences: 'fences.geojson' }))`.
 * Batches that arrive while the kernel loads wait for it, in order; when the input completes, the kernel's
 * held events (e.g. hotspot's window in progress) are emitted before completion.
 */
export function kernel<E = unknown>(name: string, params: Record<string, unknown> = {}, opts: KernelOperatorOptions = {}): OperatorFunction<GpsBatch | readonly GpsRecord[], E> {
  const log = logger(`kernel ${name}`);
  return (source) =>
    defer(() => {
      // loading starts at subscription; a kernel that cannot load (bad params, missing file) errors the stream now
      const ready: Promise<BatchKernel> = opts.timeout ? IsolatedKernel.create(name, params, { ...opts, timeout: opts.timeout }) : createKernel(name, params, opts);
      const run = (f: (k: BatchKernel) => unknown[] | Promise<unknown[]>, batch?: GpsBatch) =>
        from(
          ready.then(async (k) => {
            try {
              return (await f(k)) as E[];
            } catch (e) {
              if (opts.onError && batch) opts.onError(e as Error, batch);
              else log.warn(`${(e as Error).message}${batch ? `: a batch of ${batch.n} fixes skipped` : ''}`);
              return [] as E[];
            }
          }),
        ).pipe(concatMap((events) => events));
      return merge(
        from(ready).pipe(ignoreElements()),
        concat(
          source.pipe(
            concatMap((x) => {
              const b = toBatch(x);
              return run((k) => k.process(b), b);
            }),
          ),
          defer(() => run((k) => k.flush?.() ?? [])),
        ),
      ).pipe(finalize(() => void ready.then((k) => k.close?.(), () => undefined)));
    });
}
