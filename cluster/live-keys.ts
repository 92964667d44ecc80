import type { Bucket } from '@nats-io/kv';
import { systemClock, type Clock } from '../transport/liveness.ts';

/**
 * The live keys under `prefix` of a bucket whose keys have a TTL. The client's `keys()` makes a push
 * consumer per listing and leaves it behind when nothing is pending (a worker listing twice a round piled up
 * ~175 consumers a minute), so the listing asks the stream which subjects hold messages and reads each
 * key's last entry, dropping the delete markers a release leaves. Bounded by `ms`: one slow listing costs
 * its caller a round, never what comes after it.
 */
export async function liveKeys(kv: Bucket, prefix: string, ms: number, clock: Clock = systemClock): Promise<string[]> {
  let timer: unknown;
  const late = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`listing ${prefix}> took over ${ms} ms`)), ms);
  });
  const read = async () => {
    const info = await kv.jsm.streams.info(kv.stream, { subjects_filter: kv.fullKeyName(`${prefix}>`) });
    const keys = Object.keys(info.state.subjects ?? {}).map((s) => kv.decodeKey(s.substring(kv.prefixLen)));
    const entries = await Promise.all(keys.map((k) => kv.get(k)));
    return keys.filter((_, i) => entries[i]?.operation === 'PUT');
  };
  try {
    return await Promise.race([read(), late]);
  } finally {
    clock.clearTimeout(timer);
  }
}
