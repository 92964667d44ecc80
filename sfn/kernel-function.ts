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
  /** the workflow's directory: kernel paths and files named in params resolve against it */
  baseDir: string;
}

/** A workflow function that is just a kernel (`kernel: geofence`, `params: ...`): batch, run, emit events. */
export const kernelFunction =
  (spec: KernelFunctionSpec) =>
  (in$: Observable<GpsRecord>, ctx: FunctionContext): Observable<unknown> =>
    in$.pipe(
      batchBy(spec.batch),
      kernel(spec.kernel, spec.params, {
        baseDir: spec.baseDir,
        wasi: spec.wasi,
        onError: (err, batch) => ctx.log.warn(`kernel ${spec.kernel}: ${err.message}; ${batch.n} fixes skipped`),
      }),
    );
