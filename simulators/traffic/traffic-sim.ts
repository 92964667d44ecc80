import type { GpsRecord } from '../../codecs/gps-record.ts';
import { adjacency } from '../../network/adjacency.ts';
import { EdgeShapes, type EdgePoint } from '../../network/edge-shapes.ts';
import { offsetBy } from '../../network/geo.ts';
import { HIGHWAY_CLASSES } from '../../network/highway-classes.ts';
import type { RoadGraph } from '../../network/road-graph.ts';
import { ShortestPaths } from '../../network/shortest-paths.ts';
import { largestComponent } from '../../network/strong-components.ts';
import { gaussian, rng } from '../rng.ts';
import { DEFAULT_GPS, type GpsModel } from './gps-model.ts';
import { incidentFactor, type Incident } from './incidents.ts';

/** A group of vehicles sharing an id prefix, a driving style and a GPS receiver. */
export interface Fleet {
  name: string;
  vehicles: number;
  /** device ids are `<prefix>-0001`… (default: the fleet's name) */
  prefix?: string;
  /** scales every speed the fleet drives (buses 0.8, taxis 1.1) */
  speedFactor?: number;
  gps?: Partial<GpsModel>;
}

export interface TrafficOptions {
  fleets: Fleet[];
  seed: number;
  /** epoch ms of simulated second 0 */
  start: number;
  incidents?: Incident[];
  /** keep the true position of every fix (`step().truth`) */
  truth?: boolean;
}

/** Where a fix really was: the edge, the metres along it, the position and speed without GPS error. */
export interface TruthRecord {
  deviceId: string;
  t: number;
  edge: number;
  wayId: number;
  offset: number;
  lon: number;
  lat: number;
  speed: number;
  /** degrees clockwise from north, the road's at that point */
  heading: number;
}

export interface SimStep {
  /** simulated seconds since the start, after this step */
  seconds: number;
  fixes: GpsRecord[];
  truth: TruthRecord[];
  /** with `truth`: where every vehicle truly is at this step, fix or not (a dropout hides it from `truth`) */
  track: TruthRecord[];
}

interface Vehicle {
  id: string;
  gps: GpsModel;
  /** mean share of each road class's limit this driver keeps to */
  pace: Float32Array;
  route: number[];
  leg: number;
  edge: number;
  offset: number;
  seg: number;
  speed: number;
  nextFix: number;
  gapUntil: number;
  /** seconds this vehicle's clock is off */
  clock: number;
}

// Share of the limit drivers keep to on each road class (unknown classes: 0.8), before each driver's own pace.
const CLASS_PACE: Record<string, number> = {
  motorway: 0.95, trunk: 0.95, primary: 0.9, secondary: 0.9, tertiary: 0.85, unclassified: 0.8,
  residential: 0.8, living_street: 0.7, service: 0.6, road: 0.8,
};
const classPace = (c: string) => CLASS_PACE[c] ?? (c.endsWith('_link') ? 0.85 : 0.8);
const ACCEL = 1.5; // m/s², a calm urban start
const BRAKE = 2.5; // m/s², comfortable braking ahead of a junction

/**
 * A fleet driving the road network: every vehicle drives the quickest path to a random destination in the
 * network's largest strongly connected part, then picks another. Speeds follow each road's limit, the
 * driver's pace for its class, junctions (a vehicle brakes so it takes a turn at a turning speed) and
 * incidents. One seeded generator drives everything, so a seed and a start time give the same fixes.
 */
export class TrafficSim {
  readonly vehicles: Vehicle[] = [];
  /** simulated seconds since the start */
  seconds = 0;
  private readonly rand: () => number;
  private readonly shapes: EdgeShapes;
  private readonly paths: ShortestPaths;
  private readonly nodes: Uint32Array;
  private readonly junction: Uint8Array;
  private readonly dt: number;
  private readonly incidents: Incident[];
  private readonly gauss: () => number;
  private readonly p: EdgePoint = { lon: 0, lat: 0, heading: 0, seg: 0 };

  constructor(
    readonly graph: RoadGraph,
    private readonly opts: TrafficOptions,
  ) {
    this.rand = rng(opts.seed);
    this.gauss = gaussian(this.rand);
    this.shapes = new EdgeShapes(graph);
    const time = Float64Array.from(graph.edgeLength, (len, e) => len / Math.max(1, graph.edgeSpeed[e]));
    this.paths = new ShortestPaths(graph, time);
    this.nodes = largestComponent(graph);
    if (this.nodes.length < 2) throw new Error('the road network has no two nodes connected both ways: nowhere to drive');
    this.junction = junctions(graph);
    this.incidents = opts.incidents ?? [];
    const gpsOf = (f: Fleet): GpsModel => ({ ...DEFAULT_GPS, ...f.gps });
    this.dt = Math.min(1, ...opts.fleets.map((f) => gpsOf(f).interval));
    const inComponent = new Uint8Array(graph.nodeLon.length);
    for (const n of this.nodes) inComponent[n] = 1;
    const starts = [...graph.edgeFrom.keys()].filter((e) => inComponent[graph.edgeFrom[e]] && inComponent[graph.edgeTo[e]] && graph.edgeLength[e] > 0);
    for (const f of opts.fleets) {
      const gps = gpsOf(f);
      const width = Math.max(3, String(f.vehicles).length);
      for (let i = 0; i < f.vehicles; i++) {
        const edge = starts[Math.floor(this.rand() * starts.length)];
        const pace = Float32Array.from(HIGHWAY_CLASSES, ([c]) => (f.speedFactor ?? 1) * classPace(c) * Math.min(1.25, Math.max(0.75, 1 + 0.08 * this.gauss())));
        const v: Vehicle = {
          id: `${f.prefix ?? f.name}-${String(i + 1).padStart(width, '0')}`,
          gps,
          pace,
          route: [edge],
          leg: 0,
          edge,
          offset: this.rand() * this.shapes.length(edge),
          seg: -1,
          speed: 0,
          // spread first fixes over the interval so a fleet does not report in lockstep
          nextFix: this.rand() * gps.interval,
          gapUntil: 0,
          clock: gps.clockOffset * this.gauss(),
        };
        v.speed = this.cruise(v, edge) * this.rand();
        this.replan(v);
        this.vehicles.push(v);
      }
    }
  }

  /** advances every vehicle by one step (the shortest fix interval, at most 1 s) and returns the fixes due */
  step(): SimStep {
    const out: SimStep = { seconds: 0, fixes: [], truth: [], track: [] };
    const now = (this.seconds += this.dt);
    for (const v of this.vehicles) {
      this.drive(v, now);
      if (v.nextFix <= now) this.report(v, now, out);
      if (this.opts.truth) out.track.push(this.truthOf(v, now));
    }
    out.seconds = now;
    return out;
  }

  private drive(v: Vehicle, now: number): void {
    const { shapes } = this;
    const p = shapes.at(v.edge, v.offset, this.p, v.seg);
    v.seg = p.seg;
    let target = this.cruise(v, v.edge) * incidentFactor(this.incidents, p.lon, p.lat, now);
    const next = v.route[v.leg + 1];
    const turn = next === undefined ? target : Math.min(this.turnSpeed(v.edge, next), this.cruise(v, next));
    // the fastest speed from which the vehicle can still brake to the turning speed by the junction
    target = Math.min(target, Math.sqrt(turn * turn + 2 * BRAKE * Math.max(0, shapes.length(v.edge) - v.offset)));
    v.speed = v.speed < target ? Math.min(target, v.speed + ACCEL * this.dt) : Math.max(target, v.speed - 2 * BRAKE * this.dt);
    v.offset += v.speed * this.dt;
    // hop edges (several when short ones sit back to back), re-planning at each destination
    for (let hops = 0; v.offset >= shapes.length(v.edge) && hops < 64; hops++) {
      v.offset -= shapes.length(v.edge);
      if (v.leg + 1 >= v.route.length) this.replan(v);
      v.edge = v.route[++v.leg];
      v.seg = -1;
    }
  }

  private report(v: Vehicle, now: number, out: SimStep): void {
    const gps = v.gps;
    v.nextFix += gps.interval;
    if (now < v.gapUntil) return;
    if (gps.dropoutRate > 0 && this.rand() < gps.dropoutRate) {
      const [lo, hi] = gps.dropoutSeconds;
      v.gapUntil = now + lo + this.rand() * (hi - lo);
      return;
    }
    const p = this.shapes.at(v.edge, v.offset, this.p, v.seg);
    v.seg = p.seg;
    let dx = gps.noise * this.gauss();
    let dy = gps.noise * this.gauss();
    if (gps.outlierRate > 0 && this.rand() < gps.outlierRate) {
      const a = this.rand() * 2 * Math.PI;
      const d = gps.outlierDistance * (1 + this.rand());
      dx += d * Math.cos(a);
      dy += d * Math.sin(a);
    }
    const trueT = this.opts.start + Math.round(now * 1000);
    const jitter = Math.max(-0.4, Math.min(0.4, (gps.clockJitter * this.gauss()) / gps.interval)) * gps.interval;
    const [lon, lat] = offsetBy(p.lon, p.lat, dx, dy);
    out.fixes.push({
      deviceId: v.id,
      t: trueT + Math.round((v.clock + jitter) * 1000),
      lon,
      lat,
      speed: Math.round(Math.max(0, v.speed + 0.2 * this.gauss()) * 100) / 100,
      heading: Math.round(p.heading * 10) / 10,
      accuracy: gps.noise,
    });
    if (this.opts.truth) out.truth.push(this.truthOf(v, now));
  }

  private truthOf(v: Vehicle, now: number): TruthRecord {
    const p = this.shapes.at(v.edge, v.offset, this.p, v.seg);
    return { deviceId: v.id, t: this.opts.start + Math.round(now * 1000), edge: v.edge, wayId: this.graph.edgeWay[v.edge], offset: v.offset, lon: p.lon, lat: p.lat, speed: v.speed, heading: p.heading };
  }

  /** the speed this driver keeps on an edge with a clear road */
  private cruise(v: Vehicle, e: number): number {
    const c = this.graph.edgeClass[e];
    return this.graph.edgeSpeed[e] * (c < v.pace.length ? v.pace[c] : 0.8);
  }

  /** how fast a turn from edge a into edge b is taken: slower the sharper, and through any junction a little slower */
  private turnSpeed(a: number, b: number): number {
    const to = this.graph.edgeTo[a];
    if (!this.junction[to]) return Infinity;
    const d = Math.abs(this.shapes.headingAt(a, true) - this.shapes.headingAt(b, false));
    const angle = d > 180 ? 360 - d : d;
    return angle < 25 ? 0.8 * this.graph.edgeSpeed[b] : Math.max(3, 9 - (6 * (angle - 25)) / 155);
  }

  /** a quickest path from the end of the vehicle's current edge to a random destination */
  private replan(v: Vehicle): void {
    const from = this.graph.edgeTo[v.edge];
    for (;;) {
      const to = this.nodes[Math.floor(this.rand() * this.nodes.length)];
      const path = to === from ? undefined : this.paths.route(from, to);
      if (path?.length) {
        v.route = [v.edge, ...path];
        v.leg = 0;
        return;
      }
    }
  }
}

/** nodes where a driver has a choice of way (more than one way out other than straight back) */
function junctions(g: RoadGraph): Uint8Array {
  const out = adjacency(g, 'out');
  const j = new Uint8Array(g.nodeLon.length);
  for (let n = 0; n < j.length; n++) j[n] = out.start[n + 1] - out.start[n] > 2 ? 1 : 0;
  return j;
}
