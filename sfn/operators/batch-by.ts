import { bufferTime, filter, type OperatorFunction } from 'rxjs';

/**
 * Collects records into arrays of at most `max`, emitted when full or every `ms` milliseconds, whichever
 * comes first; empty intervals emit nothing. Kernels want batches: a call into wasm pays off from ~64 fixes.
 */
export const batchBy =
  <T>({ max = 4096, ms = 50 }: { max?: number; ms?: number } = {}): OperatorFunction<T, T[]> =>
  (source) =>
    source.pipe(
      bufferTime(ms, null, max),
      filter((b) => b.length > 0),
    );
