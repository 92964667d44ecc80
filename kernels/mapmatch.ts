import type { GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import type { SegmentIndex } from '../network/segment-index.ts';
import type { Rows } from './host/rows.ts';
import { Kernel, KernelWrapper, type KernelOptions } from './kernel.ts';

export interface MapMatchParams {
  /** the road graph and its segment index (network/load-network.ts reads them from an OSM PBF or Kubička files) */
  network: { graph: RoadGraph; index: SegmentIndex };
  /** GPS noise σ, metres (default: each fix's `accuracy`, else 8) */
  sigma?: number;
  /** candidate search radius, metres (default 50) */
  radius?: number;
  /** most candidates per fix (default 16: a two-way road is two candidates) */
  k?: number;
  /** the vehicle's own variation in the transition, metres per second between fixes (default 3) */
  beta?: number;
  /** most fixes with candidates held while the best path converges (default 30) */
  lag?: number;
  /** also commit a fix once it is this many seconds older than the newest fix seen (default 0: off) */
  lagSeconds?: number;
  /** a gap in time longer than this (seconds) restarts the match (default 60) */
  maxGap?: number;
  /** routes longer than routeFactor × great circle + 2 × radius are not searched (default 2) */
  routeFactor?: number;
  /** metres a vehicle may appear to move backwards on one edge before the step counts as going round (default: no limit) */
  backTolerance?: number;
  /** a device silent this many seconds of stream time is flushed and forgotten (default 300) */
  idle?: number;
  /** a fix without a speed this close (metres) to the last one matched counts as stationary (default 2σ) */
  stationary?: number;
  /** a fix reporting a speed below this (m/s) counts as stationary (default 0.5) */
  stopSpeed?: number;
  /** σ of a fix's heading against the road's bearing, degrees; 0 ignores headings (default 30) */
  headingSigma?: number;
  /** headings of fixes slower than this (m/s) are ignored (default 1) */
  headingSpeed?: number;
  /** log-likelihood a path pays for turning back on itself (default 10) */
  uTurn?: number;
  /** m/s no vehicle exceeds: a longer route in the time, noise allowed for, is no link (default 60) */
  maxSpeed?: number;
  /** paths this far (log-likelihood) behind the best are dropped (default 15) */
  beam?: number;
}

interface Base {
  kind: 'mapmatch';
  deviceId: string;
  /** epoch ms, so events feed other kernels (hotspot) as fixes */
  t: number;
  time: string;
  lon: number;
  lat: number;
  speed: number | null;
}

/**
 * a fix on the road: `point` is where it was snapped to (a stationary fix, or an outlier, is placed on the route
 * between the fixes around it), `raw` where it was reported
 */
export interface MatchedFix extends Base {
  detect: 'matched';
  point: [number, number];
  raw: [number, number];
  edge: number;
  wayId: number;
  /** metres along the edge */
  offset: number;
  /** the match broke just before this fix (a gap, or no route from the fixes before): it starts afresh here */
  restart?: true;
}

/** a fix with no road within the search radius */
export interface UnmatchedFix extends Base {
  detect: 'unmatched';
  point: [number, number];
}

/**
 * An edge driven: `complete` when entered at its start and left at its end, else the chain began or
 * ended on it. `t`/`lon`/`lat` are the exit time and the edge's midpoint, `speed` the mean.
 */
export interface Traversal extends Base {
  detect: 'traversal';
  edge: number;
  wayId: number;
  enter: string;
  exit: string;
  /** metres driven on the edge */
  length: number;
  complete: boolean;
  /** the edge's speed limit, m/s (OSM maxspeed or its class default) */
  limit: number;
}

export type MapMatchEvent = MatchedFix | UnmatchedFix | Traversal;

const DETECT = ['matched', 'unmatched', 'traversal', 'partial', 'restarted'] as const;
const iso = (t: number) => new Date(t).toISOString();
const num = (x: number) => (Number.isFinite(x) ? x : null);

/** The map-matching kernel as a TypeScript object: fixes in, matched fixes and edge traversals out. */
export class MapMatchKernel extends KernelWrapper {
  private readonly midLon: Float64Array;
  private readonly midLat: Float64Array;

  private constructor(kernel: Kernel) {
    super(kernel);
    [this.midLon, this.midLat] = midpoints(this.graph);
  }

  static create(params: MapMatchParams, setup: KernelOptions): MapMatchKernel {
    return new MapMatchKernel(Kernel.create(params, setup));
  }

  get graph(): RoadGraph {
    return this.kernel.network!.graph;
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): MapMatchEvent[] {
    return this.events(this.kernel.rows(this.kernel.fit(fixes)));
  }

  /** End of input: every device's held fixes, and the edges they end on. */
  flush(): MapMatchEvent[] {
    const events: MapMatchEvent[] = [];
    this.kernel.flushRows((rows) => {
      for (const e of this.events(rows)) events.push(e);
    });
    return events;
  }

  private events({ n, cols }: Rows): MapMatchEvent[] {
    const { t, enter, lon, lat, rawLon, rawLat, offset, speed, detect, deviceId: device, edge } = cols;
    const g = this.graph;
    const events = new Array<MapMatchEvent>(n);
    for (let i = 0; i < n; i++) {
      const deviceId = this.kernel.deviceName(device[i]);
      const e = edge[i];
      const kind = DETECT[detect[i]];
      if (kind === 'matched' || kind === 'restarted') {
        events[i] = {
          kind: 'mapmatch',
          detect: 'matched',
          deviceId,
          t: t[i],
          time: iso(t[i]),
          lon: lon[i],
          lat: lat[i],
          speed: num(speed[i]),
          point: [lon[i], lat[i]],
          raw: [rawLon[i], rawLat[i]],
          edge: e,
          wayId: g.edgeWay[e],
          offset: offset[i],
        };
        if (kind === 'restarted') (events[i] as MatchedFix).restart = true;
      } else if (kind === 'unmatched') {
        events[i] = { kind: 'mapmatch', detect: 'unmatched', deviceId, t: t[i], time: iso(t[i]), lon: rawLon[i], lat: rawLat[i], speed: num(speed[i]), point: [rawLon[i], rawLat[i]] };
      } else {
        events[i] = {
          kind: 'mapmatch',
          detect: 'traversal',
          deviceId,
          t: t[i],
          time: iso(t[i]),
          lon: this.midLon[e],
          lat: this.midLat[e],
          speed: num(speed[i]),
          edge: e,
          wayId: g.edgeWay[e],
          enter: iso(enter[i]),
          exit: iso(t[i]),
          length: offset[i],
          complete: kind === 'traversal',
          limit: g.edgeSpeed[e],
        };
      }
    }
    return events;
  }
}
/** the middle shape point of each edge: where an edge's traversals are placed for hotspot binning */
function midpoints(g: RoadGraph): [Float64Array, Float64Array] {
  const n = g.edgeFrom.length;
  const lon = new Float64Array(n);
  const lat = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const a = g.pointStart[e];
    const b = g.pointStart[e + 1] - 1;
    const m = (a + b) >> 1;
    // two-point edges: halfway along; otherwise the middle shape point
    lon[e] = b - a === 1 ? (g.pointLon[a] + g.pointLon[b]) / 2 : g.pointLon[m];
    lat[e] = b - a === 1 ? (g.pointLat[a] + g.pointLat[b]) / 2 : g.pointLat[m];
  }
  return [lon, lat];
}
