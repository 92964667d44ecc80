import type { GpsBatch } from '../../codecs/gps-batch.ts';

/** Copies a batch's columns into kernel memory at `ptr`, in the ABI's order: one copy per column. */
export function batchInto(memory: WebAssembly.Memory, ptr: number, b: GpsBatch): void {
  const n = b.n;
  const cols: (Float64Array | Float32Array | Uint32Array)[] = [b.t, b.lon, b.lat, b.speed, b.heading, b.accuracy, b.device];
  let at = ptr;
  for (const c of cols) {
    const bytes = new Uint8Array(c.buffer, c.byteOffset, c.BYTES_PER_ELEMENT * n);
    new Uint8Array(memory.buffer, at, bytes.length).set(bytes);
    at += bytes.length;
  }
}

/** bytes a batch of n fixes takes in kernel memory */
export const batchBytes = (n: number): number => n * 40;
