// Candidates for one fix: the nearest position on each edge within `radius`, at most K, nearest first.
import { bearing, haversine, M_PER_DEG, metresPerDegLon, snap, snapToSegment } from '../geo';
import { cellFirst, ixCellLat, ixCellLon, ixH, ixMinLat, ixMinLon, ixW, len, pCum, pLat, pLon, segmentEdge, segmentPoint } from './graph';
import { K, radius } from './params';

const MAX_FOUND: i32 = 512;
// per edge found: the nearest point's distance, segment (its first shape point) and position
const foundDist = new StaticArray<f64>(MAX_FOUND);
const foundEdge = new StaticArray<i32>(MAX_FOUND);
const foundSeg = new StaticArray<i32>(MAX_FOUND);
const foundLon = new StaticArray<f64>(MAX_FOUND);
const foundLat = new StaticArray<f64>(MAX_FOUND);
let found: i32 = 0;
/** indexes of what was found, nearest first */
const order = new StaticArray<i32>(MAX_FOUND);
// which edges this query has a slot for already (stamped, so nothing is cleared between queries)
let edgeSlot = new StaticArray<i32>(0);
let edgeSeen = new StaticArray<u32>(0);
let query: u32 = 0;

// the result: candidate i of `count`, nearest first
export let count: i32 = 0;
export const cEdge = new StaticArray<i32>(MAX_FOUND);
export const cDist = new StaticArray<f64>(MAX_FOUND);
/** metres along the edge */
export const cOff = new StaticArray<f64>(MAX_FOUND);
/** compass bearing of the edge there, in its direction of travel */
export const cBearing = new StaticArray<f64>(MAX_FOUND);

export function resetCandidates(edges: i32): void {
  edgeSlot = new StaticArray<i32>(edges);
  edgeSeen = new StaticArray<u32>(edges);
  query = 0;
}

export function candidates(lon: f64, lat: f64): void {
  found = 0;
  count = 0;
  query++;
  const kx = metresPerDegLon(lat);
  // the cells the disc of `radius` touches
  const x0 = max(0, <i32>Math.floor((lon - radius / kx - ixMinLon) / ixCellLon));
  const x1 = min(ixW - 1, <i32>Math.floor((lon + radius / kx - ixMinLon) / ixCellLon));
  const y0 = max(0, <i32>Math.floor((lat - radius / M_PER_DEG - ixMinLat) / ixCellLat));
  const y1 = min(ixH - 1, <i32>Math.floor((lat + radius / M_PER_DEG - ixMinLat) / ixCellLat));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const c = y * ixW + x;
      const j1 = cellFirst(c + 1);
      for (let j = cellFirst(c); j < j1; j++) {
        const e = segmentEdge(j);
        const p = segmentPoint(j);
        // in a local metric frame centred on the fix
        const d = snapToSegment((pLon(p) - lon) * kx, (pLat(p) - lat) * M_PER_DEG, (pLon(p + 1) - lon) * kx, (pLat(p + 1) - lat) * M_PER_DEG);
        if (d > radius) continue;
        let slot = unchecked(edgeSeen[e]) == query ? unchecked(edgeSlot[e]) : -1;
        if (slot >= 0 && unchecked(foundDist[slot]) <= d) continue;
        if (slot < 0) {
          if (found == MAX_FOUND) continue;
          slot = found++;
          unchecked((edgeSeen[e] = query));
          unchecked((edgeSlot[e] = slot));
        }
        unchecked((foundEdge[slot] = e));
        unchecked((foundDist[slot] = d));
        unchecked((foundSeg[slot] = p));
        unchecked((foundLon[slot] = lon + snap.x / kx));
        unchecked((foundLat[slot] = lat + snap.y / M_PER_DEG));
      }
    }
  }
  // the K nearest, in order (insertion sort of indexes: `found` is small)
  for (let i = 0; i < found; i++) {
    const d = unchecked(foundDist[i]);
    let j = i - 1;
    while (j >= 0 && unchecked(foundDist[order[j]]) > d) {
      unchecked((order[j + 1] = order[j]));
      j--;
    }
    unchecked((order[j + 1] = i));
  }
  count = min(found, K);
  for (let b = 0; b < count; b++) {
    const i = order[b];
    const e = foundEdge[i];
    const p = foundSeg[i];
    cEdge[b] = e;
    cDist[b] = foundDist[i];
    // measured like edge lengths (haversine along the shape), so offsets and lengths agree
    cOff[b] = Math.min(len(e), pCum(p) + haversine(pLon(p), pLat(p), foundLon[i], foundLat[i]));
    cBearing[b] = bearing((pLon(p + 1) - pLon(p)) * kx, (pLat(p + 1) - pLat(p)) * M_PER_DEG);
  }
}
