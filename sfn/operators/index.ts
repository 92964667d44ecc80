/**
 * geoflux/operators: the RxJS operators of the stream-function SDK.
 *
 *   in$.pipe(batchBy({ max: 4096, ms: 50 }), kernel('hotspot', { cellSize: 200 }))
 */
export { batchBy } from './batch-by.ts';
export { kernel, type KernelOperatorOptions } from './kernel.ts';
export { KernelTimeout } from '../../kernels/host/isolated-kernel.ts';
