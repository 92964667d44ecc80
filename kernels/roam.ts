import type { GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { fixFields } from './host/rows.ts';
import { Kernel, KernelWrapper, type KernelOptions } from './kernel.ts';

/** Parameters of the roam kernel (kernels/assembly/roam.ts, its schema has each one's doc); metres and seconds. */
export interface RoamParams {
  /** two devices nearer than this are nearby (default 50) */
  distance?: number;
  /** device id pattern of group A (`*` any characters, `?` one): only pairs within A, or, with `b`, between A and B */
  a?: string;
  /** device id pattern of group B: only pairs of a device of A and one of B */
  b?: string;
  /** metres: a pair is in the new state only this far past the distance, and a fix counts only by how far beyond (default 3) */
  hysteresis?: number;
  /** metres the fixes since the change must add up to past the hysteresis (default 20) */
  evidence?: number;
  /** seconds the new state must also have held, judged at a fix (default 9.5) */
  confirm?: number;
  /** m/s: a fix further from its device's last than this allows is an outlier and ignored (default 60) */
  maxSpeed?: number;
  /** seconds: a device whose last fix is further than this in time from the fix at hand is not compared (default 10) */
  stale?: number;
  /** how far a fix moves the device's position from where its speed and heading put it, 0 to 1 (default 0.15; 1: the fix itself) */
  smoothing?: number;
  /** bring the other device's last fix to this fix's time by its speed and heading (default true) */
  extrapolate?: boolean;
}

/** Tile38's ROAM, debounced: two devices came within the distance of each other, or parted. */
export interface RoamEvent {
  kind: 'roam';
  detect: 'nearby' | 'faraway';
  /** the device whose fix confirmed the change, and that fix's place */
  deviceId: string;
  point: [number, number];
  /** when the two came near, or parted: the first fix of the new state */
  time: string;
  /** the time of the fix that confirmed it, when the event was emitted */
  confirmed: string;
  /** the other device, where it was then (its last fix brought forward) and how far apart they were, metres */
  other: { deviceId: string; point: [number, number]; distance: number };
}

const DETECT = ['nearby', 'faraway'] as const;
// the bits of a device's id the kernel reads its groups from (kernels/assembly/roam.ts)
const GROUP_A = 1 << 30;
const GROUP_B = 2 ** 31;

/** `*` any characters, `?` one, the rest literally */
export function idPattern(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** What marks a device's id with its groups, from the params' patterns. */
export function groupTag(params: Pick<RoamParams, 'a' | 'b'>): (deviceId: string) => number {
  const a = params.a ? idPattern(params.a) : undefined;
  const b = params.b ? idPattern(params.b) : undefined;
  return (id) => (a?.test(id) ? GROUP_A : 0) + (b?.test(id) ? GROUP_B : 0);
}

/** The roam kernel as a TypeScript object: fixes in, nearby and faraway events out. */
export class RoamKernel extends KernelWrapper {
  private constructor(kernel: Kernel) {
    super(kernel);
  }

  static create(params: RoamParams, setup: KernelOptions): RoamKernel {
    return new RoamKernel(Kernel.create(params, { ...setup, deviceTag: groupTag(params) }));
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): RoamEvent[] {
    const b = this.kernel.fit(fixes);
    const { n, cols } = this.kernel.rows(b);
    const { row, other, detect, at, distance, otherLon, otherLat } = cols;
    const events = new Array<RoamEvent>(n);
    for (let i = 0; i < n; i++) {
      const fix = fixFields(b, row[i]);
      events[i] = {
        kind: 'roam',
        detect: DETECT[detect[i]],
        deviceId: fix.deviceId,
        point: fix.point,
        time: new Date(at[i]).toISOString(),
        confirmed: fix.time,
        other: { deviceId: this.kernel.deviceName(other[i]), point: [otherLon[i], otherLat[i]], distance: Math.round(distance[i] * 10) / 10 },
      };
    }
    return events;
  }

  /** Nothing is held back: every event comes with its fix. */
  flush(): RoamEvent[] {
    return [];
  }
}
