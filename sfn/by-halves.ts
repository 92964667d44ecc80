import { sliceRows, type GpsBatch } from '../codecs/gps-batch.ts';

/**
 * Calls `call` on a batch; where it fails in a way `split` accepts, calls it again on each half, and so on,
 * down to the rows that fail alone, which `alone` answers for: a bad row costs itself and a few calls
 * (log₂ of the batch), not its neighbours. A failure `split` refuses is thrown.
 */
export async function byHalves<R>(
  b: GpsBatch,
  call: (b: GpsBatch) => readonly R[] | Promise<readonly R[]>,
  alone: (e: unknown, row: GpsBatch) => readonly R[],
  split: (e: unknown) => boolean = () => true,
): Promise<readonly R[]> {
  try {
    return await call(b);
  } catch (e) {
    if (!split(e)) throw e;
    if (b.n <= 1) return alone(e, b);
    const mid = b.n >> 1;
    return [...(await byHalves(sliceRows(b, 0, mid), call, alone, split)), ...(await byHalves(sliceRows(b, mid, b.n), call, alone, split))];
  }
}
