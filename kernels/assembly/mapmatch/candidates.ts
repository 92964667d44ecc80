// Candidates for one fix: the nearest position on each edge within `radius`, nearest first, at most K.
import { haversine, M_PER_DEG, metresPerDegLon, snap, snapToSegment } from '../geo';
import { cellFirst, ixCellLat, ixCellLon, ixH, ixMinLat, ixMinLon, ixW, len, pCum, pLat, pLon, segmentEdge, segmentPoint } from './graph';
import { K, radius } from './params';

const MAX_FOUND: i32 = 512;
export const foundEdge = new StaticArray<i32>(MAX_FOUND);
export const foundDist = new StaticArray<f64>(MAX_FOUND);
export const foundOff = new StaticArray<f64>(MAX_FOUND);
export const foundLon = new StaticArray<f64>(MAX_FOUND);
export const foundLat = new StaticArray<f64>(MAX_FOUND);
export let found: i32 = 0;
// which edges this query has a slot for already (stamped, so nothing is cleared between queries)
let edgeSlot = new StaticArray<i32>(0);
let edgeSeen = new StaticArray<u32>(0);
let query: u32 = 0;

export function resetCandidates(edges: i32): void {
  edgeSlot = new StaticArray<i32>(edges);
  edgeSeen = new StaticArray<u32>(edges);
  query = 0;
}

export function candidates(lon: f64, lat: f64): void {
  found = 0;
  query++;
  const kx = metresPerDegLon(lat);
  const rx = <i32>Math.ceil(radius / (ixCellLon * kx));
  const ry = <i32>Math.ceil(radius / (ixCellLat * M_PER_DEG));
  const cx = <i32>Math.floor((lon - ixMinLon) / ixCellLon);
  const cy = <i32>Math.floor((lat - ixMinLat) / ixCellLat);
  if (cx + rx < 0 || cy + ry < 0 || cx - rx >= ixW || cy - ry >= ixH) return;
  const y1 = min(ixH - 1, cy + ry);
  const x1 = min(ixW - 1, cx + rx);
  for (let y = max(0, cy - ry); y <= y1; y++) {
    for (let x = max(0, cx - rx); x <= x1; x++) {
      const c = y * ixW + x;
      const j1 = cellFirst(c + 1);
      for (let j = cellFirst(c); j < j1; j++) {
        const e = segmentEdge(j);
        const p = segmentPoint(j);
        // in a local metric frame centred on the fix
        const d = snapToSegment((pLon(p) - lon) * kx, (pLat(p) - lat) * M_PER_DEG, (pLon(p + 1) - lon) * kx, (pLat(p + 1) - lat) * M_PER_DEG);
        if (d > radius) continue;
        let slot = edgeSeen[e] == query ? edgeSlot[e] : -1;
        if (slot >= 0 && foundDist[slot] <= d) continue;
        if (slot < 0) {
          if (found == MAX_FOUND) continue;
          slot = found++;
          edgeSeen[e] = query;
          edgeSlot[e] = slot;
        }
        const sLon = lon + snap.x / kx;
        const sLat = lat + snap.y / M_PER_DEG;
        foundEdge[slot] = e;
        foundDist[slot] = d;
        foundLon[slot] = sLon;
        foundLat[slot] = sLat;
        // measured like edge lengths (haversine along the shape), so offsets and lengths agree
        foundOff[slot] = Math.min(len(e), pCum(p) + haversine(pLon(p), pLat(p), sLon, sLat));
      }
    }
  }
  // the K nearest to the front (insertion sort: `found` is small)
  for (let i = 1; i < found; i++) {
    const e = foundEdge[i], d = foundDist[i], o = foundOff[i], lo = foundLon[i], la = foundLat[i];
    let j = i - 1;
    while (j >= 0 && foundDist[j] > d) {
      foundEdge[j + 1] = foundEdge[j];
      foundDist[j + 1] = foundDist[j];
      foundOff[j + 1] = foundOff[j];
      foundLon[j + 1] = foundLon[j];
      foundLat[j + 1] = foundLat[j];
      j--;
    }
    foundEdge[j + 1] = e;
    foundDist[j + 1] = d;
    foundOff[j + 1] = o;
    foundLon[j + 1] = lo;
    foundLat[j + 1] = la;
  }
  if (found > K) found = K;
}
