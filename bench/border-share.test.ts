import { describe, expect, it } from 'vitest';
import { offsetBy } from '../network/geo.ts';
import { heldOnLine } from './border-share.ts';
import { boundaryDistance, type FenceFeature } from './fence-boundary.ts';
import type { FenceChange } from './true-fence-events.ts';
import { TrueTrack } from './true-track.ts';

// a 200 m square fence, its west side along x = 0, in metres east and north of a point in Monaco
const O = [7.42, 43.73];
const at = (x: number, y: number) => offsetBy(O[0], O[1], x, y);
const square: FenceFeature = { id: 'sq', geometry: { type: 'Polygon', coordinates: [[at(0, 0), at(200, 0), at(200, 200), at(0, 200), at(0, 0)]] } };
const offBorder = (e: FenceChange, where: (d: string) => [number, number]) => boundaryDistance(square, ...where(e.deviceId));

/** vehicles driving north for 20 s, each `x` metres east of the fence's west side */
function track(xs: Record<string, number>): TrueTrack {
  const t = new TrueTrack();
  for (let s = 0; s <= 20; s++) t.add(Object.entries(xs).map(([deviceId, x]) => ({ deviceId, t: s * 1000, ...lonLat(at(x, 20 + 5 * s)) })));
  return t;
}
const lonLat = ([lon, lat]: [number, number]) => ({ lon, lat });
const enter = (deviceId: string): FenceChange => ({ deviceId, fence: 'sq', detect: 'enter', t: 2000 });

describe('the unobservable share: true changes that stay on the line (issue 21)', () => {
  it('measures the distance to a polygon boundary and to a circle', () => {
    expect(boundaryDistance(square, ...at(2, 100))).toBeCloseTo(2, 1);
    expect(boundaryDistance(square, ...at(100, 100))).toBeCloseTo(100, 0);
    expect(boundaryDistance({ properties: { radius: 50 }, geometry: { type: 'Point', coordinates: at(0, 0) } }, ...at(0, 45))).toBeCloseTo(5, 0);
  });

  it('counts a change as on the line only if the vehicle kept within the band for the whole hold', () => {
    const t = track({ centre: 2, kerb: 4, inside: 30 });
    const changes = ['centre', 'kerb', 'inside'].map(enter);
    // within 3 m: the one 2 m in; within 5 m: that one and the one 4 m in
    expect(heldOnLine(changes, t, 10_000, offBorder, [3, 5])).toEqual([1, 2]);
  });

  it('does not count a vehicle that leaves the band during the hold', () => {
    const t = new TrueTrack();
    // on the border for 6 s, then 40 m in: its side was plain before the 10 s were up
    for (let s = 0; s <= 20; s++) t.add([{ deviceId: 'v', t: s * 1000, ...lonLat(at(s < 8 ? 1 : 40, 100)) }]);
    expect(heldOnLine([enter('v')], t, 10_000, offBorder, [3, 5])).toEqual([0, 0]);
  });
});
