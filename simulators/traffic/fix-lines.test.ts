import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixLine } from './fix-lines.ts';

const fix = { deviceId: 'veh-001', t: 1796628995057, lon: 7.426941372918015, lat: 43.746773472298074, speed: 14.314999999, heading: 194.44999, accuracy: 5 };

describe('fix lines', () => {
  it('write positions to 1e-7°, metres a second to the centimetre, headings to 0.1°, times as given', () => {
    expect(fixLine(fix, 'jsonl')).toBe('{"deviceId":"veh-001","t":1796628995057,"lon":7.4269414,"lat":43.7467735,"speed":14.31,"heading":194.4,"accuracy":5}');
    expect(fixLine(fix, 'csv')).toBe('veh-001,2026-12-07T07:36:35.057Z,7.4269414,43.7467735,14.31,194.4,5');
  });

  it('read back, in either format, as the same numbers within half their last digit, and write again unchanged', () => {
    const degrees = (min: number, max: number) => fc.double({ min, max, noNaN: true });
    fc.assert(
      fc.property(degrees(-180, 180), degrees(-90, 90), fc.double({ min: 0, max: 100, noNaN: true }), (lon, lat, speed) => {
        const r = { deviceId: 'v', t: 1_700_000_000_123, lon, lat, speed };
        const json = JSON.parse(fixLine(r, 'jsonl'));
        const csv = fixLine(r, 'csv').split(',');
        expect([Number(csv[2]), Number(csv[3]), Number(csv[4])]).toEqual([json.lon, json.lat, json.speed]);
        expect(Math.abs(json.lon - lon)).toBeLessThanOrEqual(0.5e-7 + 1e-12);
        expect(Math.abs(json.lat - lat)).toBeLessThanOrEqual(0.5e-7 + 1e-12);
        expect(json.t).toBe(r.t);
        expect(fixLine(json, 'jsonl')).toBe(fixLine(r, 'jsonl'));
      }),
    );
  });
});
