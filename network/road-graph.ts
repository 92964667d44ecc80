import { haversine } from './geo.ts';

/**
 * A directed road graph in typed arrays: what the simulator drives on and the map-matching kernel matches
 * against. Nodes are intersections and way ends; each edge is one direction of a way between two of them,
 * with its shape points, so `geometry` of edge e is points [pointStart[e], pointStart[e + 1]).
 */
export interface RoadGraph {
  nodeLon: Float64Array;
  nodeLat: Float64Array;
  edgeFrom: Uint32Array;
  edgeTo: Uint32Array;
  /** OSM way id (or Kubička arc id) */
  edgeWay: Float64Array;
  /** index into HIGHWAY_CLASSES, 255 when unknown */
  edgeClass: Uint8Array;
  /** metres per second */
  edgeSpeed: Float32Array;
  /** metres */
  edgeLength: Float32Array;
  pointStart: Uint32Array;
  pointLon: Float64Array;
  pointLat: Float64Array;
}

export const nodeCount = (g: RoadGraph): number => g.nodeLon.length;
export const edgeCount = (g: RoadGraph): number => g.edgeFrom.length;

export function bboxOf(g: RoadGraph): [number, number, number, number] {
  const b: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < g.nodeLon.length; i++) {
    b[0] = Math.min(b[0], g.nodeLon[i]);
    b[1] = Math.min(b[1], g.nodeLat[i]);
    b[2] = Math.max(b[2], g.nodeLon[i]);
    b[3] = Math.max(b[3], g.nodeLat[i]);
  }
  return b;
}

/** Builds a graph from edges given as point lists (first and last points are the end nodes). */
export class GraphBuilder {
  private nodes = new Map<string, number>();
  private nodeLon: number[] = [];
  private nodeLat: number[] = [];
  private from: number[] = [];
  private to: number[] = [];
  private way: number[] = [];
  private cls: number[] = [];
  private speed: number[] = [];
  private length: number[] = [];
  private start: number[] = [0];
  private lon: number[] = [];
  private lat: number[] = [];

  /** a node by a caller's key (an OSM node id, a Kubička row) */
  node(key: string | number, lon: number, lat: number): number {
    const k = String(key);
    let i = this.nodes.get(k);
    if (i === undefined) {
      this.nodes.set(k, (i = this.nodeLon.length));
      this.nodeLon.push(lon);
      this.nodeLat.push(lat);
    }
    return i;
  }

  edge(from: number, to: number, points: [number, number][], way: number, cls: number, speed: number): void {
    let len = 0;
    for (let i = 1; i < points.length; i++) len += haversine(points[i - 1][0], points[i - 1][1], points[i][0], points[i][1]);
    this.from.push(from);
    this.to.push(to);
    this.way.push(way);
    this.cls.push(cls);
    this.speed.push(speed);
    this.length.push(len);
    for (const [x, y] of points) {
      this.lon.push(x);
      this.lat.push(y);
    }
    this.start.push(this.lon.length);
  }

  build(): RoadGraph {
    return {
      nodeLon: Float64Array.from(this.nodeLon),
      nodeLat: Float64Array.from(this.nodeLat),
      edgeFrom: Uint32Array.from(this.from),
      edgeTo: Uint32Array.from(this.to),
      edgeWay: Float64Array.from(this.way),
      edgeClass: Uint8Array.from(this.cls),
      edgeSpeed: Float32Array.from(this.speed),
      edgeLength: Float32Array.from(this.length),
      pointStart: Uint32Array.from(this.start),
      pointLon: Float64Array.from(this.lon),
      pointLat: Float64Array.from(this.lat),
    };
  }
}
