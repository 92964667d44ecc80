import { toBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { Fence } from './fence-compiler.ts';
import { fixFields } from './host/rows.ts';
import { Kernel, KernelWrapper, type KernelOptions } from './kernel.ts';

export const DETECTS = ['enter', 'exit', 'inside', 'outside', 'cross', 'dwell'] as const;
export type Detect = (typeof DETECTS)[number];

export interface GeofenceParams {
  /** GeoJSON: a FeatureCollection or a Feature of Polygons, MultiPolygons, or Points with properties.radius (m) */
  fences: object;
  /** default: enter, exit, cross, dwell */
  detect?: Detect[];
  /** seconds inside a fence before `dwell` fires, once per visit (default 300) */
  dwell?: number;
  /** one `inside` event per fence containing each fix, and no per-device state (what `contains()` needs) */
  contains?: boolean;
  /** enter and exit only once the fixes are clear of the boundary on the new side (default true); false: an event at every raw change */
  debounce?: boolean;
  /** metres: a fix counts for the new side only by how far past the boundary beyond this it is (default 3; fed map-matched positions, 0) */
  hysteresis?: number;
  /** metres the fixes since the change must add up to past the hysteresis (default 20) */
  evidence?: number;
  /** seconds the new side must also have held, judged at the next fix (default 9) */
  confirm?: number;
  /**
   * the confirm wait counts the current run of fixes on the new side, a fix back across restarting it (true: what
   * map-matched positions want); false (the default): from the probation's first fix on the new side, so fixes
   * wobbling back within the noise of raw gps do not
   */
  confirmRun?: boolean;
  /**
   * date a debounced enter or exit where the line from the last fix before the new side to the first on it
   * crosses the boundary, split by their distances to it (default true); false: at that first fix
   */
  crossing?: boolean;
  /** times a fix's `accuracy` (m) added to the hysteresis (default 0) */
  accuracy?: number;
  /** m/s: a fix further from the last one than this allows is an outlier and ignored (default 60) */
  maxSpeed?: number;
}

/** Event JSON in the spirit of Tile38's hook messages. */
export interface GeofenceEvent {
  kind: 'geofence';
  detect: Detect;
  fence: { id: string; name: string };
  deviceId: string;
  /** when the new state began: for a debounced enter or exit the crossing estimate (`crossing`; else the first fix on the new side) */
  time: string;
  point: [number, number];
  /** a debounced enter or exit: the time of the fix that confirmed it, when the event was emitted */
  confirmed?: string;
}

/** The geofence kernel as a TypeScript object: fixes in, Tile38-style events out. */
export class GeofenceKernel extends KernelWrapper {
  private constructor(kernel: Kernel) {
    super(kernel);
  }

  /**
   * `source` names the fences in errors (their file); `contains: true` (as an option, or a param) makes a
   * kernel that reports, per fix, the fences containing it, and keeps no per-device state.
   */
  static create(params: GeofenceParams, setup: KernelOptions & { contains?: boolean }): GeofenceKernel {
    return new GeofenceKernel(Kernel.create(setup.contains ? { ...params, contains: true } : params, setup));
  }

  get fences(): Fence[] {
    return this.kernel.fences!;
  }

  /** what compiled but is likely not what was meant (a ring that crosses itself) */
  get warnings(): string[] {
    return this.kernel.warnings;
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): GeofenceEvent[] {
    const b = this.kernel.fit(fixes);
    const { n, cols } = this.kernel.rows(b);
    const { row, fence, detect, at, atLon, atLat } = cols;
    const events = new Array<GeofenceEvent>(n);
    for (let i = 0; i < n; i++) {
      const f = this.fences[fence[i]];
      const e: GeofenceEvent = { kind: 'geofence', detect: DETECTS[detect[i]], fence: { id: f.id, name: f.name }, ...fixFields(b, row[i]) };
      if (at[i] !== b.t[row[i]]) {
        e.confirmed = e.time;
        e.time = new Date(at[i]).toISOString();
        e.point = [atLon[i], atLat[i]];
      }
      events[i] = e;
    }
    return events;
  }

  /** Nothing is held back: every event comes with its fix. */
  flush(): GeofenceEvent[] {
    return [];
  }

  /**
   * For each fix, the indexes (into `fences`) of the fences containing it. Needs a kernel made with
   * `contains: true`, which keeps no per-device state.
   */
  contains(fixes: GpsBatch | readonly GpsRecord[]): number[][] {
    const b = toBatch(fixes);
    const { n, cols } = this.kernel.rows(b);
    const out = Array.from({ length: b.n }, () => [] as number[]);
    for (let i = 0; i < n; i++) out[cols.row[i]].push(cols.fence[i]);
    return out;
  }
}
