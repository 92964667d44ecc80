import type { GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { Rows } from './host/rows.ts';
import { Kernel, KernelWrapper, type KernelOptions } from './kernel.ts';

/** Parameters of the hotspot kernel (kernels/assembly/hotspot.ts, its schema has each one's doc); lengths in metres, times in seconds. */
export interface HotspotParams {
  cellSize?: number;
  band?: number;
  window?: number;
  slide?: number;
  zThreshold?: number;
  minCount?: number;
  /** true: weigh each fix by its speed instead of counting it */
  weightBySpeed?: boolean;
  gridWidth?: number;
  gridHeight?: number;
  originLon?: number;
  originLat?: number;
}

export interface HotspotEvent {
  kind: 'hotspot';
  detect: 'hot' | 'cooled';
  cell: { id: string; bbox: [number, number, number, number] };
  z: number;
  count: number;
  window: { start: string; end: string };
}

const DETECT = ['hot', 'cooled'] as const;
const iso = (t: number) => new Date(t).toISOString();

/** The hotspot kernel as a TypeScript object: batches in, events out. */
export class HotspotKernel extends KernelWrapper {
  private readonly cellSize: number;

  private constructor(kernel: Kernel) {
    super(kernel);
    this.cellSize = kernel.params.cellSize as number;
  }

  static create(params: HotspotParams, setup: KernelOptions): HotspotKernel {
    return new HotspotKernel(Kernel.create(params, setup));
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): HotspotEvent[] {
    return this.events(this.kernel.rows(this.kernel.fit(fixes)));
  }

  /** Scores the window in progress now (end of input), dated by its last fix. */
  flush(): HotspotEvent[] {
    const events: HotspotEvent[] = [];
    this.kernel.flushRows((rows) => events.push(...this.events(rows)));
    return events;
  }

  /** Gi (star false) or Gi* z-scores of points with binary distance-band weights, as esda computes them. */
  giPoints(points: readonly [number, number][], values: readonly number[], band: number, star: boolean): number[] {
    return this.kernel.call((k) => {
      const n = points.length;
      const [xy, vs, out] = [n * 16, n * 8, n * 8].map((b) => k.exports.alloc(b));
      new Float64Array(k.memory.buffer, xy, n * 2).set(points.flat());
      new Float64Array(k.memory.buffer, vs, n).set(values);
      k.fn('gi_points')(xy, vs, n, band, star ? 1 : 0, out);
      const z = [...new Float64Array(k.memory.buffer, out, n)];
      for (const p of [xy, vs, out]) k.exports.dealloc(p);
      return z;
    });
  }

  private events({ n, cols }: Rows): HotspotEvent[] {
    const { windowStart, windowEnd, z, west, south, east, north, ix, iy, count, detect } = cols;
    const events = new Array<HotspotEvent>(n);
    for (let i = 0; i < n; i++) {
      events[i] = {
        kind: 'hotspot',
        detect: DETECT[detect[i]],
        cell: { id: `${this.cellSize}m:${ix[i]}:${iy[i]}`, bbox: [west[i], south[i], east[i], north[i]] },
        z: z[i],
        count: count[i],
        window: { start: iso(windowStart[i]), end: iso(windowEnd[i]) },
      };
    }
    return events;
  }
}
