import { expect } from 'vitest';
import type { ByteDuplex } from '../transport/types.ts';

/**
 * For the byte transports' tests: writes `bytes` in `chunk`-sized writes to a peer that echoes, while reading
 * the echo back, and checks every byte. `seed` varies the pattern so two streams cannot pass for each other.
 */
export async function roundTrip(d: ByteDuplex, bytes: number, chunk = 16 * 1024, seed = 31): Promise<void> {
  const sent = new Uint8Array(bytes).map((_, i) => (i * seed + (i >> 12)) & 0xff);
  const w = d.writable.getWriter();
  const r = d.readable.getReader();
  const got = new Uint8Array(bytes);
  let n = 0;
  const reading = (async () => {
    while (n < bytes) {
      const { value, done } = await r.read();
      if (done) break;
      got.set(value, n);
      n += value.length;
    }
  })();
  for (let i = 0; i < bytes; i += chunk) await w.write(sent.slice(i, i + chunk));
  await reading;
  r.releaseLock();
  w.releaseLock();
  expect(n).toBe(bytes);
  expect(Buffer.compare(got, sent)).toBe(0);
}
