import { resolve } from 'node:path';
import { loadNetwork, type LoadedNetwork } from '../../network/load-network.ts';
import { hash32 } from '../../zipper/hash-ring.ts';
import { checkGpsModel, DEFAULT_GPS, type GpsModel } from './gps-model.ts';
import { checkIncident, parseIncident, type Incident } from './incidents.ts';
import { TrafficSim, type Fleet } from './traffic-sim.ts';

/**
 * What `geoflux sim` flags and a workflow's `builtin:traffic` params say, in one shape. A scenario file
 * brings its fleets, incidents, network, seed, start and duration; flags given beside it win, and their
 * incidents are added to the scenario's.
 */
export interface TrafficConfig {
  /** the road network, an OSM PBF (relative to `baseDir`); required unless the scenario names one */
  network?: string;
  scenario?: string;
  vehicles?: number;
  /** device ids of the default fleet: `<prefix>-001` … (default veh): two simulators that feed one cluster need two; without a seed, the prefix picks it */
  prefix?: string;
  seed?: number;
  /** epoch ms, or an ISO date (default: now, to the second) */
  start?: number | string;
  duration?: number;
  incidents?: (string | Incident)[];
  /** GPS model of the default fleet: noise, interval, outlierRate, ... */
  gps?: Partial<GpsModel>;
  truth?: boolean;
}

export interface Traffic {
  sim: TrafficSim;
  network: LoadedNetwork;
  networkPath: string;
  seed: number;
  start: number;
  duration?: number;
  fleets: Fleet[];
  incidents: Incident[];
}

export async function createTraffic(c: TrafficConfig, baseDir = process.cwd()): Promise<Traffic> {
  // a scenario's reader (YAML, its checks in zod) only for a scenario: a source without one runs in a host thread that needs neither
  const scenario = c.scenario ? await (await import('./scenario.ts')).loadScenario(resolve(baseDir, c.scenario)) : undefined;
  const networkPath = c.network ? resolve(baseDir, c.network) : scenario?.network;
  if (!networkPath) throw new Error('the traffic simulator needs a road network: give network (an OSM PBF, e.g. monaco.osm.pbf), or a scenario that names one');
  // a prefix names the default fleet's vehicles: said, not ignored, where a scenario's fleets drive instead
  if (c.prefix !== undefined && scenario && c.vehicles === undefined) throw new Error(`prefix "${c.prefix}" names the default fleet's vehicles, and the scenario drives its own fleets: give each its prefix in the scenario (fleets: [{ name, prefix, vehicles }]), or give vehicles too`);
  const gps = checkGpsModel({ ...DEFAULT_GPS, ...c.gps });
  const fleets = c.vehicles !== undefined || !scenario ? [{ name: 'veh', prefix: c.prefix, vehicles: checkCount(c.vehicles ?? 500), gps }] : scenario.fleets;
  const incidents = [...(scenario?.incidents ?? []), ...(c.incidents ?? []).map((i) => (typeof i === 'string' ? parseIncident(i) : checkIncident(i)))];
  const start = parseStart(c.start ?? scenario?.start);
  const network = await loadNetwork(networkPath);
  // two simulators told apart by their prefix (two edges of one cluster) drive two fleets, not one twice
  const seed = c.seed ?? scenario?.seed ?? (c.prefix ? hash32(c.prefix) || 1 : 1);
  const sim = new TrafficSim(network.graph, { fleets, seed, start, incidents, truth: c.truth });
  return { sim, network, networkPath, seed, start, duration: c.duration ?? scenario?.duration, fleets, incidents };
}

function checkCount(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`vehicles must be a whole number ≥ 1 (got ${n})`);
  return n;
}

function parseStart(s: number | string | undefined): number {
  if (s === undefined) return Math.floor(Date.now() / 1000) * 1000;
  const t = typeof s === 'number' ? s : Date.parse(s);
  if (!Number.isFinite(t)) throw new Error(`start "${s}" is not a date (use ISO 8601, e.g. 2026-01-01T08:00:00Z)`);
  return t;
}

