import type { GpsRecord } from '../codecs/gps-record.ts';
import { offsetBy } from '../network/geo.ts';
import { gaussian, rng } from '../simulators/rng.ts';

export type Path = (s: number) => [east: number, north: number];

/**
 * A fix a second for `seconds` seconds of a device whose true place at second s is `path(s)` metres east and
 * north of `origin`, each thrown off by Gaussian noise σ metres per axis (and saying so in `accuracy`), with
 * the true speed and heading: a device a test knows exactly where it was. `offset` (ms) shifts its clock,
 * as two receivers' clocks differ.
 */
export function noisyTrack(deviceId: string, path: Path, { seconds, sigma, seed = 1, offset = 0, origin = [0, 0], t0 = Date.UTC(2026, 0, 1) }: { seconds: number; sigma: number; seed?: number; offset?: number; origin?: [number, number]; t0?: number }): GpsRecord[] {
  const gauss = gaussian(rng(seed));
  const fixes: GpsRecord[] = [];
  for (let s = 0; s < seconds; s++) {
    const [x, y] = path(s);
    const [nx, ny] = path(s + 1);
    const speed = Math.hypot(nx - x, ny - y);
    const heading = speed > 0 ? ((Math.atan2(nx - x, ny - y) * 180) / Math.PI + 360) % 360 : 0;
    const [lon, lat] = offsetBy(origin[0], origin[1], x + gauss() * sigma, y + gauss() * sigma);
    fixes.push({ deviceId, t: t0 + s * 1000 + offset, lon, lat, speed, heading, accuracy: sigma });
  }
  return fixes;
}

/** metres along a straight line from `from` towards `to` at `speed` m/s, then staying at `to` */
export const driveTo =
  (from: [number, number], to: [number, number], speed: number, start = 0): Path =>
  (s) => {
    const len = Math.hypot(to[0] - from[0], to[1] - from[1]);
    const f = Math.min(1, Math.max(0, ((s - start) * speed) / len));
    return [from[0] + f * (to[0] - from[0]), from[1] + f * (to[1] - from[1])];
  };
