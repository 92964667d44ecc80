/**
 * geoflux/simulators: the traffic simulator and trace replay, as async iterables and Observables.
 *
 *   for await (const { fixes } of simulateTraffic({ network: 'monaco.osm.pbf', vehicles: 50, speed: 'max', duration: 60 })) …
 *   replay$(['drive.csv'], { speed: 10 }).subscribe((fixes) => source.write('gps', fixes));
 */
import type { Observable } from 'rxjs';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { asObservable } from './as-observable.ts';
import type { Clock } from './clock.ts';
import { parseSpeed } from './pacer.ts';
import { loadTraces, replaySlices } from './replay.ts';
import { createTraffic, type TrafficConfig } from './traffic/create-traffic.ts';
import type { SimStep } from './traffic/traffic-sim.ts';
import { trafficSteps } from './traffic/traffic-steps.ts';

export interface SimulateOptions extends TrafficConfig {
  /** simulated seconds per wall second: a number, "10x", or "max" (default "max") */
  speed?: number | string;
  /** where relative paths (network, scenario) are resolved (default: the working directory) */
  baseDir?: string;
  signal?: AbortSignal;
  clock?: Clock;
}

/** Each simulated second: every vehicle's fix (and its ground truth, with `truth: true`). */
export async function* simulateTraffic(o: SimulateOptions): AsyncGenerator<SimStep> {
  const t = await createTraffic(o, o.baseDir);
  yield* trafficSteps(t.sim, { speed: parseSpeed(o.speed ?? 'max'), duration: t.duration, signal: o.signal, clock: o.clock });
}

/** The fixes of each simulated second, as an Observable; unsubscribing stops the simulation. */
export const traffic$ = (o: SimulateOptions): Observable<GpsRecord[]> =>
  asObservable(async function* (signal) {
    for await (const step of simulateTraffic({ ...o, signal: anyAbort(signal, o.signal) })) yield step.fixes;
  });

export interface ReplayTracesOptions {
  /** recorded seconds per wall second: a number, "10x", or "max" (default 1) */
  speed?: number | string;
  /** start over at the end, with times moved on */
  loop?: boolean;
  /** most fixes in one slice (default 4096) */
  batch?: number;
  signal?: AbortSignal;
  clock?: Clock;
}

/** Recorded traces (any format `parseTrace` reads), merged in time order and played with their timing. */
export async function* replayTraces(files: string[], o: ReplayTracesOptions = {}): AsyncGenerator<GpsRecord[]> {
  const { records } = await loadTraces(files);
  yield* replaySlices(records, { ...o, speed: parseSpeed(o.speed ?? 1) });
}

/** `replayTraces` as an Observable; unsubscribing stops the replay. */
export const replay$ = (files: string[], o: ReplayTracesOptions = {}): Observable<GpsRecord[]> =>
  asObservable((signal) => replayTraces(files, { ...o, signal: anyAbort(signal, o.signal) }));

const anyAbort = (a: AbortSignal, b?: AbortSignal): AbortSignal => (b ? AbortSignal.any([a, b]) : a);

export { createTraffic, type Traffic, type TrafficConfig } from './traffic/create-traffic.ts';
export { TrafficSim, type Fleet, type SimStep, type TrafficOptions, type TruthRecord } from './traffic/traffic-sim.ts';
export { DEFAULT_GPS, type GpsModel } from './traffic/gps-model.ts';
export { parseIncident, type Incident } from './traffic/incidents.ts';
export { loadScenario } from './traffic/scenario.ts';
export { loadTraces, replaySlices, describeTrace, type LoadedTrace, type ReplayOptions } from './replay.ts';
export { parseTrace, type Trace } from './replay/trace-formats.ts';
export { VirtualClock, systemClock, type Clock } from './clock.ts';
export { parseSpeed } from './pacer.ts';
