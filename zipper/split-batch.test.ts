import { describe, expect, it } from 'vitest';
import { batchFromRecords, decodeGpsBatch, encodeGpsBatch, recordsOf } from '../codecs/gps-batch.ts';
import { splitBatchByDevice } from './split-batch.ts';

const fixes = ['a', 'b', 'a', 'c', 'b', 'a'].map((deviceId, i) => ({ deviceId, t: i * 1000, lon: i, lat: -i, speed: i / 2 }));

describe('splitting a GPS batch by the owner of each device', () => {
  it('gives each owner exactly its devices’ rows, in order, with their values', () => {
    const owner = (d: string) => (d === 'b' ? 'B' : 'AC');
    const parts = splitBatchByDevice(encodeGpsBatch(batchFromRecords(fixes)), owner);
    expect([...parts.keys()].sort()).toEqual(['AC', 'B']);
    expect(recordsOf(decodeGpsBatch(parts.get('B')!))).toEqual(fixes.filter((f) => f.deviceId === 'b'));
    expect(recordsOf(decodeGpsBatch(parts.get('AC')!))).toEqual(fixes.filter((f) => f.deviceId !== 'b'));
  });

  it('passes a batch with one owner on untouched', () => {
    const payload = encodeGpsBatch(batchFromRecords(fixes));
    const parts = splitBatchByDevice(payload, () => 'only');
    expect(parts.get('only')).toBe(payload);
  });

  it('refuses a payload that is not a GPS batch', () => {
    expect(() => splitBatchByDevice(new Uint8Array([1, 2, 3]), () => 'x')).toThrow(/GPS batch/);
  });
});
