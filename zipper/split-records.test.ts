import { describe, expect, it } from 'vitest';
import type { DataFrame } from '../codecs/frame-types.ts';
import { batchFromRecords, decodeGpsBatch, encodeGpsBatch, recordsOf } from '../codecs/gps-batch.ts';
import { packMeta } from '../codecs/metadata.ts';
import { pack, unpack } from '../codecs/msgpack.ts';
import { SeenFrames } from '../sfn/seen-frames.ts';
import { splitRecords } from './split-records.ts';

const frame = (ct: 'gps' | 'msgpack', payload: Uint8Array): DataFrame => ({ type: 'data', tag: 16, seq: 7, from: 'w', meta: packMeta({ sid: 's', seq: 7, tid: 't', ct }), payload });
const fixes = Array.from({ length: 50 }, (_, i) => ({ deviceId: `veh-${i}`, t: 1000 + i, lon: 7.4, lat: 43.7 }));

describe('splitting a frame that killed its function', () => {
  it('cuts a GPS batch into at most 16 runs of its rows, in order, each from a writer of its own', () => {
    const parts = splitRecords(frame('gps', encodeGpsBatch(batchFromRecords(fixes))))!;
    expect(parts).toHaveLength(16);
    expect(parts.flatMap((p) => recordsOf(decodeGpsBatch(p.payload)).map((r) => r.deviceId))).toEqual(fixes.map((f) => f.deviceId));
    expect(new Set(parts.map((p) => p.from)).size).toBe(16);
    expect(parts.every((p) => p.seq === 7 && p.from.startsWith('w~'))).toBe(true);
  });

  it('cuts msgpack records down to one a frame when there are few; leaves one record, or unreadable bytes, whole', () => {
    const parts = splitRecords(frame('msgpack', pack([{ a: 1 }, { a: 2 }, { a: 3 }])))!;
    expect(parts.map((p) => unpack(p.payload))).toEqual([[{ a: 1 }], [{ a: 2 }], [{ a: 3 }]]);
    expect(splitRecords(frame('msgpack', pack([{ a: 1 }])))).toBeUndefined();
    expect(splitRecords(frame('gps', new Uint8Array([1, 2, 3])))).toBeUndefined();
  });

  it('parts are frames a function has not seen, though they share their frame\'s sequence number', () => {
    const seen = new SeenFrames();
    expect(seen.check('w', 7)).toBe(false);
    expect(seen.check('w', 7)).toBe(true);
    // an older frame another instance died holding is not a duplicate
    expect(seen.check('w', 3)).toBe(false);
    expect(splitRecords(frame('msgpack', pack([1, 2])))!.map((p) => seen.check(p.from, p.seq))).toEqual([false, false]);
  });
});
