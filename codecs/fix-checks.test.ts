import { describe, expect, it } from 'vitest';
import { assertBatch, checkRecords, fixProblem, goodRows, InvalidFixError, MAX_DEVICE_ID_BYTES, tidyBatch, unixTimeMs } from './fix-checks.ts';
import { batchFromRecords, emptyBatch } from './gps-batch.ts';

const fix = { deviceId: 'v', t: 1_700_000_000_000, lon: 7.42, lat: 43.73 };

describe('what makes a fix unusable', () => {
  it.each<[string, object, string, string]>([
    ['an empty device id', { deviceId: '' }, 'device', 'deviceId must be a non-empty string'],
    ['a device id longer than the limit', { deviceId: 'x'.repeat(MAX_DEVICE_ID_BYTES + 1) }, 'device', `deviceId is longer than ${MAX_DEVICE_ID_BYTES} bytes`],
    ['a device id of multi-byte characters past the limit', { deviceId: 'é'.repeat(MAX_DEVICE_ID_BYTES / 2 + 1) }, 'device', `deviceId is longer than ${MAX_DEVICE_ID_BYTES} bytes`],
    // the one rule for write(), the device listeners and the zipper's handshake (codecs/control-characters.ts)
    ['a device id with a NUL', { deviceId: 'a\u0000b' }, 'device', 'deviceId "a\\u0000b" has a control character (U+0000), which topics and logs cannot show'],
    ['a device id with a newline', { deviceId: 'a\nb' }, 'device', 'deviceId "a\\nb" has a control character (U+000A), which topics and logs cannot show'],
    ['a device id with a C1 control', { deviceId: 'a\u0085' }, 'device', 'deviceId "a\\x85" has a control character (U+0085), which topics and logs cannot show'],
    ['a device id with a right-to-left override', { deviceId: 'bidi\u202eevil' }, 'device', 'deviceId "bidi\\u202eevil" has a control character (U+202E), which topics and logs cannot show'],
    ['a device id with a zero-width space', { deviceId: 'zw\u200bsp' }, 'device', 'deviceId "zw\\u200bsp" has a control character (U+200B), which topics and logs cannot show'],
    ['a device id with a line separator', { deviceId: 'ls\u2028ls' }, 'device', 'deviceId "ls\\u2028ls" has a control character (U+2028), which topics and logs cannot show'],
    ['a time that is NaN', { t: NaN }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got NaN)'],
    // a value that is not a number is said with its type: bare, "7.42" and 1796647663161n look valid
    ['a time that is a string', { t: '2026-01-01' }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got the string "2026-01-01")'],
    ['a time that is a bigint', { t: BigInt(1_796_647_663_161) }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got a bigint 1796647663161)'],
    ['a time that is a Date', { t: new Date(1_796_647_663_161) }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got a Date (2026-12-07T12:47:43.161Z))'],
    ['a longitude that is a string', { lon: '7.42' }, 'position', 'lon must be a number in [-180, 180] (got the string "7.42")'],
    ['a latitude that is missing', { lat: undefined }, 'position', 'lat must be a number in [-90, 90] (got undefined)'],
    ['a speed that is a boolean', { speed: true }, 'motion', 'speed must be a finite number when given (got a boolean true)'],
    ['a finite time in the year 287,000', { t: 9e15 }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got 9000000000000000)'],
    ['a time before 1970', { t: -1e20 }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got -100000000000000000000)'],
    ['a time at 2100-01-01', { t: Date.UTC(2100, 0, 1) }, 'time', 't must be epoch ms from 1970-01-01 to 2100-01-01 (got 4102444800000)'],
    ['a longitude out of range', { lon: 181 }, 'position', 'lon must be a number in [-180, 180] (got 181)'],
    ['an infinite latitude', { lat: Infinity }, 'position', 'lat must be a number in [-90, 90] (got Infinity)'],
    ['an infinite speed', { speed: Infinity }, 'motion', 'speed must be a finite number when given (got Infinity)'],
    // the one plausibility rule for write() and device ingest (ingest/): 1,000 knots in m/s is not a move
    ['a speed past 1,000 knots', { speed: 515 }, 'motion', 'speed must be at most 514.4 m/s, 1,000 knots, the most a civil GPS receiver reports (got 515)'],
  ])('%s', (_, change, reason, message) => {
    expect(fixProblem({ ...fix, ...change } as never)).toEqual({ reason, message });
  });

  it('passes a good fix, with or without the optional fields (NaN is a batch’s "unknown")', () => {
    expect(fixProblem(fix)).toBeUndefined();
    expect(fixProblem({ ...fix, speed: 12, heading: NaN, accuracy: 4 })).toBeUndefined();
    expect(fixProblem({ ...fix, speed: 514 })).toBeUndefined();
    expect(fixProblem({ ...fix, deviceId: 'é'.repeat(MAX_DEVICE_ID_BYTES / 2) })).toBeUndefined();
    expect(fixProblem({ ...fix, deviceId: 'camión #7/a+b' })).toBeUndefined();
  });
});

describe('a unix time as devices send it', () => {
  it('is ms from 1e12 (13 digits: every time since 2001-09-09) and seconds below', () => {
    expect(unixTimeMs(1_700_000_000)).toBe(1_700_000_000_000);
    expect(unixTimeMs(1_700_000_000_123)).toBe(1_700_000_000_123);
    expect(fixProblem({ ...fix, t: unixTimeMs(99_999_999_999) })?.reason).toBe('time');
  });
});

describe('where fixes enter: write()', () => {
  it('refuses the whole write, naming the record and what is wrong with it', () => {
    expect(() => checkRecords('gps', [fix, { ...fix, deviceId: 'truck-9', lat: NaN }])).toThrow(new InvalidFixError('write("gps"): record 1 fix of "truck-9": lat must be a number in [-90, 90] (got NaN)'));
    expect(() => checkRecords('gps', [{ ...fix, t: Infinity }])).toThrow(InvalidFixError);
  });

  it('refuses a device id that would act on a terminal, and its message carries no raw control character', () => {
    const scream = 'e\u001b[41mSCREAM\u001b[0m\u0007\r-002';
    expect(() => checkRecords('gps', [{ ...fix, deviceId: scream }])).toThrow(
      new InvalidFixError('write("gps"): fix of "e\\u001b[41mSCREAM\\u001b[0m\\u0007\\r-002": deviceId "e\\u001b[41mSCREAM\\u001b[0m\\u0007\\r-002" has a control character (U+001B), which topics and logs cannot show'),
    );
  });

  it('lets events through: only a record with all four fields of a fix is held to a fix’s rules', () => {
    expect(() => checkRecords('alerts', [{ kind: 'geofence', deviceId: 'v', time: 'x', point: [NaN, 0] }])).not.toThrow();
  });

  it('refuses a batch with an unusable row, saying how many and why', () => {
    const b = batchFromRecords([fix, { ...fix, t: NaN }, { ...fix, lon: 999 }]);
    expect(() => assertBatch('gps', b)).toThrow('write("gps"): the batch has unusable rows (1 time, 1 position)');
    expect(goodRows(batchFromRecords([fix, { ...fix, deviceId: 'a\u001bb' }])).bad).toEqual({ device: 1 });
  });
});

describe('what phones send, read the way GPS stacks mean it', () => {
  const one = (r: object) => checkRecords('gps', [r])[0];

  it('takes a negative speed or accuracy for "not known": the field is left out', () => {
    expect(one({ ...fix, speed: -1, accuracy: -1 })).toEqual(fix);
    expect(one({ ...fix, speed: 0, accuracy: 0 })).toEqual({ ...fix, speed: 0, accuracy: 0 });
  });

  it('takes a heading mod 360, and a negative one (iOS: -1) for "not known"', () => {
    expect(one({ ...fix, heading: 720 })).toEqual({ ...fix, heading: 0 });
    expect(one({ ...fix, heading: 370.5 })).toEqual({ ...fix, heading: 10.5 });
    expect(one({ ...fix, heading: -1 })).toEqual(fix);
    expect(one({ ...fix, heading: 359 })).toEqual({ ...fix, heading: 359 });
  });

  it('still refuses infinities', () => {
    expect(() => one({ ...fix, heading: Infinity })).toThrow('write("gps"): fix of "v": heading must be a finite number when given (got Infinity)');
    expect(() => one({ ...fix, speed: -Infinity })).toThrow(InvalidFixError);
  });

  it('takes lng (Google Maps, Leaflet) for a missing lon, and holds the fix to a fix’s rules', () => {
    const { lon, ...rest } = fix;
    expect(one({ ...rest, lng: lon })).toEqual(fix);
    expect(() => one({ ...rest, lng: 200 })).toThrow('write("gps"): fix of "v": lon must be a number in [-180, 180] (got 200)');
    // both: lon is the position, lng is the caller's own field
    expect(one({ ...fix, lng: 1 })).toEqual({ ...fix, lng: 1 });
    expect(one({ kind: 'note', lng: 1 })).toEqual({ kind: 'note', lng: 1 });
  });

  it('refuses a null or undefined record with a TypeError naming its index', () => {
    expect(() => checkRecords('gps', [fix, fix, null])).toThrow(new TypeError('write("gps"): record 2 is null, not a record'));
    expect(() => checkRecords('gps', [undefined])).toThrow(new TypeError('write("gps"): the record is undefined, not a record'));
  });

  it('leaves the caller’s records as they are, and returns them when nothing needs tidying', () => {
    const mine = { ...fix, speed: -1 };
    const records = [fix, mine];
    expect(checkRecords('gps', records)).toEqual([fix, fix]);
    expect(mine.speed).toBe(-1);
    expect(checkRecords('gps', [fix])).toEqual([fix]);
    const clean = [fix];
    expect(checkRecords('gps', clean)).toBe(clean);
  });

  it('tidies a batch’s columns the same way, before a kernel too, leaving the batch given alone', () => {
    const b = batchFromRecords([
      { ...fix, speed: -1, heading: 720, accuracy: -1 },
      { ...fix, speed: 12, heading: -1, accuracy: 5 },
    ]);
    const t = tidyBatch(b);
    expect([...t.speed]).toEqual([NaN, 12]);
    expect([...t.heading]).toEqual([0, NaN]);
    expect([...t.accuracy]).toEqual([NaN, 5]);
    expect(b.speed[0]).toBe(-1);
    expect([...goodRows(b).batch.heading]).toEqual([0, NaN]);
    expect(tidyBatch(t)).toBe(t);
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
