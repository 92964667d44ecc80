/** A vehicle's true position at one moment, as the simulator's track gives it. */
export interface TruePosition {
  deviceId: string;
  t: number;
  lon: number;
  lat: number;
}

/**
 * Every vehicle's true position at each step of a run, in typed arrays (10,000 vehicles × 300 s is 48 MB):
 * where the scoring asks a vehicle truly was while a change held. Steps are the simulator's, all vehicles at
 * one time each.
 */
export class TrueTrack {
  private readonly index = new Map<string, number>();
  private readonly times: number[] = [];
  private readonly lon: Float64Array[] = [];
  private readonly lat: Float64Array[] = [];

  add(track: readonly TruePosition[]): void {
    if (this.index.size === 0) track.forEach((p, i) => this.index.set(p.deviceId, i));
    const lon = new Float64Array(this.index.size).fill(NaN);
    const lat = new Float64Array(this.index.size).fill(NaN);
    for (const p of track) {
      const i = this.index.get(p.deviceId);
      if (i !== undefined) (lon[i] = p.lon), (lat[i] = p.lat);
    }
    this.times.push(track[0].t);
    this.lon.push(lon);
    this.lat.push(lat);
  }

  /** the steps from `from` to `from + span` ms (both included): their times, and the vehicles' positions at each */
  *during(from: number, span: number): Generator<{ t: number; at: (deviceId: string) => [number, number] }> {
    let s = lowerBound(this.times, from);
    for (; s < this.times.length && this.times[s] <= from + span; s++) {
      const lon = this.lon[s];
      const lat = this.lat[s];
      yield { t: this.times[s], at: (deviceId) => [lon[this.index.get(deviceId)!], lat[this.index.get(deviceId)!]] };
    }
  }
}

function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
