import { toBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { KernelRunner, type KernelInstance, type KernelSetup } from './host/kernel-instance.ts';

/** Parameters of the hotspot kernel (kernels/assembly/hotspot.ts); lengths in metres, times in seconds. */
export interface HotspotParams {
  cellSize?: number;
  band?: number;
  window?: number;
  slide?: number;
  zThreshold?: number;
  minCount?: number;
  /** 1: weigh each fix by its speed instead of counting it */
  weightBySpeed?: number;
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

interface HotspotExports {
  flush(out: number, cap: number): number;
  gi_points(xy: number, values: number, n: number, band: number, star: number, out: number): number;
  origin_lon(): number;
  origin_lat(): number;
  grid_width(): number;
  grid_height(): number;
  cell_size(): number;
  skipped_count(): number;
  outside_count(): number;
  late_count(): number;
  lost_event_count(): number;
}

/** bytes of one event row: windowEnd f64, z f64, cell u32, count u32, kind u32 */
const ROW = 28;
const M_PER_DEG = 111_320;

/** The hotspot kernel as a TypeScript object: batches in, events out. */
export class HotspotKernel {
  readonly windowMs: number;

  private constructor(
    private readonly runner: KernelRunner,
    params: HotspotParams,
    private readonly outCap: number,
  ) {
    this.windowMs = (params.window ?? 300) * 1000;
  }

  static create(params: HotspotParams, setup: KernelSetup & { outCap?: number }): HotspotKernel {
    return new HotspotKernel(new KernelRunner(setup.module, (k) => k.init(params), setup), params, setup.outCap ?? 65_536);
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): HotspotEvent[] {
    const { k, out, n } = this.runner.process(toBatch(fixes), this.outCap, ROW);
    return this.events(k, out, n);
  }

  /** Scores the window in progress now (end of input). */
  flush(): HotspotEvent[] {
    return this.runner.guarded((k) => {
      const out = this.runner.outRegion(this.outCap * ROW);
      return this.events(k, out, (k.exports as unknown as HotspotExports).flush(out, this.outCap));
    });
  }

  /** Gi (star false) or Gi* z-scores of points with binary distance-band weights, as esda computes them. */
  giPoints(points: readonly [number, number][], values: readonly number[], band: number, star: boolean): number[] {
    return this.runner.guarded((k) => {
      const n = points.length;
      const [xy, vs, out] = [n * 16, n * 8, n * 8].map((b) => k.exports.alloc(b));
      new Float64Array(k.memory.buffer, xy, n * 2).set(points.flat());
      new Float64Array(k.memory.buffer, vs, n).set(values);
      (k.exports as unknown as HotspotExports).gi_points(xy, vs, n, band, star ? 1 : 0, out);
      const z = [...new Float64Array(k.memory.buffer, out, n)];
      for (const p of [xy, vs, out]) k.exports.free(p);
      return z;
    });
  }

  stats() {
    const x = this.runner.instance.exports as unknown as HotspotExports;
    return { skipped: x.skipped_count(), outside: x.outside_count(), late: x.late_count(), lostEvents: x.lost_event_count(), replaced: this.runner.replaced };
  }

  private events(k: KernelInstance, out: number, n: number): HotspotEvent[] {
    if (n <= 0) return [];
    const buf = k.memory.buffer;
    const cap = this.outCap;
    const end = new Float64Array(buf, out, n);
    const z = new Float64Array(buf, out + cap * 8, n);
    const cell = new Uint32Array(buf, out + cap * 16, n);
    const count = new Uint32Array(buf, out + cap * 20, n);
    const kind = new Uint32Array(buf, out + cap * 24, n);
    const x = k.exports as unknown as HotspotExports;
    const w = x.grid_width();
    const h = x.grid_height();
    const size = x.cell_size();
    const lon0 = x.origin_lon();
    const lat0 = x.origin_lat();
    const degLat = size / M_PER_DEG;
    const degLon = size / (M_PER_DEG * Math.cos((lat0 * Math.PI) / 180));
    const events: HotspotEvent[] = [];
    for (let i = 0; i < n; i++) {
      const ix = (cell[i] % w) - Math.floor(w / 2);
      const iy = Math.floor(cell[i] / w) - Math.floor(h / 2);
      const west = lon0 + ix * degLon;
      const south = lat0 + iy * degLat;
      events.push({
        kind: 'hotspot',
        detect: kind[i] === 1 ? 'hot' : 'cooled',
        cell: { id: `${size}m:${ix}:${iy}`, bbox: [west, south, west + degLon, south + degLat] },
        z: z[i],
        count: count[i],
        window: { start: new Date(end[i] - this.windowMs).toISOString(), end: new Date(end[i]).toISOString() },
      });
    }
    return events;
  }
}
