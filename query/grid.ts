import { R_EARTH } from '../network/geo.ts';

const RAD = Math.PI / 180;

/** What the grid holds: a position, and where in the grid it sits (the grid's to write). */
export interface Placed {
  lon: number;
  lat: number;
  cell: number;
  at: number;
}

/**
 * A uniform grid of square cells in degrees, updated in place: moving an item is a swap-remove from one
 * cell's array and a push onto another's, O(1), so 100,000 vehicles at 1 Hz cost no rebuild (docs/query.md
 * has the figures against a kdbush rebuilt each tick). The grid does not wrap at ±180°.
 */
export class Grid<T extends Placed> {
  private readonly cells = new Map<number, T[]>();
  // the cells ever used: a search stops once it has covered them
  private minX = Infinity;
  private maxX = -Infinity;
  private minY = Infinity;
  private maxY = -Infinity;

  /** `size`: a cell's side, degrees */
  constructor(readonly size: number) {}

  private key = (x: number, y: number) => (x + 65536) * 131072 + (y + 65536);

  insert(item: T): void {
    const x = Math.floor(item.lon / this.size);
    const y = Math.floor(item.lat / this.size);
    item.cell = this.key(x, y);
    let cell = this.cells.get(item.cell);
    if (!cell) this.cells.set(item.cell, (cell = []));
    item.at = cell.length;
    cell.push(item);
    if (x < this.minX) this.minX = x;
    if (x > this.maxX) this.maxX = x;
    if (y < this.minY) this.minY = y;
    if (y > this.maxY) this.maxY = y;
  }

  remove(item: T): void {
    const cell = this.cells.get(item.cell)!;
    const last = cell.pop()!;
    if (last !== item) {
      cell[item.at] = last;
      last.at = item.at;
    }
    if (cell.length === 0) this.cells.delete(item.cell);
  }

  /** moves `item` to (lon, lat) */
  move(item: T, lon: number, lat: number): void {
    const same = Math.floor(lon / this.size) === Math.floor(item.lon / this.size) && Math.floor(lat / this.size) === Math.floor(item.lat / this.size);
    if (!same) this.remove(item);
    item.lon = lon;
    item.lat = lat;
    if (!same) this.insert(item);
  }

  /** every item in the cells the box touches (callers test the exact shape) */
  *inBox(west: number, south: number, east: number, north: number): Generator<T> {
    const x0 = Math.max(this.minX, Math.floor(west / this.size));
    const x1 = Math.min(this.maxX, Math.floor(east / this.size));
    const y0 = Math.max(this.minY, Math.floor(south / this.size));
    const y1 = Math.min(this.maxY, Math.floor(north / this.size));
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) yield* this.cells.get(this.key(x, y)) ?? [];
  }

  /**
   * Visits the cells ring by ring outwards from (lon, lat), each item once, while `far(bound)` says a ring
   * whose items are all at least `bound` metres away may still hold an answer.
   */
  around(lon: number, lat: number, visit: (item: T) => void, far: (bound: number) => boolean): void {
    const s = this.size;
    const cx = Math.floor(lon / s);
    const cy = Math.floor(lat / s);
    const at = (x: number, y: number) => {
      if (x < this.minX || x > this.maxX || y < this.minY || y > this.maxY) return;
      const cell = this.cells.get(this.key(x, y));
      if (cell) for (const item of cell) visit(item);
    };
    for (let r = 0; ; r++) {
      if (r > 0) {
        // the cells visited so far: every used cell, or a bound past which nothing can answer
        const [x0, x1, y0, y1] = [cx - r + 1, cx + r - 1, cy - r + 1, cy + r - 1];
        if (x0 <= this.minX && x1 >= this.maxX && y0 <= this.minY && y1 >= this.maxY) return;
        if (!far(outside(lon, lat, x0 * s, y0 * s, (x1 + 1) * s, (y1 + 1) * s))) return;
      }
      const [xa, xb] = [Math.max(cx - r, this.minX), Math.min(cx + r, this.maxX)];
      for (let x = xa; x <= xb; x++) {
        at(x, cy - r);
        if (r > 0) at(x, cy + r);
      }
      const [ya, yb] = [Math.max(cy - r + 1, this.minY), Math.min(cy + r - 1, this.maxY)];
      for (let y = ya; y <= yb && r > 0; y++) {
        at(cx - r, y);
        at(cx + r, y);
      }
    }
  }
}

/**
 * A lower bound, metres, on the distance from (lon, lat), inside the box, to any point outside it: to a
 * parallel the shortest way is along the meridian; to a meridian, the perpendicular to its great circle.
 */
function outside(lon: number, lat: number, west: number, south: number, east: number, north: number): number {
  const toMeridian = (dLon: number) => R_EARTH * Math.asin(Math.sin(Math.min(90, dLon) * RAD) * Math.cos(lat * RAD));
  return Math.min((lat - south) * RAD * R_EARTH, (north - lat) * RAD * R_EARTH, toMeridian(lon - west), toMeridian(east - lon));
}
