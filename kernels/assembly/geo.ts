// Geometry the kernels share: distances on the earth, a local metric frame, snapping a point to a segment,
// and a binary min-heap for graph searches. Not a kernel itself (it exports no `process`).

/** metres per degree of latitude (and of longitude at the equator) */
export const M_PER_DEG: f64 = 111320;
/** mean earth radius, metres (IUGG), as network/road-graph.ts measures edges */
export const R_EARTH: f64 = 6371008.8;
const RAD: f64 = Math.PI / 180;

/** metres per degree of longitude at `lat`: the x scale of the local equirectangular frame */
@inline export function metresPerDegLon(lat: f64): f64 {
  return M_PER_DEG * Math.cos(lat * RAD);
}

/** great-circle distance, metres */
export function haversine(lon1: f64, lat1: f64, lon2: f64, lat2: f64): f64 {
  const s1 = Math.sin(((lat2 - lat1) * RAD) / 2);
  const s2 = Math.sin(((lon2 - lon1) * RAD) / 2);
  const a = s1 * s1 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * s2 * s2;
  return 2 * R_EARTH * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** distance in the equirectangular frame at the two points' mean latitude: exact enough below a few km */
export function localMetres(lon1: f64, lat1: f64, lon2: f64, lat2: f64): f64 {
  const dx = (lon2 - lon1) * metresPerDegLon((lat1 + lat2) * 0.5);
  const dy = (lat2 - lat1) * M_PER_DEG;
  return Math.sqrt(dx * dx + dy * dy);
}

/** compass bearing of the direction (dx east, dy north), degrees clockwise from north in [0, 360) */
@inline export function bearing(dx: f64, dy: f64): f64 {
  const b = Math.atan2(dx, dy) / RAD;
  return b < 0 ? b + 360 : b;
}

/** the smaller angle between two bearings, degrees in [0, 180] */
@inline export function angleBetween(a: f64, b: f64): f64 {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
}

/** Where the last snapToSegment() call landed: the fraction along the segment and the point, in metres. */
export class Snap {
  t: f64 = 0;
  x: f64 = 0;
  y: f64 = 0;
}
export const snap = new Snap();

/**
 * The point of segment a→b nearest the origin of a local metric frame (coordinates in metres, the query
 * point at 0,0); returns its distance and leaves the point in `snap`.
 */
export function snapToSegment(ax: f64, ay: f64, bx: f64, by: f64): f64 {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2)) : 0;
  const x = ax + t * dx;
  const y = ay + t * dy;
  snap.t = t;
  snap.x = x;
  snap.y = y;
  return Math.sqrt(x * x + y * y);
}

/** A binary min-heap of (key, value) pairs in fixed storage, for Dijkstra: stale entries are the caller's to skip. */
export class MinHeap {
  keys: StaticArray<f64>;
  values: StaticArray<i32>;
  size: i32 = 0;

  constructor(capacity: i32) {
    this.keys = new StaticArray<f64>(capacity);
    this.values = new StaticArray<i32>(capacity);
  }

  @inline clear(): void { this.size = 0; }
  @inline topKey(): f64 { return unchecked(this.keys[0]); }
  @inline topValue(): i32 { return unchecked(this.values[0]); }

  /** false when full: the caller sized the heap for its worst case, so this is a bound, not a loss */
  push(key: f64, value: i32): bool {
    if (this.size >= this.keys.length) return false;
    const keys = this.keys;
    const values = this.values;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (unchecked(keys[parent]) <= key) break;
      unchecked((keys[i] = keys[parent]));
      unchecked((values[i] = values[parent]));
      i = parent;
    }
    unchecked((keys[i] = key));
    unchecked((values[i] = value));
    return true;
  }

  /** removes the top; the caller read it first */
  pop(): void {
    const keys = this.keys;
    const values = this.values;
    const last = --this.size;
    const key = unchecked(keys[last]);
    const value = unchecked(values[last]);
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && unchecked(keys[c + 1]) < unchecked(keys[c])) c++;
      if (unchecked(keys[c]) >= key) break;
      unchecked((keys[i] = keys[c]));
      unchecked((values[i] = values[c]));
      i = c;
    }
    unchecked((keys[i] = key));
    unchecked((values[i] = value));
  }
}
