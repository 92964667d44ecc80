import type { Observable } from 'rxjs';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { BatchKernel } from '../kernels/batch-kernel.ts';
import type { WasiName } from '../kernels/host/node-wasi.ts';
import type { FunctionContext, FunctionModule } from './function-module.ts';
import { batchBy } from './operators/batch-by.ts';
import { openKernel } from './operators/kernel.ts';
import { KernelRunStats, runKernel } from './operators/run-kernel.ts';

export interface KernelFunctionSpec {
  kernel: string;
  params?: Record<string, unknown>;
  batch?: { max?: number; ms?: number };
  wasi?: WasiName;
  /** ms a call may take before the kernel's thread is stopped; 0: the kernel runs in the calling thread */
  timeout: number;
  /** the workflow's directory: kernel paths and files named in params resolve against it */
  baseDir: string;
}

/**
 * A workflow function that is just a kernel (`kernel: geofence`, `params: ...`): batch, run, emit events.
 * One module per instance, since each instance has a kernel (and its per-device state) of its own; the
 * kernel is made in `init`, so a function whose kernel cannot start fails before it joins the zipper.
 */
export function kernelFunction(spec: KernelFunctionSpec): FunctionModule & { stats: KernelRunStats } {
  const stats = new KernelRunStats();
  let kernel: BatchKernel | undefined;
  return {
    stats,
    async init(ctx) {
      kernel = await openKernel(spec.kernel, spec.params ?? {}, { baseDir: spec.baseDir, wasi: spec.wasi, timeout: spec.timeout, log: ctx.log });
    },
    default: (in$: Observable<GpsRecord>, ctx: FunctionContext): Observable<unknown> =>
      in$.pipe(
        batchBy(spec.batch),
        runKernel(kernel!, {
          stats,
          log: ctx.log,
          onError: (err, batch) => ctx.log.warn(`kernel ${spec.kernel}: ${err.message}; ${batch.n} fixes skipped`),
        }),
      ),
  };
}
