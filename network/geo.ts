/**
 * Geometry the TypeScript side shares, written once: distances on the earth, a local metric frame, snapping
 * a point to a segment, and a binary min-heap for graph searches. (The AssemblyScript kernels have theirs,
 * the same formulas, in kernels/assembly/geo.ts.)
 */

/** metres per degree of latitude (and of longitude at the equator) */
export const M_PER_DEG = 111_320;
/** mean earth radius, metres (IUGG), the radius edges are measured with */
export const R_EARTH = 6_371_008.8;
const RAD = Math.PI / 180;

/** metres per degree of longitude at `lat`: the x scale of the local equirectangular frame */
export const metresPerDegLon = (lat: number): number => M_PER_DEG * Math.cos(lat * RAD);

/** great-circle distance, metres */
export function haversine(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const s1 = Math.sin(((lat2 - lat1) * RAD) / 2);
  const s2 = Math.sin(((lon2 - lon1) * RAD) / 2);
  const a = s1 * s1 + Math.cos(lat1 * RAD) * Math.cos(lat2 * RAD) * s2 * s2;
  return 2 * R_EARTH * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** metres east and north of (lon0, lat0) to (lon, lat), in the local frame at lat0: exact enough below a few km */
export const metresFrom = (lon0: number, lat0: number, lon: number, lat: number): [number, number] => [(lon - lon0) * metresPerDegLon(lat0), (lat - lat0) * M_PER_DEG];

/** the position `dx` metres east and `dy` north of (lon, lat), in the local frame there */
export const offsetBy = (lon: number, lat: number, dx: number, dy: number): [number, number] => [lon + dx / metresPerDegLon(lat), lat + dy / M_PER_DEG];

/** Where a point snaps to a segment: the fraction along it, the nearest point and its distance, in the caller's frame. */
export interface Snap {
  t: number;
  x: number;
  y: number;
  distance: number;
}

/** The point of segment a→b nearest the origin of a local metric frame (the query point at 0,0). */
export function snapToSegment(ax: number, ay: number, bx: number, by: number): Snap {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2)) : 0;
  const x = ax + t * dx;
  const y = ay + t * dy;
  return { t, x, y, distance: Math.hypot(x, y) };
}

/** A binary min-heap of (key, value) pairs in typed arrays that grow as needed; stale entries are the caller's to skip. */
export class MinHeap {
  private keys = new Float64Array(1024);
  private values = new Uint32Array(1024);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0];
  }

  push(key: number, value: number): void {
    if (this.size === this.keys.length) {
      const [k, v] = [new Float64Array(this.size * 2), new Uint32Array(this.size * 2)];
      k.set(this.keys);
      v.set(this.values);
      [this.keys, this.values] = [k, v];
    }
    const { keys, values } = this;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      values[i] = values[parent];
      i = parent;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** removes the top and returns its value */
  pop(): number {
    const { keys, values } = this;
    const top = values[0];
    const last = --this.size;
    const key = keys[last];
    const value = values[last];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      if (c + 1 < last && keys[c + 1] < keys[c]) c++;
      if (keys[c] >= key) break;
      keys[i] = keys[c];
      values[i] = values[c];
      i = c;
    }
    keys[i] = key;
    values[i] = value;
    return top;
  }
}

/** even-odd crossing test: is the point inside the ring (an OSM area's holes, the fleet's queries) */
export function inRing([x, y]: [number, number], ring: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
