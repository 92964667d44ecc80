import { haversine } from './geo.ts';
import type { RoadGraph } from './road-graph.ts';

/** A position along an edge: where it is, which way the road points there, and the shape segment it is on. */
export interface EdgePoint {
  lon: number;
  lat: number;
  /** degrees clockwise from north */
  heading: number;
  /** index into the graph's points of the segment's first point */
  seg: number;
}

/**
 * Metres from its edge's start for every shape point, so a position `offset` metres along an edge is one
 * interpolation; a vehicle moving forward passes its last segment as a hint and the search is O(1).
 */
export class EdgeShapes {
  readonly along: Float64Array;

  constructor(private readonly g: RoadGraph) {
    this.along = new Float64Array(g.pointLon.length);
    for (let e = 0; e < g.edgeFrom.length; e++) {
      for (let p = g.pointStart[e] + 1; p < g.pointStart[e + 1]; p++) {
        this.along[p] = this.along[p - 1] + haversine(g.pointLon[p - 1], g.pointLat[p - 1], g.pointLon[p], g.pointLat[p]);
      }
    }
  }

  length(e: number): number {
    return this.along[this.g.pointStart[e + 1] - 1];
  }

  /** heading of the edge's first (`end` false) or last segment */
  headingAt(e: number, end: boolean): number {
    const p = end ? this.g.pointStart[e + 1] - 2 : this.g.pointStart[e];
    return bearing(this.g.pointLon[p], this.g.pointLat[p], this.g.pointLon[p + 1], this.g.pointLat[p + 1]);
  }

  at(e: number, offset: number, out: EdgePoint, hint = -1): EdgePoint {
    const { g, along } = this;
    const first = g.pointStart[e];
    const last = g.pointStart[e + 1] - 2;
    let p = hint >= first && hint <= last ? hint : first;
    while (p < last && along[p + 1] < offset) p++;
    const span = along[p + 1] - along[p];
    const f = span > 0 ? Math.min(1, Math.max(0, (offset - along[p]) / span)) : 0;
    out.lon = g.pointLon[p] + f * (g.pointLon[p + 1] - g.pointLon[p]);
    out.lat = g.pointLat[p] + f * (g.pointLat[p + 1] - g.pointLat[p]);
    out.heading = bearing(g.pointLon[p], g.pointLat[p], g.pointLon[p + 1], g.pointLat[p + 1]);
    out.seg = p;
    return out;
  }
}

/** initial bearing in degrees [0, 360) */
export function bearing(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const r = Math.PI / 180;
  const y = Math.sin((lon2 - lon1) * r) * Math.cos(lat2 * r);
  const x = Math.cos(lat1 * r) * Math.sin(lat2 * r) - Math.sin(lat1 * r) * Math.cos(lat2 * r) * Math.cos((lon2 - lon1) * r);
  return ((Math.atan2(y, x) / r) + 360) % 360;
}
