import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { logger, setLogLevel } from '../log/logger.ts';
import { FleetIndex } from './fleet-index.ts';
import { fleetFunction, noSkips } from './fleet-function.ts';

setLogLevel('silent');

/** What the fleet function makes of each kind of record on its tags. */
async function fold(records: object[]) {
  const index = new FleetIndex();
  const skipped = noSkips();
  const out = await lastValueFrom(fleetFunction(index, skipped, logger('fleet')).default!(from(records), { name: 'fleet', params: {}, log: logger('fleet') }).pipe(toArray()));
  return { index, skipped, out };
}

const T = Date.parse('2026-01-01T08:00:00Z');

describe('the fleet function', () => {
  it('takes fixes (their own fields become user fields), matched fixes and fence events; emits nothing', async () => {
    const { index, skipped, out } = await fold([
      { deviceId: 'a', t: T, lon: 7.42, lat: 43.73, speed: 4, heading: 80, status: 'free', seats: 3 },
      { kind: 'mapmatch', detect: 'matched', deviceId: 'a', t: T, time: '', lon: 7.42, lat: 43.73, speed: 4, point: [7.4201, 43.7301], raw: [7.42, 43.73], edge: 9, wayId: 99, offset: 1 },
      { kind: 'geofence', detect: 'enter', deviceId: 'a', fence: { id: 'q1', name: 'Monte-Carlo' } },
      { deviceId: 'b', t: T, lon: 7.43, lat: 43.74 },
    ]);
    expect(out).toEqual([]);
    expect(index.get('a')).toMatchObject({ lon: 7.4201, lat: 43.7301, heading: 80, edge: 9, wayId: 99, matched: true, fences: ['Monte-Carlo'], fields: { status: 'free', seats: 3 } });
    expect(index.get('b')).toMatchObject({ speed: null, heading: null, fields: {} });
    expect(skipped).toEqual(noSkips());
  });

  it('counts what it cannot use: a fence event before any position, a position off the globe, other events, a late fix', async () => {
    const { index, skipped } = await fold([
      { kind: 'geofence', detect: 'exit', deviceId: 'ghost', fence: { id: 'q1' } },
      { deviceId: 'c', t: T, lon: 181, lat: 43 },
      { kind: 'mapmatch', detect: 'matched', deviceId: 'c', t: T, point: [Number.NaN, 43], edge: 1 },
      { kind: 'mapmatch', detect: 'traversal', deviceId: 'c', t: T, edge: 1 },
      { deviceId: 'd', t: T, lon: 7.42, lat: 43.73 },
      { deviceId: 'd', t: T - 1000, lon: 7.42, lat: 43.73 },
    ]);
    expect(skipped).toEqual({ 'unknown-vehicle': 1, 'bad-position': 2, 'bad-field': 0, 'not-a-position': 1, late: 1 });
    expect(index.size).toBe(1);
  });

  it('keeps a fix whose own field /v1/fields would refuse, without that field, and counts it', async () => {
    const { index, skipped } = await fold([{ deviceId: 'd', t: T, lon: 7.42, lat: 43.73, status: 'free', note: 'x'.repeat(2000), 'a:b': 1, eta: '08:30' }]);
    expect(index.get('d')).toMatchObject({ lon: 7.42, fields: { status: 'free' } });
    expect(Object.keys(index.get('d')!.fields)).toEqual(['status']);
    expect(skipped['bad-field']).toBe(3);
  });
});

describe('what the fleet keeps of a fix', () => {
  it('speed and heading as the f32 they travelled as reads (1.22, not 1.2200000286102295)', async () => {
    const { index } = await fold([{ deviceId: 'a', t: T, lon: 7.42, lat: 43.73, speed: Math.fround(1.22), heading: Math.fround(32.9) }]);
    expect(index.get('a')).toMatchObject({ speed: 1.22, heading: 32.9 });
  });
});
