import type { FenceChange } from './true-fence-events.ts';
import { percentile } from './stats.ts';

/** A detected enter or exit: `t` the time it carries, `emitted` the stream time at which it came out. */
export interface DetectedChange extends FenceChange {
  emitted: number;
}

export interface EventScore {
  detected: number;
  truth: number;
  precision: number;
  recall: number;
  /** |event time − true change|, ms, of matched events */
  timeError: { p50: number; p95: number };
  /** emitted − true change, ms, of matched events */
  delay: { p50: number; p95: number };
  /** events that undo the same vehicle's previous event on the same fence within `flapWithin` ms, per vehicle-hour */
  flapsPerVehicleHour: number;
  /**
   * of those, the flaps whose two events both match true changes: a true visit of little more than the hold
   * whose first event came out late (a map matcher holding fixes back), so the two came out close together
   */
  trueVisitFlapsPerVehicleHour: number;
  /** the true changes no detection matched */
  missed: FenceChange[];
}

/**
 * Scores detected enters and exits against the true ones: a detection matches a true change of the same
 * vehicle, fence and kind within `within` ms, one to one (each detection, in time order, takes the earliest
 * true change still free).
 */
export function scoreFenceEvents(detected: readonly DetectedChange[], truth: readonly FenceChange[], { within, flapWithin, vehicleHours }: { within: number; flapWithin: number; vehicleHours: number }): EventScore {
  const key = (e: FenceChange) => `${e.deviceId}\u0000${e.fence}\u0000${e.detect}`;
  const free = new Map<string, FenceChange[]>();
  for (const e of truth) (free.get(key(e)) ?? free.set(key(e), []).get(key(e))!).push(e);
  const errors: number[] = [];
  const delays: number[] = [];
  const matched = new Set<DetectedChange>();
  for (const d of [...detected].sort((a, b) => a.t - b.t)) {
    const candidates = free.get(key(d));
    const j = candidates?.findIndex((e) => Math.abs(e.t - d.t) <= within) ?? -1;
    if (j < 0) continue;
    const [e] = candidates!.splice(j, 1);
    errors.push(Math.abs(d.t - e.t));
    delays.push(d.emitted - e.t);
    matched.add(d);
  }
  const last = new Map<string, DetectedChange>();
  let flaps = 0;
  let trueVisitFlaps = 0;
  for (const d of [...detected].sort((a, b) => a.emitted - b.emitted)) {
    const pair = `${d.deviceId}\u0000${d.fence}`;
    const before = last.get(pair);
    if (before && before.detect !== d.detect && d.emitted - before.emitted < flapWithin) {
      flaps++;
      if (matched.has(before) && matched.has(d)) trueVisitFlaps++;
    }
    last.set(pair, d);
  }
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  sorted(errors);
  sorted(delays);
  return {
    detected: detected.length,
    truth: truth.length,
    precision: detected.length ? errors.length / detected.length : 1,
    recall: truth.length ? errors.length / truth.length : 1,
    timeError: { p50: percentile(errors, 50), p95: percentile(errors, 95) },
    delay: { p50: percentile(delays, 50), p95: percentile(delays, 95) },
    flapsPerVehicleHour: flaps / vehicleHours,
    trueVisitFlapsPerVehicleHour: trueVisitFlaps / vehicleHours,
    missed: [...free.values()].flat(),
  };
}
