import { M_PER_DEG, metresPerDegLon } from '../network/geo.ts';
import { rng } from '../simulators/rng.ts';

/**
 * The query benchmark's fleet: `n` vehicles in a 20 km square around Monaco, each driving straight at 5 to
 * 20 m/s and bouncing off the square's sides, so the same seed gives the same positions at each second in
 * every process that asks (the fleet server, the Redis feeder, the oracle).
 */
export const AREA = { lon: 7.42, lat: 43.74, side: 20_000 };

export class MovingFleet {
  readonly x: Float64Array;
  readonly y: Float64Array;
  private readonly vx: Float64Array;
  private readonly vy: Float64Array;
  readonly lon: Float64Array;
  readonly lat: Float64Array;
  readonly ids: string[];

  constructor(readonly n: number, seed = 1) {
    const r = rng(seed);
    [this.x, this.y, this.vx, this.vy, this.lon, this.lat] = Array.from({ length: 6 }, () => new Float64Array(n));
    this.ids = Array.from({ length: n }, (_, i) => `veh-${i}`);
    for (let i = 0; i < n; i++) {
      const speed = 5 + 15 * r();
      const dir = 2 * Math.PI * r();
      [this.x[i], this.y[i], this.vx[i], this.vy[i]] = [AREA.side * r(), AREA.side * r(), speed * Math.cos(dir), speed * Math.sin(dir)];
    }
    this.project();
  }

  /** one second on */
  step(): void {
    const s = AREA.side;
    for (let i = 0; i < this.n; i++) {
      let x = this.x[i] + this.vx[i];
      let y = this.y[i] + this.vy[i];
      if (x < 0 || x > s) (this.vx[i] = -this.vx[i]), (x = Math.min(s, Math.max(0, x)));
      if (y < 0 || y > s) (this.vy[i] = -this.vy[i]), (y = Math.min(s, Math.max(0, y)));
      this.x[i] = x;
      this.y[i] = y;
    }
    this.project();
  }

  private project(): void {
    const west = AREA.lon - AREA.side / 2 / metresPerDegLon(AREA.lat);
    const south = AREA.lat - AREA.side / 2 / M_PER_DEG;
    for (let i = 0; i < this.n; i++) {
      this.lon[i] = west + this.x[i] / metresPerDegLon(AREA.lat);
      this.lat[i] = south + this.y[i] / M_PER_DEG;
    }
  }
}

/** query points: uniform over the fleet's square, the same sequence for every contender */
export function queryPoints(count: number, seed = 7): [number, number][] {
  const r = rng(seed);
  const west = AREA.lon - AREA.side / 2 / metresPerDegLon(AREA.lat);
  const south = AREA.lat - AREA.side / 2 / M_PER_DEG;
  return Array.from({ length: count }, () => [west + (AREA.side * r()) / metresPerDegLon(AREA.lat), south + (AREA.side * r()) / M_PER_DEG]);
}
