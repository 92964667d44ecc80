import type { GpsRecord } from '../codecs/gps-record.ts';
import { haversine, offsetBy } from '../network/geo.ts';
import { gaussian, rng } from '../simulators/rng.ts';

/**
 * A fix a second along a polyline of [lon, lat] waypoints at `speed` m/s, each thrown off by Gaussian noise
 * σ metres per axis (and saying so in `accuracy`): a vehicle whose true path a test knows exactly. The true
 * position of fix i is `speed × i` metres along the line.
 */
export function noisyWalk(waypoints: [number, number][], { speed, sigma, seed = 1, deviceId = 'car-1', t0 = Date.UTC(2026, 0, 1) }: { speed: number; sigma: number; seed?: number; deviceId?: string; t0?: number }): GpsRecord[] {
  if (!(speed > 0)) throw new Error(`noisyWalk: speed must be > 0 m/s (got ${speed})`);
  const gauss = gaussian(rng(seed));
  const fixes: GpsRecord[] = [];
  let start = 0; // metres along the line where the current leg begins
  for (let w = 0; w + 1 < waypoints.length; w++) {
    const [[lon1, lat1], [lon2, lat2]] = [waypoints[w], waypoints[w + 1]];
    const leg = haversine(lon1, lat1, lon2, lat2);
    for (let at = fixes.length * speed; at < start + leg; at = fixes.length * speed) {
      const f = (at - start) / leg;
      const [lon, lat] = offsetBy(lon1 + f * (lon2 - lon1), lat1 + f * (lat2 - lat1), gauss() * sigma, gauss() * sigma);
      fixes.push({ deviceId, t: t0 + fixes.length * 1000, lon, lat, speed, accuracy: sigma });
    }
    start += leg;
  }
  return fixes;
}
