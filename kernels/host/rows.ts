import { shortestF32 } from '../../codecs/float32.ts';
import type { GpsBatch } from '../../codecs/gps-batch.ts';
import { fieldWidth, type FieldSpec, type FieldType, type KernelSchema } from './kernel-schema.ts';

/**
 * The one decoder of kernel output (docs/kernel-abi.md, Output rows): a kernel's rows as typed columns on its
 * memory, by the fields its schema declares, and those rows as JSON objects. The built-in wrappers read the
 * columns; custom kernels' rows become objects; both come from here.
 */

export type Column = Float64Array | Float32Array | Int32Array | Uint32Array;

/** `n` rows as columns by field name: views on the kernel's memory, valid until its next call */
export interface Rows {
  n: number;
  cols: Record<string, Column>;
}

const ARRAY: Record<FieldType, new (b: ArrayBuffer, at: number, n: number) => Column> = {
  f64: Float64Array,
  time: Float64Array,
  f32: Float32Array,
  i32: Int32Array,
  u32: Uint32Array,
  enum: Uint32Array,
  device: Uint32Array,
  row: Uint32Array,
  fence: Uint32Array,
};

/** the host's row capacity is a multiple of this, so every column of `cap` rows starts 8-byte aligned */
const CAP_STEP = 8;

export class RowLayout {
  /** bytes of one row, all columns */
  readonly rowBytes: number;
  private readonly offsets: number[];

  constructor(readonly fields: FieldSpec[]) {
    let at = 0;
    this.offsets = fields.map((f) => ((at += fieldWidth(f.type)), at - fieldWidth(f.type)));
    this.rowBytes = at;
  }

  /** a row capacity the layout can use: at least `rows`, a multiple of 8 */
  static cap(rows: number): number {
    return Math.max(CAP_STEP, Math.ceil(rows / CAP_STEP) * CAP_STEP);
  }

  view(buffer: ArrayBuffer, out: number, cap: number, n: number): Rows {
    const cols: Record<string, Column> = {};
    this.fields.forEach((f, j) => (cols[f.name] = new ARRAY[f.type](buffer, out + cap * this.offsets[j], n)));
    return { n, cols };
  }
}

/** What turns ids in rows into names: the batch the rows are about (none for flush's rows), device names, fences. */
export interface RowContext {
  batch?: GpsBatch;
  device(id: number): string;
  fence?(i: number): { id: string; name: string };
}

const iso = (t: number) => (Number.isFinite(t) ? new Date(t).toISOString() : null);
const num = (x: number) => (Number.isNaN(x) ? null : x);

/** The fix `r` of a batch as the fields a decoded row gets for it. */
export function fixFields(b: GpsBatch, r: number): { deviceId: string; time: string; point: [number, number] } {
  return { deviceId: b.devices[b.device[r]], time: new Date(b.t[r]).toISOString(), point: [b.lon[r], b.lat[r]] };
}

/** Rows as JSON objects: `{ kind: <kernel>, <field>: <value>, … }`, ids turned into what they name. */
export function rowObjects(schema: KernelSchema, layout: RowLayout, rows: Rows, ctx: RowContext): Record<string, unknown>[] {
  const setters = layout.fields.map((f) => {
    const col = rows.cols[f.name];
    switch (f.type) {
      case 'time':
        return (o: Record<string, unknown>, i: number) => (o[f.name] = iso(col[i]));
      case 'enum':
        return (o: Record<string, unknown>, i: number) => (o[f.name] = f.values![col[i]] ?? null);
      case 'device':
        return (o: Record<string, unknown>, i: number) => (o[f.name] = ctx.device(col[i]));
      case 'fence':
        return (o: Record<string, unknown>, i: number) => (o[f.name] = ctx.fence?.(col[i]) ?? col[i]);
      case 'row':
        return (o: Record<string, unknown>, i: number) => ctx.batch && col[i] < ctx.batch.n && Object.assign(o, fixFields(ctx.batch, col[i]));
      case 'f32':
        return (o: Record<string, unknown>, i: number) => (o[f.name] = Number.isFinite(col[i]) ? shortestF32(col[i]) : num(col[i]));
      case 'f64':
        return (o: Record<string, unknown>, i: number) => (o[f.name] = num(col[i]));
      default:
        return (o: Record<string, unknown>, i: number) => (o[f.name] = col[i]);
    }
  });
  const out = new Array<Record<string, unknown>>(rows.n);
  for (let i = 0; i < rows.n; i++) {
    const o: Record<string, unknown> = { kind: schema.name };
    for (const set of setters) set(o, i);
    out[i] = o;
  }
  return out;
}

/** JSON lines a kernel wrote as objects; a line with `"row": i` gets fix i's deviceId, time and point. */
export function jsonLineObjects(text: string, b: GpsBatch | undefined): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const e = JSON.parse(line) as Record<string, unknown>;
      const r = e.row;
      if (b && typeof r === 'number' && r >= 0 && r < b.n) {
        const fix = fixFields(b, r);
        e.deviceId ??= fix.deviceId;
        e.time ??= fix.time;
        e.point ??= fix.point;
        delete e.row;
      }
      return e;
    });
}
