import type { GpsRecord } from '../codecs/gps-record.ts';
import { gaussian, rng } from '../simulators/rng.ts';
import { haversine, offsetBy } from '../network/geo.ts';
import type { RoadGraph } from '../network/road-graph.ts';

// Known routes with known noise, for the map-matching tests on hand-made graphs.

/** Fixes every second along a sequence of edges at `speed` m/s with Gaussian noise, and the true edge of each. */
export function drive(g: RoadGraph, path: number[], { speed = 12, sigma = 0, seed = 1, device = 'car-1', t0 = Date.UTC(2026, 0, 1) } = {}) {
  const rand = rng(seed);
  const gauss = gaussian(rand);
  const fixes: GpsRecord[] = [];
  const truth: number[] = [];
  let travelled = 0; // metres along the path where the next fix falls
  let start = 0; // metres along the path where the current edge begins
  for (const e of path) {
    for (let p = g.pointStart[e]; p < g.pointStart[e + 1] - 1; p++) {
      const seg = haversine(g.pointLon[p], g.pointLat[p], g.pointLon[p + 1], g.pointLat[p + 1]);
      while (travelled < start + seg) {
        const f = (travelled - start) / seg;
        const lon = g.pointLon[p] + f * (g.pointLon[p + 1] - g.pointLon[p]);
        const lat = g.pointLat[p] + f * (g.pointLat[p + 1] - g.pointLat[p]);
        const [dx, dy] = [gauss() * sigma, gauss() * sigma];
        const [nlon, nlat] = offsetBy(lon, lat, dx, dy);
        fixes.push({ deviceId: device, t: t0 + fixes.length * 1000, lon: nlon, lat: nlat, speed });
        truth.push(e);
        travelled += speed;
      }
      start += seg;
    }
  }
  return { fixes, truth };
}
