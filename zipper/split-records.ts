import type { DataFrame } from '../codecs/frame-types.ts';
import { decodeGpsBatch, encodeGpsBatch, sliceRows } from '../codecs/gps-batch.ts';
import { unpackMeta } from '../codecs/metadata.ts';
import { pack, unpack } from '../codecs/msgpack.ts';

/**
 * A frame in up to `parts` frames of consecutive records, for finding which of its records kills the
 * function it goes to: a part that kills it again is split again, down to single records (a few deaths,
 * where one frame per record could flood the room a waiting function has). Each part names itself as from
 * a writer of its own (`<writer>~<n>`): a function skips a frame it has seen from a writer by its sequence
 * number, and the parts share their frame's. Undefined for a frame of one record, or one whose records
 * cannot be read (it is then judged whole).
 */
export function splitRecords(f: DataFrame, parts = 16): DataFrame[] | undefined {
  let payloads: Uint8Array[];
  try {
    if (unpackMeta(f.meta).ct === 'gps') {
      const b = decodeGpsBatch(f.payload);
      payloads = chunks(b.n, parts).map(([from, to]) => encodeGpsBatch(sliceRows(b, from, to)));
    } else {
      const v = unpack(f.payload);
      if (!Array.isArray(v)) return undefined;
      payloads = chunks(v.length, parts).map(([from, to]) => pack(v.slice(from, to)));
    }
  } catch {
    return undefined;
  }
  if (payloads.length <= 1) return undefined;
  return payloads.map((payload, i) => ({ ...f, from: `${f.from}~${i}`, payload }));
}

/** [from, to) ranges cutting n items into at most `parts` runs of near-equal length */
function chunks(n: number, parts: number): [number, number][] {
  const k = Math.min(n, parts);
  return Array.from({ length: k }, (_, i) => [Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)]);
}
