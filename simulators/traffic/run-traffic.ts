import { Pacer } from '../pacer.ts';
import type { SimStep, TrafficSim } from './traffic-sim.ts';

export interface RunTrafficOptions {
  /** simulated seconds per wall second (Infinity: as fast as possible) */
  speed: number;
  /** stop after this many simulated seconds (default: until `signal` aborts) */
  duration?: number;
  signal?: AbortSignal;
  /** handed each step's fixes; a returned promise holds the simulation back (backpressure) */
  emit: (step: SimStep) => void | Promise<void>;
}

/** Steps a simulation in (accelerated) real time; resolves with the simulated seconds run. */
export async function runTraffic(sim: TrafficSim, o: RunTrafficOptions): Promise<number> {
  const pacer = new Pacer(o.speed, sim.seconds);
  while (!o.signal?.aborted && (o.duration === undefined || sim.seconds < o.duration)) {
    const step = sim.step();
    await o.emit(step);
    await pacer.until(step.seconds, o.signal);
  }
  return sim.seconds;
}
