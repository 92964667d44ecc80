/**
 * Device time for a pre-made fleet replayed as fast as a bench writes it. The fleet's fixes come one per
 * vehicle per simulated second, handed out in slices of `slice`, so its clock advances a second for every
 * `vehicles` fixes written, however fast that is: each vehicle's fixes stay about a second apart in device
 * time (what its matched speeds and a geofence's confirm wait are judged by), a replay at a speed-up the
 * bench's throughput sets. Every fix of slice i carries the same time, so an event naming a fix's time
 * tells which slice it was written in, and so when (wall clock): how latency is measured.
 */
export interface FleetClock {
  /** device time (epoch ms) of every fix in slice i */
  timeOf(i: number): number;
  /** the slice whose fixes carry device time t; NaN for a time no slice carries */
  sliceOf(t: number): number;
}

export function fleetClock(start: number, vehicles: number, slice: number): FleetClock {
  const step = (1000 * slice) / vehicles;
  // a whole millisecond per slice at least, or times would not survive an event's ISO string (ms) one to one
  if (!(step >= 1)) throw new Error(`fleetClock: slices of ${slice} from ${vehicles} vehicles are under 1 ms of device time apart`);
  const timeOf = (i: number) => start + Math.round(i * step);
  return {
    timeOf,
    sliceOf(t) {
      const i = Math.round((t - start) / step);
      return i >= 0 && timeOf(i) === t ? i : NaN;
    },
  };
}
