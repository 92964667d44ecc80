import type { BatchKernel } from '../kernels/batch-kernel.ts';
import { createKernel, type NodeKernelOptions } from '../kernels/create-kernel.ts';
import { IsolatedKernel } from '../kernels/host/isolated-kernel.ts';

export interface OpenKernelOptions extends NodeKernelOptions {
  /** ms a call may take; when set, the kernel runs in its own thread so an overrun can be stopped */
  timeout?: number;
}

/**
 * A kernel by name (or .wasm path), in this thread, or in a thread of its own when a call has a time limit.
 * Apart from the `kernel()` operator so that a kernel function's thread does not load RxJS for it.
 */
export const openKernel = (name: string, params: Record<string, unknown>, opts: OpenKernelOptions): Promise<BatchKernel> =>
  opts.timeout ? IsolatedKernel.create(name, params, { ...opts, timeout: opts.timeout }) : createKernel(name, params, opts);
