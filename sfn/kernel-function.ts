import type { Observable } from 'rxjs';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { FunctionContext } from './function-module.ts';
import { batchBy } from './operators/batch-by.ts';
import { kernel } from './operators/kernel.ts';

export interface KernelFunctionSpec {
  kernel: string;
  params?: Record<string, unknown>;
  batch?: { max?: number; ms?: number };
  wasi?: 'node' | 'wasmer';
  /** ms a call may take before its thread is stopped (default 2000); 0: run in this thread */
  timeout?: number;
  /** the workflow's directory: kernel paths and files named in params resolve against it */
  baseDir: string;
}

/** A kernel in a workflow runs in its own thread by default, so a runaway call cannot stall the zipper. */
const DEFAULT_TIMEOUT = 2000;

/** A workflow function that is just a kernel (`kernel: geofence`, `params: ...`): batch, run, emit events. */
export const kernelFunction =
  (spec: KernelFunctionSpec) =>
  (in$: Observable<GpsRecord>, ctx: FunctionContext): Observable<unknown> =>
    in$.pipe(
      batchBy(spec.batch),
      kernel(spec.kernel, spec.params, {
        baseDir: spec.baseDir,
        wasi: spec.wasi,
        timeout: spec.timeout ?? DEFAULT_TIMEOUT,
        onError: (err, batch) => ctx.log.warn(`kernel ${spec.kernel}: ${err.message}; ${batch.n} fixes skipped`),
      }),
    );
