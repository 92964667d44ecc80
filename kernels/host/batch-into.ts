import type { GpsBatch } from '../../codecs/gps-batch.ts';
import type { StableIds } from './stable-ids.ts';

/**
 * Copies a batch's columns into kernel memory at `ptr`, in the ABI's order: one copy per column, the device
 * column written straight through `ids` (the batch numbers its devices from 0; the kernel gets ids that are
 * the same for a device in every batch).
 */
export function batchInto(memory: WebAssembly.Memory, ptr: number, b: GpsBatch, ids: StableIds): void {
  const n = b.n;
  const cols: (Float64Array | Float32Array)[] = [b.t, b.lon, b.lat, b.speed, b.heading, b.accuracy];
  let at = ptr;
  for (const c of cols) {
    const bytes = new Uint8Array(c.buffer, c.byteOffset, c.BYTES_PER_ELEMENT * n);
    new Uint8Array(memory.buffer, at, bytes.length).set(bytes);
    at += bytes.length;
  }
  ids.into(b, new Uint32Array(memory.buffer, at, n));
}

/** bytes a batch of n fixes takes in kernel memory */
export const batchBytes = (n: number): number => n * 40;
