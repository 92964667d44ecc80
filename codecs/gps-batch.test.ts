import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { batchFromRecords, decodeGpsBatch, encodeGpsBatch, recordsOf, selectRows } from './gps-batch.ts';
import { FrameError } from './frame-error.ts';
import type { GpsRecord } from './gps-record.ts';
import { decodeRecords, encodeRecords } from './records.ts';

const f32 = (x: number) => Math.fround(x);
const recordArb: fc.Arbitrary<GpsRecord> = fc
  .record({
    deviceId: fc.constantFrom('truck-1', 'truck-2', 'bus-14', 'ünïcode-🚚'),
    t: fc.integer({ min: 0, max: 4e12 }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    speed: fc.option(fc.float({ min: 0, max: 100, noNaN: true }).map(f32), { nil: undefined }),
    heading: fc.option(fc.float({ min: 0, max: 359, noNaN: true }).map(f32), { nil: undefined }),
    accuracy: fc.option(fc.float({ min: 0, max: 50, noNaN: true }).map(f32), { nil: undefined }),
  })
  .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as GpsRecord);

describe('GPS batch', () => {
  it('round-trips records through the columnar wire format', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 300 }), (records) => {
        expect(recordsOf(decodeGpsBatch(encodeGpsBatch(batchFromRecords(records))))).toEqual(records);
      }),
      { numRuns: 500 },
    );
  });

  it('writes any device id as TextEncoder would (ASCII by the byte, the rest as UTF-8, a lone surrogate as U+FFFD)', () => {
    const utf8 = new TextEncoder();
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.oneof(fc.constant('a'), fc.constant('é'), fc.constant('€'), fc.constant('🚚'), fc.constant('\ud800'), fc.constant('\udc00'), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 12 }), { minLength: 1, maxLength: 20 }), (ids) => {
        const b = batchFromRecords(ids.map((deviceId, i) => ({ deviceId, t: i, lon: 0, lat: 0 })));
        const decoded = decodeGpsBatch(encodeGpsBatch(b));
        expect(decoded.devices).toEqual(b.devices.map((d) => new TextDecoder().decode(utf8.encode(d))));
      }),
      { numRuns: 500 },
    );
  });

  it('decodes columns as views when the payload is aligned, and copies once when not', () => {
    const bytes = encodeGpsBatch(batchFromRecords([{ deviceId: 'a', t: 1, lon: 7.42, lat: 43.73 }]));
    expect(decodeGpsBatch(bytes).lon.buffer).toBe(bytes.buffer);
    const shifted = Buffer.alloc(bytes.length + 3); // a Buffer: its slice() is a view, the trap this guards
    shifted.set(bytes, 3);
    const b = decodeGpsBatch(shifted.subarray(3));
    expect(b.lon[0]).toBe(7.42);
    expect(b.lon.buffer).not.toBe(shifted.buffer);
  });

  it('selects rows with a dictionary of only their devices', () => {
    const b = batchFromRecords([
      { deviceId: 'a', t: 1, lon: 1, lat: 1 },
      { deviceId: 'b', t: 2, lon: 2, lat: 2 },
      { deviceId: 'a', t: 3, lon: 3, lat: 3 },
    ]);
    const s = selectRows(b, [2, 0]);
    expect(s.devices).toEqual(['a']);
    expect(recordsOf(s).map((r) => r.t)).toEqual([3, 1]);
  });

  it('rejects random and truncated bytes with a FrameError', () => {
    const good = encodeGpsBatch(batchFromRecords([{ deviceId: 'a', t: 1, lon: 1, lat: 1 }]));
    expect(() => decodeGpsBatch(good.subarray(0, good.length - 1))).toThrow(/rows need/);
    const badIndex = good.slice();
    new DataView(badIndex.buffer).setUint32(badIndex.length - 4, 9, true);
    expect(() => decodeGpsBatch(badIndex)).toThrow(/names device 9 of 1/);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (garbage) => {
        try {
          decodeGpsBatch(garbage);
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('carries fixes as a GPS batch and anything else as msgpack', () => {
    const fixes = [{ deviceId: 'a', t: 1, lon: 1, lat: 1 }];
    const alerts = [{ kind: 'speeding', deviceId: 'a', speed: 40 }];
    // an event that has a fix's fields and more (a matched fix) must keep the more
    const matched = [{ kind: 'mapmatch', detect: 'matched', deviceId: 'a', t: 1, lon: 1, lat: 1, speed: 3, edge: 7 }];
    expect(encodeRecords(fixes).ct).toBe('gps');
    expect(encodeRecords(alerts).ct).toBe('msgpack');
    expect(encodeRecords(matched).ct).toBe('msgpack');
    for (const rs of [fixes, alerts, matched]) {
      const { ct, payload } = encodeRecords(rs);
      expect(decodeRecords(ct, payload)).toEqual(rs);
    }
  });
});
