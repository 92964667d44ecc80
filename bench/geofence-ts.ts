/**
 * The geofence kernel's containment algorithm (kernels/assembly/geofence.ts) in plain TypeScript, as the
 * benchmark's middle row: same fence grid, same latitude slabs, same ray cast. Only the language differs.
 */
type Ring = Float64Array; // x0,y0,x1,y1,... closed

interface Part {
  minY: number;
  bandH: number;
  bands: Int32Array[]; // per band: edge start offsets into ring coords (ringIndex << 20 | coordIndex)
  rings: Ring[];
}
interface TsFence {
  bbox: number[];
  parts: Part[];
}

const GRID = 64;

function partOf(rings: Ring[]): Part {
  let minY = Infinity;
  let maxY = -Infinity;
  let edges = 0;
  for (const r of rings) {
    edges += r.length / 2 - 1;
    for (let i = 1; i < r.length; i += 2) (minY = Math.min(minY, r[i])), (maxY = Math.max(maxY, r[i]));
  }
  const n = Math.max(1, Math.min(256, edges >> 3));
  const h = (maxY - minY) / n || 1;
  const lists: number[][] = Array.from({ length: n }, () => []);
  rings.forEach((r, ri) => {
    for (let c = 0; c < r.length / 2 - 1; c++) {
      const ya = Math.min(r[2 * c + 1], r[2 * c + 3]);
      const yb = Math.max(r[2 * c + 1], r[2 * c + 3]);
      const b0 = Math.max(0, Math.min(n - 1, Math.floor((ya - minY) / h)));
      const b1 = Math.max(0, Math.min(n - 1, Math.floor((yb - minY) / h)));
      for (let b = b0; b <= b1; b++) lists[b].push((ri << 20) | c);
    }
  });
  return { minY, bandH: h, bands: lists.map((l) => Int32Array.from(l)), rings };
}

function inPart(p: Part, x: number, y: number): boolean {
  const b = Math.floor((y - p.minY) / p.bandH);
  if (b < 0 || b >= p.bands.length) {
    if (y !== p.minY + p.bandH * p.bands.length) return false;
  }
  const band = p.bands[Math.max(0, Math.min(p.bands.length - 1, b))];
  let inside = false;
  for (let j = 0; j < band.length; j++) {
    const r = p.rings[band[j] >> 20];
    const c = (band[j] & 0xfffff) * 2;
    const x1 = r[c], y1 = r[c + 1], x2 = r[c + 2], y2 = r[c + 3];
    if (Math.min(y1, y2) <= y && y <= Math.max(y1, y2) && Math.min(x1, x2) <= x && x <= Math.max(x1, x2) && (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1) === 0) return true;
    if (y1 > y !== y2 > y && x < x1 + ((y - y1) * (x2 - x1)) / (y2 - y1)) inside = !inside;
  }
  return inside;
}

export class TsGeofence {
  private readonly fences: TsFence[];
  private readonly grid: number[][];
  private readonly g: { minX: number; minY: number; w: number; h: number };

  constructor(geojson: { features: { geometry: { type: string; coordinates: number[][][] | number[][][][] } }[] }) {
    this.fences = geojson.features.map((f) => {
      const polys = (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates) as number[][][][];
      const parts = polys.map((poly) => partOf(poly.map((ring) => Float64Array.from(ring.flat()))));
      const bbox = [Infinity, Infinity, -Infinity, -Infinity];
      for (const p of parts) for (const r of p.rings) for (let i = 0; i < r.length; i += 2) {
        bbox[0] = Math.min(bbox[0], r[i]);
        bbox[1] = Math.min(bbox[1], r[i + 1]);
        bbox[2] = Math.max(bbox[2], r[i]);
        bbox[3] = Math.max(bbox[3], r[i + 1]);
      }
      return { bbox, parts };
    });
    const minX = Math.min(...this.fences.map((f) => f.bbox[0]));
    const minY = Math.min(...this.fences.map((f) => f.bbox[1]));
    const w = (Math.max(...this.fences.map((f) => f.bbox[2])) - minX) / GRID || 1;
    const h = (Math.max(...this.fences.map((f) => f.bbox[3])) - minY) / GRID || 1;
    this.g = { minX, minY, w, h };
    this.grid = Array.from({ length: GRID * GRID }, () => []);
    this.fences.forEach((f, i) => {
      for (let y = this.gy(f.bbox[1]); y <= this.gy(f.bbox[3]); y++) for (let x = this.gx(f.bbox[0]); x <= this.gx(f.bbox[2]); x++) this.grid[y * GRID + x].push(i);
    });
  }

  private gx(x: number) {
    return Math.max(0, Math.min(GRID - 1, Math.floor((x - this.g.minX) / this.g.w)));
  }
  private gy(y: number) {
    return Math.max(0, Math.min(GRID - 1, Math.floor((y - this.g.minY) / this.g.h)));
  }

  /** indexes of the fences containing (x, y) */
  contains(x: number, y: number): number[] {
    const out: number[] = [];
    if (x < this.g.minX || y < this.g.minY) return out;
    for (const i of this.grid[this.gy(y) * GRID + this.gx(x)]) {
      const f = this.fences[i];
      if (x < f.bbox[0] || x > f.bbox[2] || y < f.bbox[1] || y > f.bbox[3]) continue;
      if (f.parts.some((p) => inPart(p, x, y))) out.push(i);
    }
    return out;
  }
}
