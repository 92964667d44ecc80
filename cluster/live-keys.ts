import type { KV } from '@nats-io/kv';
import { systemClock, type Clock } from '../transport/liveness.ts';

/**
 * The live keys under `prefix` of a bucket whose keys have a TTL. The client's listing can wait for a
 * message that the TTL removed between its count and its read, until a heartbeat ends it: bounded here by
 * `ms`, so one slow listing costs its caller a round, never what comes after it.
 */
export async function liveKeys(kv: KV, prefix: string, ms: number, clock: Clock = systemClock): Promise<string[]> {
  const listing = await kv.keys(`${prefix}>`);
  let timer: unknown;
  const late = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      listing.stop();
      reject(new Error(`listing ${prefix}> took over ${ms} ms`));
    }, ms);
  });
  const out: string[] = [];
  const read = (async () => {
    for await (const k of listing) out.push(k);
    return out;
  })();
  try {
    return await Promise.race([read, late]);
  } finally {
    clock.clearTimeout(timer);
  }
}
