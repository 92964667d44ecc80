import { describe, expect, it } from 'vitest';
import { assertBatch, assertFixes, fixProblem, goodRows, InvalidFixError, MAX_DEVICE_ID_BYTES } from './fix-checks.ts';
import { batchFromRecords, emptyBatch } from './gps-batch.ts';

const fix = { deviceId: 'v', t: 1_700_000_000_000, lon: 7.42, lat: 43.73 };

describe('what makes a fix unusable', () => {
  it.each<[string, object, string, string]>([
    ['an empty device id', { deviceId: '' }, 'device', 'deviceId must be a non-empty string'],
    ['a device id longer than the limit', { deviceId: 'x'.repeat(MAX_DEVICE_ID_BYTES + 1) }, 'device', `deviceId is longer than ${MAX_DEVICE_ID_BYTES} bytes`],
    ['a device id of multi-byte characters past the limit', { deviceId: 'é'.repeat(MAX_DEVICE_ID_BYTES / 2 + 1) }, 'device', `deviceId is longer than ${MAX_DEVICE_ID_BYTES} bytes`],
    ['a time that is NaN', { t: NaN }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got NaN)'],
    ['a time that is a string', { t: '2026-01-01' }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got 2026-01-01)'],
    ['a finite time in the year 287,000', { t: 9e15 }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got 9000000000000000)'],
    ['a time before 1970', { t: -1e20 }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got -100000000000000000000)'],
    ['a time at 2100-01-01', { t: Date.UTC(2100, 0, 1) }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got 4102444800000)'],
    ['a longitude out of range', { lon: 181 }, 'position', 'lon must be a number in [-180, 180] (got 181)'],
    ['an infinite latitude', { lat: Infinity }, 'position', 'lat must be a number in [-90, 90] (got Infinity)'],
    ['an infinite speed', { speed: Infinity }, 'motion', 'speed must be a finite number when given (got Infinity)'],
  ])('%s', (_, change, reason, message) => {
    expect(fixProblem({ ...fix, ...change } as never)).toEqual({ reason, message });
  });

  it('passes a good fix, with or without the optional fields (NaN is a batch’s "unknown")', () => {
    expect(fixProblem(fix)).toBeUndefined();
    expect(fixProblem({ ...fix, speed: 12, heading: NaN, accuracy: 4 })).toBeUndefined();
    expect(fixProblem({ ...fix, deviceId: 'é'.repeat(MAX_DEVICE_ID_BYTES / 2) })).toBeUndefined();
  });
});

describe('where fixes enter: write()', () => {
  it('refuses the whole write, naming the record and what is wrong with it', () => {
    expect(() => assertFixes('gps', [fix, { ...fix, deviceId: 'truck-9', lat: NaN }])).toThrow(new InvalidFixError('write("gps"): record 1 fix of "truck-9": lat must be a number in [-90, 90] (got NaN)'));
    expect(() => assertFixes('gps', [{ ...fix, t: Infinity }])).toThrow(InvalidFixError);
  });

  it('lets events through: only a record with all four fields of a fix is held to a fix’s rules', () => {
    expect(() => assertFixes('alerts', [{ kind: 'geofence', deviceId: 'v', time: 'x', point: [NaN, 0] }])).not.toThrow();
  });

  it('refuses a batch with an unusable row, saying how many and why', () => {
    const b = batchFromRecords([fix, { ...fix, t: NaN }, { ...fix, lon: 999 }]);
    expect(() => assertBatch('gps', b)).toThrow('write("gps"): the batch has unusable rows (1 time, 1 position)');
  });
});

describe('before a kernel: goodRows', () => {
  it('keeps the good rows in order, with their values, and counts the others by reason', () => {
    const rows = [fix, { ...fix, t: NaN }, { ...fix, deviceId: 'w', lon: 7.5 }, { ...fix, lat: -91 }, { ...fix, deviceId: 'x', lat: 43.8 }];
    const { batch, bad, dropped } = goodRows(batchFromRecords(rows));
    expect(bad).toEqual({ time: 1, position: 1 });
    expect(dropped).toBe(2);
    expect(batch.n).toBe(3);
    expect([...batch.lon]).toEqual([7.42, 7.5, 7.42]);
    expect([...batch.device].map((d) => batch.devices[d])).toEqual(['v', 'w', 'x']);
  });

  it('drops rows whose time is outside 1970–2100, finite or not', () => {
    const b = batchFromRecords([fix, { ...fix, t: 9e15 }, { ...fix, t: -1e20 }, { ...fix, t: 0 }]);
    const { batch, bad } = goodRows(b);
    expect(bad).toEqual({ time: 2 });
    expect([...batch.t]).toEqual([fix.t, 0]);
  });

  it('hands back the very batch when every row is good', () => {
    const b = batchFromRecords([fix, fix]);
    expect(goodRows(b).batch).toBe(b);
  });

  it('drops rows whose device id is empty', () => {
    const b = emptyBatch(2, ['', 'ok']);
    b.device.set([0, 1]);
    expect(goodRows(b).bad).toEqual({ device: 1 });
  });
});
