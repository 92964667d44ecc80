import { describe, expect, it } from 'vitest';
import { LatestPositions } from './positions.ts';

const fix = (deviceId: string, t: number, lon: number, speed?: number) => ({ deviceId, t, lon, lat: 43.7, speed });
const matched = (deviceId: string, t: number, lon: number) => ({ kind: 'mapmatch', detect: 'matched', deviceId, t, lon: lon + 1, lat: 0, speed: 5, point: [lon, 43.7] });

describe('LatestPositions', () => {
  it('keeps each device\'s newest fix, matched ones at their snapped point, and says nothing when nothing moved', () => {
    const p = new LatestPositions();
    p.update(fix('a', 2000, 7.4212345678, 10.04));
    p.update(fix('a', 1000, 7.5)); // older: late, kept out
    p.update(matched('b', 1000, 7.43));
    p.update({ kind: 'mapmatch', detect: 'traversal', deviceId: 'b', t: 5000, point: [0, 0] });
    p.update({ kind: 'geofence', detect: 'enter', deviceId: 'c', point: [7, 43] });
    expect(p.take(10_000)).toEqual({
      t: 10_000,
      vehicles: [
        { deviceId: 'a', t: 2000, lon: 7.421235, lat: 43.7, speed: 10 },
        { deviceId: 'b', t: 1000, lon: 7.43, lat: 43.7, speed: 5 },
      ],
    });
    expect(p.take(11_000)).toBeUndefined();
    p.update(fix('a', 3000, 7.42));
    expect(p.take(12_000)?.vehicles.map((v) => [v.deviceId, v.speed])).toEqual([['a', null], ['b', 5]]);
  });

  it('lets devices not seen for `keep` ms drop out', () => {
    const p = new LatestPositions(0);
    p.update(fix('a', 1, 7.42));
    expect(p.take(Date.now() + 10)?.vehicles).toEqual([]);
  });
});
