import type { GpsBatch } from '../../codecs/gps-batch.ts';
import { KernelInstance, KernelTrap, loadKernelModule, type InstanceOptions } from '../kernel-host.ts';
import { batchBytes, batchInto } from './batch-into.ts';

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

/**
 * The hotspot kernel as a TypeScript object: batches in, events out. It keeps a second instance warm, so a
 * trap costs the window's state but not a cold start; the batch that trapped goes to the caller's error path.
 */
export class HotspotKernel {
  private k: KernelInstance;
  private spare: KernelInstance | undefined;
  private batchRegion: (n: number) => number;
  private outRegion: (n: number) => number;
  readonly windowMs: number;
  /** instances replaced after a trap */
  replaced = 0;

  private constructor(
    private readonly module: WebAssembly.Module,
    private readonly params: HotspotParams,
    private readonly opts: InstanceOptions,
    private readonly outCap: number,
  ) {
    this.k = this.fresh();
    this.spare = this.fresh();
    this.batchRegion = this.k.region();
    this.outRegion = this.k.region();
    this.windowMs = (params.window ?? 300) * 1000;
  }

  static async create(params: HotspotParams = {}, opts: InstanceOptions & { outCap?: number } = {}): Promise<HotspotKernel> {
    const { module } = await loadKernelModule('hotspot');
    return new HotspotKernel(module, params, opts, opts.outCap ?? 65_536);
  }

  private fresh(): KernelInstance {
    const k = KernelInstance.create(this.module, this.opts);
    k.init(this.params);
    return k;
  }

  private get x(): HotspotExports {
    return this.k.exports as unknown as HotspotExports;
  }

  /** Runs `f` on the live instance; after a trap, the warm spare takes over and a new spare is made. */
  private guarded<T>(f: () => T): T {
    try {
      return this.k.call(f);
    } catch (e) {
      if (!(e instanceof KernelTrap)) throw e;
      this.k = this.spare ?? this.fresh();
      this.spare = undefined;
      this.batchRegion = this.k.region();
      this.outRegion = this.k.region();
      this.replaced++;
      setImmediate(() => (this.spare ??= this.fresh()));
      throw e;
    }
  }

  process(batch: GpsBatch): HotspotEvent[] {
    return this.guarded(() => {
      const ptr = this.batchRegion(batchBytes(batch.n));
      batchInto(this.k.memory, ptr, batch);
      const out = this.outRegion(this.outCap * ROW);
      return this.events(out, this.k.exports.process(ptr, batch.n, out, this.outCap));
    });
  }

  /** Scores the window in progress now (end of input). */
  flush(): HotspotEvent[] {
    return this.guarded(() => {
      const out = this.outRegion(this.outCap * ROW);
      return this.events(out, this.x.flush(out, this.outCap));
    });
  }

  /** Gi (star false) or Gi* z-scores of points with binary distance-band weights, as esda computes them. */
  giPoints(points: readonly [number, number][], values: readonly number[], band: number, star: boolean): number[] {
    return this.guarded(() => {
      const n = points.length;
      const xy = this.k.exports.alloc(n * 16);
      const vs = this.k.exports.alloc(n * 8);
      const out = this.k.exports.alloc(n * 8);
      new Float64Array(this.k.memory.buffer, xy, n * 2).set(points.flat());
      new Float64Array(this.k.memory.buffer, vs, n).set(values);
      this.x.gi_points(xy, vs, n, band, star ? 1 : 0, out);
      const z = [...new Float64Array(this.k.memory.buffer, out, n)];
      for (const p of [xy, vs, out]) this.k.exports.free(p);
      return z;
    });
  }

  stats() {
    return { skipped: this.x.skipped_count(), outside: this.x.outside_count(), late: this.x.late_count(), lostEvents: this.x.lost_event_count(), replaced: this.replaced };
  }

  private events(out: number, n: number): HotspotEvent[] {
    if (n <= 0) return [];
    const buf = this.k.memory.buffer;
    const cap = this.outCap;
    const end = new Float64Array(buf, out, n);
    const z = new Float64Array(buf, out + cap * 8, n);
    const cell = new Uint32Array(buf, out + cap * 16, n);
    const count = new Uint32Array(buf, out + cap * 20, n);
    const kind = new Uint32Array(buf, out + cap * 24, n);
    const x = this.x;
    const w = x.grid_width();
    const h = x.grid_height();
    const size = x.cell_size();
    const lon0 = x.origin_lon();
    const lat0 = x.origin_lat();
    const degLat = size / M_PER_DEG;
    const degLon = size / (M_PER_DEG * Math.cos((lat0 * Math.PI) / 180));
    const events: HotspotEvent[] = [];
    for (let i = 0; i < n; i++) {
      const ix = cell[i] % w;
      const iy = Math.floor(cell[i] / w);
      const west = lon0 + (ix - Math.floor(w / 2)) * degLon;
      const south = lat0 + (iy - Math.floor(h / 2)) * degLat;
      events.push({
        kind: 'hotspot',
        detect: kind[i] === 1 ? 'hot' : 'cooled',
        cell: { id: `${size}m:${ix - Math.floor(w / 2)}:${iy - Math.floor(h / 2)}`, bbox: [west, south, west + degLon, south + degLat] },
        z: z[i],
        count: count[i],
        window: { start: new Date(end[i] - this.windowMs).toISOString(), end: new Date(end[i]).toISOString() },
      });
    }
    return events;
  }
}
