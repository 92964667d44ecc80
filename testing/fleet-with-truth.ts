import type { GpsRecord } from '../codecs/gps-record.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import { TrafficSim } from '../simulators/traffic/traffic-sim.ts';

export interface FleetWithTruthOptions {
  vehicles: number;
  seconds: number;
  /** GPS noise σ in metres; outliers, dropouts and clock jitter stay at the model's defaults */
  noise: number;
  seed?: number;
  start?: number;
}

/**
 * A simulated fleet's fixes in time order, with the edge each fix was truly on: what map matching is scored
 * against (tests and `npm run bench -- traffic`).
 */
export function fleetWithTruth(g: RoadGraph, { vehicles, seconds, noise, seed = 1, start = Date.UTC(2026, 0, 1, 8) }: FleetWithTruthOptions) {
  const sim = new TrafficSim(g, { fleets: [{ name: 'veh', vehicles, gps: { noise } }], seed, start, truth: true });
  const fixes: GpsRecord[] = [];
  const truth = new Map<string, number>();
  for (let s = 0; s < seconds; s++) {
    const step = sim.step();
    step.fixes.forEach((f, i) => truth.set(`${f.deviceId}/${f.t}`, step.truth[i].edge));
    fixes.push(...step.fixes);
  }
  fixes.sort((a, b) => a.t - b.t);
  return { fixes, trueEdge: (deviceId: string, t: number) => truth.get(`${deviceId}/${t}`) };
}
