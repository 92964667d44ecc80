import { toBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { compileFences, FenceError, type Fence } from './fence-compiler.ts';
import { KernelError, KernelRunner, type KernelInstance, type KernelSetup } from './host/kernel-instance.ts';
import { StableIds } from './host/stable-ids.ts';

export const DETECTS = ['enter', 'exit', 'inside', 'outside', 'cross', 'dwell'] as const;
export type Detect = (typeof DETECTS)[number];

export interface GeofenceParams {
  /** GeoJSON: a FeatureCollection or a Feature of Polygons, MultiPolygons, or Points with properties.radius (m) */
  fences: object;
  /** default: enter, exit, cross, dwell */
  detect?: Detect[];
  /** seconds inside a fence before `dwell` fires, once per visit (default 300) */
  dwell?: number;
}

/** Event JSON in the spirit of Tile38's hook messages. */
export interface GeofenceEvent {
  kind: 'geofence';
  detect: Detect;
  fence: { id: string; name: string };
  deviceId: string;
  time: string;
  point: [number, number];
}

interface GeofenceExports {
  load_data(ptr: number, len: number): number;
  state_size(): number;
  snapshot(out: number, cap: number): number;
  restore(ptr: number, len: number): number;
  skipped_count(): number;
  lost_event_count(): number;
  device_count(): number;
}

/** bytes of one output row: row u32, fence u32, kind u32 */
const ROW = 12;

/**
 * The geofence kernel as a TypeScript object. It gives devices ids that stay the same across batches (the
 * kernel keys its per-device state by them) and turns the kernel's event rows into event JSON.
 */
export class GeofenceKernel {
  private readonly ids = new StableIds();

  private constructor(
    private readonly runner: KernelRunner,
    readonly fences: Fence[],
    private readonly outCap: number,
    /** what compiled but is likely not what was meant (a ring that crosses itself) */
    readonly warnings: string[],
  ) {}

  /**
   * `source` names the fences in errors (their file); `contains: true` makes a kernel that reports, per fix,
   * the fences containing it, and keeps no per-device state.
   */
  static create(params: GeofenceParams, setup: KernelSetup & { outCap?: number; contains?: boolean; source?: string }): GeofenceKernel {
    const { fences, bytes, warnings } = compileFences(params.fences, setup.source);
    const detect = params.detect ?? ['enter', 'exit', 'cross', 'dwell'];
    for (const d of detect) if (!DETECTS.includes(d)) throw new FenceError(`unknown detect "${d}" (use ${DETECTS.join(', ')})`);
    const mask = detect.reduce((m, d) => m | (1 << (DETECTS.indexOf(d) + 1)), 0);
    const init = { detect: mask, dwell: params.dwell ?? 300, contains: setup.contains ? 1 : 0 };
    const prepare = (k: KernelInstance) => {
      const ptr = k.exports.alloc(bytes.length); // kept for the instance's life: the kernel reads fences in place
      k.bytes(ptr, bytes.length).set(bytes);
      if ((k.exports as unknown as GeofenceExports).load_data(ptr, bytes.length) !== 0) throw new FenceError(k.errorMessage());
      k.init(init);
    };
    return new GeofenceKernel(new KernelRunner(setup.module, prepare, setup), fences, setup.outCap ?? 65_536, warnings);
  }

  /** the kernel's event rows for a batch */
  private rows(b: GpsBatch): { row: Uint32Array; fence: Uint32Array; kind: Uint32Array } {
    const { k, out, n } = this.runner.process(b, this.outCap, ROW, this.ids.column(b));
    const buf = k.memory.buffer;
    return {
      row: new Uint32Array(buf, out, n),
      fence: new Uint32Array(buf, out + this.outCap * 4, n),
      kind: new Uint32Array(buf, out + this.outCap * 8, n),
    };
  }

  process(fixes: GpsBatch | readonly GpsRecord[]): GeofenceEvent[] {
    const b = toBatch(fixes);
    const { row, fence, kind } = this.rows(b);
    const events = new Array<GeofenceEvent>(row.length);
    for (let i = 0; i < row.length; i++) {
      const r = row[i];
      const f = this.fences[fence[i]];
      events[i] = {
        kind: 'geofence',
        detect: DETECTS[kind[i] - 1],
        fence: { id: f.id, name: f.name },
        deviceId: b.devices[b.device[r]],
        time: new Date(b.t[r]).toISOString(),
        point: [b.lon[r], b.lat[r]],
      };
    }
    return events;
  }

  /**
   * For each fix, the indexes (into `fences`) of the fences containing it. Needs a kernel made with
   * `contains: true`, which keeps no per-device state.
   */
  contains(fixes: GpsBatch | readonly GpsRecord[]): number[][] {
    const b = toBatch(fixes);
    const { row, fence } = this.rows(b);
    const out = Array.from({ length: b.n }, () => [] as number[]);
    for (let i = 0; i < row.length; i++) out[row[i]].push(fence[i]);
    return out;
  }

  /** The per-device state (and the device ids it is keyed by), to carry over to another instance. */
  snapshot(): { state: Uint8Array; devices: [string, number][] } {
    return this.runner.guarded((k) => {
      const x = k.exports as unknown as GeofenceExports;
      const size = x.state_size();
      const out = this.runner.outRegion(size);
      if (x.snapshot(out, size) !== size) throw new KernelError(k.errorMessage());
      return { state: k.bytes(out, size).slice(), devices: this.ids.entries() };
    });
  }

  /** Takes over the per-device state of a snapshot (the fences must be the same). */
  restore(s: { state: Uint8Array; devices: [string, number][] }): void {
    this.runner.guarded((k) => {
      const ptr = k.exports.alloc(s.state.length);
      k.bytes(ptr, s.state.length).set(s.state);
      const status = (k.exports as unknown as GeofenceExports).restore(ptr, s.state.length);
      k.exports.free(ptr);
      if (status !== 0) throw new KernelError(k.errorMessage());
    });
    this.ids.replace(s.devices);
  }

  stats() {
    const x = this.runner.instance.exports as unknown as GeofenceExports;
    return { skipped: x.skipped_count(), lostEvents: x.lost_event_count(), devices: x.device_count(), replaced: this.runner.replaced };
  }
}
