import type { Clock } from '../clock.ts';
import { Pacer } from '../pacer.ts';
import type { SimStep, TrafficSim } from './traffic-sim.ts';

export interface TrafficStepsOptions {
  /** simulated seconds per wall second (Infinity: as fast as possible) */
  speed: number;
  /** stop after this many simulated seconds (default: until `signal` aborts) */
  duration?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/**
 * A simulation's steps in (accelerated) real time. The next step is made when the consumer asks for it,
 * so a consumer that awaits (a backed-up zipper) holds the simulation back.
 */
export async function* trafficSteps(sim: TrafficSim, o: TrafficStepsOptions): AsyncGenerator<SimStep> {
  const pacer = new Pacer(o.speed, sim.seconds, 1000, o.clock);
  while (!o.signal?.aborted && (o.duration === undefined || sim.seconds < o.duration)) {
    const step = sim.step();
    yield step;
    await pacer.until(step.seconds, o.signal);
  }
}
