import type { GpsRecord } from '../codecs/gps-record.ts';
import type { Source } from '../source/connect-source.ts';
import type { SourceContext } from '../source/source-module.ts';

/**
 * A stand-in fleet until the road-network simulator lands: `vehicles` devices wander around a centre point
 * at speeds between 5 and 40 m/s, one fix each per simulated second, `speedup` simulated seconds per real
 * second. Deterministic for a given `seed`.
 */
export interface RandomWalkParams {
  vehicles: number;
  center: [number, number];
  seed: number;
  speedup: number;
  /** stop after this many simulated seconds (default: run until stopped) */
  duration?: number;
}

const DEFAULTS: RandomWalkParams = { vehicles: 20, center: [7.4246, 43.7384], seed: 1, speedup: 1 };
const M_PER_DEG_LAT = 111_320;

/** mulberry32: small, fast, seedable */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function* randomWalk(p: RandomWalkParams, t0 = Date.now()): Generator<GpsRecord[]> {
  const rand = rng(p.seed);
  const cosLat = Math.cos((p.center[1] * Math.PI) / 180);
  const v = Array.from({ length: p.vehicles }, (_, i) => ({
    id: `veh-${String(i + 1).padStart(3, '0')}`,
    lon: p.center[0] + (rand() - 0.5) * 0.02,
    lat: p.center[1] + (rand() - 0.5) * 0.01,
    heading: rand() * 360,
    speed: 5 + rand() * 35,
  }));
  for (let s = 0; p.duration === undefined || s < p.duration; s++) {
    yield v.map((x) => {
      x.heading = (x.heading + (rand() - 0.5) * 40 + 360) % 360;
      x.speed = Math.min(40, Math.max(5, x.speed + (rand() - 0.5) * 4));
      const rad = (x.heading * Math.PI) / 180;
      x.lat += (x.speed * Math.cos(rad)) / M_PER_DEG_LAT;
      x.lon += (x.speed * Math.sin(rad)) / (M_PER_DEG_LAT * cosLat);
      return { deviceId: x.id, t: t0 + s * 1000, lon: x.lon, lat: x.lat, speed: x.speed, heading: x.heading, accuracy: 5 };
    });
  }
}

export default async function run(source: Source, ctx: SourceContext): Promise<void> {
  const p = { ...DEFAULTS, ...(ctx.params as Partial<RandomWalkParams>) };
  ctx.log.info(`random walk: ${p.vehicles} vehicles around ${p.center.join(',')}, ${p.speedup}x`);
  const start = Date.now();
  let s = 0;
  for (const fixes of randomWalk(p, start)) {
    if (ctx.signal.aborted) break;
    source.write('gps', fixes);
    const due = start + (++s * 1000) / p.speedup;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}
