import { haversine, M_PER_DEG, metresPerDegLon, snapToSegment } from './geo.ts';
import type { RoadGraph } from './road-graph.ts';

/**
 * A uniform grid over the graph's edge segments: each cell lists the segments (edge, first point) whose
 * bounding box touches it, so "road positions within r metres of a fix" reads a few cells, not every edge.
 */
export interface SegmentIndex {
  minLon: number;
  minLat: number;
  /** cell size in degrees */
  cellLon: number;
  cellLat: number;
  w: number;
  h: number;
  /** per cell: its refs are [cellStart[c], cellStart[c + 1]) */
  cellStart: Uint32Array;
  segEdge: Uint32Array;
  /** index into the graph's points of the segment's first point */
  segPoint: Uint32Array;
}

export function buildSegmentIndex(g: RoadGraph, cellMetres = 100): SegmentIndex {
  let [minLon, minLat, maxLon, maxLat] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let i = 0; i < g.pointLon.length; i++) {
    minLon = Math.min(minLon, g.pointLon[i]);
    minLat = Math.min(minLat, g.pointLat[i]);
    maxLon = Math.max(maxLon, g.pointLon[i]);
    maxLat = Math.max(maxLat, g.pointLat[i]);
  }
  const cellLat = cellMetres / M_PER_DEG;
  const cellLon = cellMetres / metresPerDegLon((minLat + maxLat) / 2);
  const w = Math.max(1, Math.ceil((maxLon - minLon) / cellLon) + 1);
  const h = Math.max(1, Math.ceil((maxLat - minLat) / cellLat) + 1);
  const cells: number[][] = Array.from({ length: w * h }, () => []);
  for (let e = 0; e < g.edgeFrom.length; e++) {
    for (let p = g.pointStart[e]; p < g.pointStart[e + 1] - 1; p++) {
      const x0 = Math.floor((Math.min(g.pointLon[p], g.pointLon[p + 1]) - minLon) / cellLon);
      const x1 = Math.floor((Math.max(g.pointLon[p], g.pointLon[p + 1]) - minLon) / cellLon);
      const y0 = Math.floor((Math.min(g.pointLat[p], g.pointLat[p + 1]) - minLat) / cellLat);
      const y1 = Math.floor((Math.max(g.pointLat[p], g.pointLat[p + 1]) - minLat) / cellLat);
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) cells[y * w + x].push(e, p);
    }
  }
  const cellStart = new Uint32Array(w * h + 1);
  let n = 0;
  cells.forEach((c, i) => {
    cellStart[i] = n;
    n += c.length / 2;
  });
  cellStart[w * h] = n;
  const segEdge = new Uint32Array(n);
  const segPoint = new Uint32Array(n);
  let k = 0;
  for (const c of cells) for (let j = 0; j < c.length; j += 2) (segEdge[k] = c[j]), (segPoint[k++] = c[j + 1]);
  return { minLon, minLat, cellLon, cellLat, w, h, cellStart, segEdge, segPoint };
}

export interface RoadPosition {
  edge: number;
  /** the nearest point on the edge */
  lon: number;
  lat: number;
  /** metres from the fix */
  distance: number;
  /** metres along the edge from its start */
  offset: number;
}

/** The nearest position on each edge within `radius` metres of (lon, lat), nearest first, at most `k`. */
export function nearestEdges(g: RoadGraph, ix: SegmentIndex, lon: number, lat: number, radius: number, k = 8): RoadPosition[] {
  const kx = metresPerDegLon(lat);
  const rx = Math.ceil(radius / (ix.cellLon * kx));
  const ry = Math.ceil(radius / (ix.cellLat * M_PER_DEG));
  const cx = Math.floor((lon - ix.minLon) / ix.cellLon);
  const cy = Math.floor((lat - ix.minLat) / ix.cellLat);
  const best = new Map<number, RoadPosition>();
  for (let y = Math.max(0, cy - ry); y <= Math.min(ix.h - 1, cy + ry); y++) {
    for (let x = Math.max(0, cx - rx); x <= Math.min(ix.w - 1, cx + rx); x++) {
      const c = y * ix.w + x;
      for (let j = ix.cellStart[c]; j < ix.cellStart[c + 1]; j++) {
        const e = ix.segEdge[j];
        const p = ix.segPoint[j];
        // project onto the segment in a local metric frame
        const { x, y, distance: d } = snapToSegment((g.pointLon[p] - lon) * kx, (g.pointLat[p] - lat) * M_PER_DEG, (g.pointLon[p + 1] - lon) * kx, (g.pointLat[p + 1] - lat) * M_PER_DEG);
        if (d > radius || (best.get(e)?.distance ?? Infinity) <= d) continue;
        const snapLon = lon + x / kx;
        const snapLat = lat + y / M_PER_DEG;
        // measured like edgeLength (haversine along the shape), so offsets and lengths agree
        let offset = haversine(g.pointLon[p], g.pointLat[p], snapLon, snapLat);
        for (let q = g.pointStart[e]; q < p; q++) offset += haversine(g.pointLon[q], g.pointLat[q], g.pointLon[q + 1], g.pointLat[q + 1]);
        best.set(e, { edge: e, lon: snapLon, lat: snapLat, distance: d, offset });
      }
    }
  }
  return [...best.values()].sort((a, b) => a.distance - b.distance).slice(0, k);
}
