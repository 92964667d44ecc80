import { skipsLate } from '../codecs/late-fix.ts';
import { haversine, M_PER_DEG } from '../network/geo.ts';
import { inBBox, intersects, isWithin, type BBox, type Shape } from './geojson.ts';
import { Grid, type Placed } from './grid.ts';
import { DEFAULT_CELL, DEFAULT_TTL } from './fleet-params.ts';

/** One vehicle as the index knows it: where it was last, how it moved, and what is known about it. */
export interface Vehicle {
  deviceId: string;
  lon: number;
  lat: number;
  /** epoch ms of the fix the position is from */
  t: number;
  /** m/s, null when the device did not say */
  speed: number | null;
  /** degrees clockwise from north, null when the device did not say */
  heading: number | null;
  /** the road edge it was last matched to (the mapmatch kernel's), and its OSM way */
  edge?: number;
  wayId?: number;
  /** whether lon/lat is the map-matched point of the newest fix (else the fix as reported) */
  matched: boolean;
  /** the fences it is inside (from the geofence events observed) */
  fences: string[];
  /** user fields: any field of a fix beyond a fix's own, and what POST /v1/fields set */
  fields: Record<string, unknown>;
}

/** A query's answer: the vehicle, and for nearby its distance, metres. */
export type Hit = Vehicle & { distance?: number };

/**
 * `status: free` must equal, as text, the vehicle's field of that name: a text field the same text, a number
 * or true/false its JSON (`seats: "4"`, `ev: "true"`); a field that holds an object, an array or null
 * matches no `where` (its text would be "[object Object]").
 */
export type Where = Record<string, string>;

interface Entry extends Placed {
  v: Vehicle;
  /** clock ms of the last update: the TTL counts from it */
  seen: number;
  /** positions older than the vehicle's skipped since it last moved (codecs/late-fix.ts) */
  late: number;
}

export interface FleetIndexOptions {
  /** seconds a vehicle stays without an update (default 300) */
  ttl?: number;
  /** a grid cell's side, metres (default 250) */
  cell?: number;
  now?: () => number;
}

const asText = (x: unknown): string | undefined => (typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' ? String(x) : undefined);

const matches = (v: Vehicle, where: Where | undefined) => !where || Object.entries(where).every(([k, want]) => asText(v.fields[k]) === want);

/** how often (clock ms) the index looks for vehicles past their TTL: a vehicle leaves at most this late */
const SWEEP_EVERY = 1000;

/**
 * The fleet's latest positions and what is known about each vehicle, in a grid for nearby / within /
 * intersects. A vehicle not updated for `ttl` seconds leaves, found by a sweep of all of them at most once
 * a second (100,000 vehicles: about a millisecond; an ordered map re-inserted at each update instead slowed
 * every update, its deleted slots piling up where the sweep starts: npm run bench -- query).
 */
export class FleetIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly grid: Grid<Entry>;
  private readonly ttl: number;
  private readonly now: () => number;
  /** vehicles that left for want of an update */
  expired = 0;
  private swept = -Infinity;

  constructor(o: FleetIndexOptions = {}) {
    this.ttl = (o.ttl ?? DEFAULT_TTL) * 1000;
    this.grid = new Grid((o.cell ?? DEFAULT_CELL) / M_PER_DEG);
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    this.expire();
    return this.entries.size;
  }

  get(deviceId: string): Vehicle | undefined {
    this.expire();
    return this.entries.get(deviceId)?.v;
  }

  /**
   * A position for `deviceId` (a fix, or a matched point), taken when it is not older than the one held:
   * a match arrives after the fix it snaps, so at the same time the matched point wins. `edge` marks a match.
   * An older fix is skipped as late (false) — two in a row, as the kernels do: the third is taken, so a
   * phone that once sent a time a year ahead is not held there while its true fixes arrive. An older match
   * is skipped as what it is, a matcher lagging the fixes.
   */
  position(deviceId: string, p: { t: number; lon: number; lat: number; speed?: number | null; heading?: number | null; edge?: number; wayId?: number }): boolean {
    this.expire();
    const e = this.entries.get(deviceId);
    if (!e) {
      const v: Vehicle = { deviceId, lon: p.lon, lat: p.lat, t: p.t, speed: p.speed ?? null, heading: p.heading ?? null, matched: p.edge !== undefined, fences: [], fields: {} };
      if (p.edge !== undefined) Object.assign(v, { edge: p.edge, wayId: p.wayId });
      const entry: Entry = { v, lon: p.lon, lat: p.lat, cell: 0, at: 0, seen: this.now(), late: 0 };
      this.grid.insert(entry);
      this.entries.set(deviceId, entry);
      return true;
    }
    const v = e.v;
    const match = p.edge !== undefined;
    if ((p.t === v.t && v.matched && !match) || (match && p.t < v.t)) return true;
    // a late position keeps nothing alive
    if (skipsLate(p.t, v.t, e.late)) {
      e.late++;
      return false;
    }
    e.late = 0;
    this.touch(e);
    if (match) Object.assign(v, { edge: p.edge, wayId: p.wayId });
    v.t = p.t;
    v.matched = match;
    if (p.speed !== undefined) v.speed = p.speed;
    if (p.heading !== undefined) v.heading = p.heading;
    this.grid.move(e, p.lon, p.lat);
    v.lon = p.lon;
    v.lat = p.lat;
    return true;
  }

  /** a geofence event: in or out of `fence`; false when the vehicle is not in the index */
  fence(deviceId: string, fence: string, inside: boolean): boolean {
    const e = this.entries.get(deviceId);
    if (!e) return false;
    this.touch(e);
    const fences = e.v.fences.filter((f) => f !== fence);
    e.v.fences = inside ? [...fences, fence] : fences;
    return true;
  }

  /** merges user fields (a null removes one); false when the vehicle is not in the index */
  setFields(deviceId: string, fields: Record<string, unknown>): boolean {
    this.expire();
    const e = this.entries.get(deviceId);
    if (!e) return false;
    for (const [k, value] of Object.entries(fields)) {
      if (value === null) delete e.v.fields[k];
      else e.v.fields[k] = value;
    }
    return true;
  }

  /** the `k` nearest vehicles within `radius` metres (default: any distance), nearest first; copies, as every answer here */
  nearby(q: { lon: number; lat: number; k: number; radius?: number; where?: Where }): Hit[] {
    this.expire();
    const radius = q.radius ?? Infinity;
    // the best so far, nearest first; a vehicle is copied into its answer only once it is among the k
    const best: Vehicle[] = [];
    const dist: number[] = [];
    this.grid.around(
      q.lon,
      q.lat,
      ({ v }) => {
        const d = haversine(q.lon, q.lat, v.lon, v.lat);
        if (d > radius || (best.length === q.k && d >= dist[q.k - 1]) || !matches(v, q.where)) return;
        let i = best.length;
        while (i > 0 && dist[i - 1] > d) i--;
        best.splice(i, 0, v);
        dist.splice(i, 0, d);
        if (best.length > q.k) (best.pop(), dist.pop());
      },
      (bound) => bound <= radius && (best.length < q.k || bound < dist[q.k - 1]),
    );
    // the distance second, beside the id: what an answer is read for
    return best.map((v, i) => Object.assign({ deviceId: v.deviceId, distance: dist[i] }, v));
  }

  /** the vehicles inside the box (edges included), by deviceId */
  withinBox(b: BBox, where?: Where): Vehicle[] {
    return this.select(b, (v) => inBBox(b, v.lon, v.lat), where);
  }

  /** the vehicles strictly inside the shape's polygons */
  within(s: Shape, where?: Where): Vehicle[] {
    return this.select(s.bbox, (v) => isWithin(s, v.lon, v.lat), where);
  }

  /** the vehicles inside or on the shape */
  intersecting(s: Shape, where?: Where): Vehicle[] {
    return this.select(s.bbox, (v) => intersects(s, v.lon, v.lat), where);
  }

  private select(b: BBox, test: (v: Vehicle) => boolean, where: Where | undefined): Vehicle[] {
    this.expire();
    const out: Vehicle[] = [];
    for (const { v } of this.grid.inBox(...b)) if (test(v) && matches(v, where)) out.push({ ...v });
    return out.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  private touch(e: Entry): void {
    e.seen = this.now();
  }

  private expire(): void {
    const now = this.now();
    if (now - this.swept < SWEEP_EVERY) return;
    this.swept = now;
    const before = now - this.ttl;
    for (const e of this.entries.values()) {
      if (e.seen > before) continue;
      this.entries.delete(e.v.deviceId);
      this.grid.remove(e);
      this.expired++;
    }
  }
}
