import { batchFromRecords, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { haversine } from '../network/geo.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import { createMapMatch, type MapMatchFileParams } from '../kernels/create-kernel.ts';
import type { MapMatchEvent } from '../kernels/mapmatch.ts';
import { TrafficSim, type TruthRecord } from '../simulators/traffic/traffic-sim.ts';
import { now, percentile } from './stats.ts';

// Map matching scored against the traffic simulator's ground truth, graph-independently: a fix is right
// when its matched OSM way is the way the vehicle was truly on (issue #16's measure).

export interface Fleet {
  fixes: GpsRecord[];
  /** where fixes[i] truly was */
  truth: TruthRecord[];
}

export interface FleetSpec {
  vehicles: number;
  seconds: number;
  /** GPS noise σ, metres; outliers, dropouts and clock error stay at the simulator's defaults */
  noise: number;
  /** seconds between fixes */
  interval: number;
  seed: number;
}

/**
 * A simulated fleet's fixes in time order, each with its truth. The simulator hands out a step's fixes and
 * truths line for line, so they are paired by position: a fix's `t` carries the receiver's clock offset
 * and jitter and is no key into the truth.
 */
export function simulatedFleet(g: RoadGraph, { vehicles, seconds, noise, interval, seed }: FleetSpec): Fleet {
  const sim = new TrafficSim(g, { fleets: [{ name: 'veh', vehicles, gps: { noise, interval } }], seed, start: Date.UTC(2026, 0, 1, 8), truth: true });
  const pairs: [GpsRecord, TruthRecord][] = [];
  while (sim.seconds < seconds) {
    const step = sim.step();
    step.fixes.forEach((f, i) => pairs.push([f, step.truth[i]]));
  }
  pairs.sort((a, b) => a[0].t - b[0].t);
  return { fixes: pairs.map((p) => p[0]), truth: pairs.map((p) => p[1]) };
}

export interface Score {
  fixes: number;
  /** share of all fixes matched to the true OSM way (unmatched and dropped fixes count as wrong) */
  wayCorrect: number;
  unmatched: number;
  /** metres from the matched point to the true position, over matched fixes */
  median: number;
  p95: number;
  /** wrong fixes that sit in runs of at least 6 wrong fixes of one vehicle: errors that last */
  longRuns: number;
  /** share of consecutive matched points of a vehicle that are identical */
  repeated: number;
  /** metres the matched point is ahead of the truth along the edge (negative: behind), mean over fixes on the true edge */
  lead: number;
}

const key = (deviceId: string, t: number) => `${deviceId}\u0000${t}`;

export function score(g: RoadGraph, fleet: Fleet, events: MapMatchEvent[]): Score {
  const at = new Map<string, number>();
  fleet.fixes.forEach((f, i) => at.set(key(f.deviceId, f.t), i));
  const right = new Uint8Array(fleet.fixes.length);
  const dist: number[] = [];
  const point = new Map<number, [number, number]>();
  let unmatched = 0;
  let lead = 0;
  let onEdge = 0;
  for (const e of events) {
    if (e.detect === 'traversal') continue;
    const i = at.get(key(e.deviceId, e.t));
    if (i === undefined) throw new Error(`the kernel returned a fix it was not given (${e.deviceId} at ${e.time})`);
    if (e.detect === 'unmatched') {
      unmatched++;
      continue;
    }
    const truth = fleet.truth[i];
    right[i] = g.edgeWay[e.edge] === truth.wayId ? 1 : 0;
    if (e.edge === truth.edge) {
      lead += e.offset - truth.offset;
      onEdge++;
    }
    dist.push(haversine(e.point[0], e.point[1], truth.lon, truth.lat));
    point.set(i, e.point);
  }
  // per vehicle, in time order: runs of wrong fixes, and matched points that did not move
  const byVehicle = new Map<string, number[]>();
  fleet.fixes.forEach((f, i) => (byVehicle.get(f.deviceId) ?? byVehicle.set(f.deviceId, []).get(f.deviceId)!).push(i));
  let longRuns = 0, repeated = 0, pairs = 0;
  for (const rows of byVehicle.values()) {
    let run = 0;
    for (let j = 0; j <= rows.length; j++) {
      if (j < rows.length && !right[rows[j]]) run++;
      else {
        if (run >= 6) longRuns += run;
        run = 0;
      }
      if (j === 0 || j === rows.length) continue;
      const [a, b] = [point.get(rows[j - 1]), point.get(rows[j])];
      if (!a || !b) continue;
      pairs++;
      if (a[0] === b[0] && a[1] === b[1]) repeated++;
    }
  }
  dist.sort((a, b) => a - b);
  const n = fleet.fixes.length;
  return { fixes: n, wayCorrect: right.reduce((s, x) => s + x, 0) / n, unmatched: unmatched / n, median: percentile(dist, 50), p95: percentile(dist, 95), longRuns, repeated: repeated / pairs, lead: lead / onEdge };
}

/**
 * Matches a fleet (in batches of 4096, as a gateway hands them over) on a fresh kernel. The times are of
 * matching only: wall clock, and this process's CPU time, which another load on a shared machine does
 * not inflate (V8's helper threads count in it, so it errs slow).
 */
export async function matchFleet(params: MapMatchFileParams, fixes: GpsRecord[]): Promise<{ events: MapMatchEvent[]; ms: number; cpuMs: number }> {
  const batches: GpsBatch[] = [];
  for (let i = 0; i < fixes.length; i += 4096) batches.push(batchFromRecords(fixes.slice(i, i + 4096)));
  const k = await createMapMatch(params);
  const events: MapMatchEvent[] = [];
  const t0 = now();
  const cpu0 = process.cpuUsage();
  for (const b of batches) for (const e of k.process(b)) events.push(e);
  for (const e of k.flush()) events.push(e);
  const cpu = process.cpuUsage(cpu0);
  return { events, ms: now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}
