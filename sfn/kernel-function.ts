import type { WasiName } from '../kernels/host/node-wasi.ts';
import type { FunctionContext, FunctionModule } from './function-module.ts';
import { openKernel } from './operators/kernel.ts';
import { KernelBatches, KernelRunStats } from './operators/run-kernel.ts';

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
 * A workflow function that is just a kernel (`kernel: geofence`, `params: ...`): each frame's fixes go from
 * its columns into the kernel, by the batch (those that came while the kernel was busy go together), and
 * the events come out. One module per instance, since each instance has a kernel (and its per-device
 * state) of its own; the kernel is made before the function joins the zipper, so one that cannot start
 * fails start-up.
 */
export function kernelFunction(spec: KernelFunctionSpec): FunctionModule & { stats: KernelRunStats } {
  const stats = new KernelRunStats();
  return {
    stats,
    batch: spec.batch,
    async batches(ctx: FunctionContext) {
      const kernel = await openKernel(spec.kernel, spec.params ?? {}, { baseDir: spec.baseDir, wasi: spec.wasi, timeout: spec.timeout, log: ctx.log });
      const runner = new KernelBatches(kernel, { stats, log: ctx.log.child(`kernel ${spec.kernel}`) });
      return { process: (b) => runner.run(b), flush: () => runner.flush() };
    },
  };
}
