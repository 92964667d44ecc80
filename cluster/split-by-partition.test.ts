import { expect, it } from 'vitest';
import { batchFromRecords, recordsOf } from '../codecs/gps-batch.ts';
import { partitionOf } from './partition.ts';
import { splitByPartition } from './split-by-partition.ts';

it("puts every fix, whole and in order, in its device's partition, each with a dictionary of its own devices", () => {
  const records = Array.from({ length: 500 }, (_, i) => ({ deviceId: `veh-${i % 37}`, t: i, lon: i / 100, lat: -i / 100, ...(i % 2 ? { speed: i } : {}) }));
  const parts = splitByPartition(batchFromRecords(records), 4);
  for (const [p, b] of parts) {
    const want = records.filter((r) => partitionOf(r.deviceId, 4) === p);
    expect(recordsOf(b)).toEqual(want);
    expect(b.devices).toEqual([...new Set(want.map((r) => r.deviceId))]);
  }
  expect([...parts.values()].reduce((n, b) => n + b.n, 0)).toBe(500);
});
