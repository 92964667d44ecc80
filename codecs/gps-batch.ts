import { FrameError } from './frame-error.ts';
import type { GpsRecord } from './gps-record.ts';

/**
 * A columnar batch of GPS fixes. Each column is one typed array, so a batch enters wasm linear memory with one
 * copy per column and leaves the wire as views when the payload is 8-byte aligned. Device ids are a
 * dictionary: a batch names each device once and refers to it by index.
 *
 * Wire layout, little-endian:
 *   "GB" u8:version u8:flags  u32:n  u32:dictCount  u32:dictBytes  dict (per entry: u16 length, utf8)
 *   pad to 8 · t f64[n] (epoch ms) · lon f64[n] · lat f64[n] · speed f32[n] · heading f32[n]
 *   · accuracy f32[n] · device u32[n]          (a missing optional value is NaN)
 */
export interface GpsBatch {
  n: number;
  devices: string[];
  device: Uint32Array;
  t: Float64Array;
  lon: Float64Array;
  lat: Float64Array;
  speed: Float32Array;
  heading: Float32Array;
  accuracy: Float32Array;
}

const VERSION = 1;
const HEADER = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const toUtf8 = new TextEncoder();
const align8 = (x: number) => (x + 7) & ~7;
/** t, lon, lat f64 · speed, heading, accuracy f32 · device u32 */
const BYTES_PER_ROW = 40;

/** Columns of `n` rows, all views on one buffer: one allocation, and a batch another thread can take by transfer. */
export function emptyBatch(n: number, devices: string[] = []): GpsBatch {
  const buffer = new ArrayBuffer(BYTES_PER_ROW * n);
  let at = 0;
  const col = <T>(C: new (buf: ArrayBuffer, off: number, len: number) => T, width: number): T => {
    const c = new C(buffer, at, n);
    at += width * n;
    return c;
  };
  return {
    n,
    devices,
    t: col(Float64Array, 8),
    lon: col(Float64Array, 8),
    lat: col(Float64Array, 8),
    speed: col(Float32Array, 4),
    heading: col(Float32Array, 4),
    accuracy: col(Float32Array, 4),
    device: col(Uint32Array, 4),
  };
}

export function batchFromRecords(records: readonly GpsRecord[]): GpsBatch {
  const index = new Map<string, number>();
  const b = emptyBatch(records.length);
  records.forEach((r, i) => {
    let d = index.get(r.deviceId);
    if (d === undefined) index.set(r.deviceId, (d = b.devices.push(r.deviceId) - 1));
    b.device[i] = d;
    b.t[i] = r.t;
    b.lon[i] = r.lon;
    b.lat[i] = r.lat;
    b.speed[i] = r.speed ?? NaN;
    b.heading[i] = r.heading ?? NaN;
    b.accuracy[i] = r.accuracy ?? NaN;
  });
  return b;
}

/** Fixes as a batch: an array is turned into one, a batch is taken as it is. */
export const toBatch = (x: GpsBatch | readonly GpsRecord[]): GpsBatch => (isGpsBatch(x) ? x : batchFromRecords(x));

/** the columns, in wire order */
const COLUMNS = ['t', 'lon', 'lat', 'speed', 'heading', 'accuracy', 'device'] as const;

export const isGpsBatch = (x: unknown): x is GpsBatch => typeof x === 'object' && x !== null && (x as GpsBatch).t instanceof Float64Array;

export function recordAt(b: GpsBatch, i: number): GpsRecord {
  const r: GpsRecord = { deviceId: b.devices[b.device[i]], t: b.t[i], lon: b.lon[i], lat: b.lat[i] };
  if (!Number.isNaN(b.speed[i])) r.speed = b.speed[i];
  if (!Number.isNaN(b.heading[i])) r.heading = b.heading[i];
  if (!Number.isNaN(b.accuracy[i])) r.accuracy = b.accuracy[i];
  return r;
}

export function recordsOf(b: GpsBatch): GpsRecord[] {
  const out = new Array<GpsRecord>(b.n);
  for (let i = 0; i < b.n; i++) out[i] = recordAt(b, i);
  return out;
}

/** Rows `from` up to `to`, as a batch of their own (a batch cut in parts that fit, or to find a bad row). */
export const sliceRows = (b: GpsBatch, from: number, to: number): GpsBatch =>
  selectRows(b, Array.from({ length: to - from }, (_, i) => from + i));

/** The rows at `rows`, in that order, with a dictionary of just the devices they use. */
export function selectRows(b: GpsBatch, rows: ArrayLike<number>): GpsBatch {
  const remap = new Map<number, number>();
  const out = emptyBatch(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j];
    let d = remap.get(b.device[i]);
    if (d === undefined) remap.set(b.device[i], (d = out.devices.push(b.devices[b.device[i]]) - 1));
    out.device[j] = d;
    copyRow(b, i, out, j);
  }
  return out;
}

/** Row `i` of `from` to row `j` of `to`, all but its device, whose index is in the caller's dictionary. */
export function copyRow(from: GpsBatch, i: number, to: GpsBatch, j: number): void {
  to.t[j] = from.t[i];
  to.lon[j] = from.lon[i];
  to.lat[j] = from.lat[i];
  to.speed[j] = from.speed[i];
  to.heading[j] = from.heading[i];
  to.accuracy[j] = from.accuracy[i];
}

/**
 * Batches as one, in order, with one dictionary for their devices: a column copy each, no per-fix objects.
 * One batch is returned as it is.
 */
export function concatBatches(batches: readonly GpsBatch[]): GpsBatch {
  if (batches.length === 1) return batches[0];
  const n = batches.reduce((a, b) => a + b.n, 0);
  const out = emptyBatch(n);
  const index = new Map<string, number>();
  let at = 0;
  for (const b of batches) {
    const remap = b.devices.map((d) => {
      let i = index.get(d);
      if (i === undefined) index.set(d, (i = out.devices.push(d) - 1));
      return i;
    });
    for (let i = 0; i < b.n; i++) out.device[at + i] = remap[b.device[i]];
    out.t.set(b.t.subarray(0, b.n), at);
    out.lon.set(b.lon.subarray(0, b.n), at);
    out.lat.set(b.lat.subarray(0, b.n), at);
    out.speed.set(b.speed.subarray(0, b.n), at);
    out.heading.set(b.heading.subarray(0, b.n), at);
    out.accuracy.set(b.accuracy.subarray(0, b.n), at);
    at += b.n;
  }
  return out;
}

/**
 * A copy of a batch in one buffer of its own, to hand to another thread by transfer: a batch decoded from
 * a frame is views on the frame's bytes, and cloning a view copies the whole buffer behind it, once per column.
 */
export function transferableBatch(b: GpsBatch): { batch: GpsBatch; transfer: ArrayBuffer[] } {
  const batch = emptyBatch(b.n, b.devices);
  for (const c of COLUMNS) batch[c].set(b[c].subarray(0, b.n) as never);
  return { batch, transfer: [batch.t.buffer as ArrayBuffer] };
}

/** Column offsets for a batch of `n` rows whose dictionary ends at `dictEnd`. */
function layout(n: number, dictEnd: number) {
  const t = align8(dictEnd);
  const lon = t + 8 * n;
  const lat = lon + 8 * n;
  const speed = lat + 8 * n;
  const heading = speed + 4 * n;
  const accuracy = heading + 4 * n;
  const device = accuracy + 4 * n;
  return { t, lon, lat, speed, heading, accuracy, device, end: device + 4 * n };
}

/** A string's length in UTF-8, without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++, (n += 2); // a surrogate pair: 4 bytes for 2 units
    else n += 2;
  }
  return n;
}

export function encodeGpsBatch(b: GpsBatch): Uint8Array {
  // device ids are short and nearly always ASCII: a byte loop beats a TextEncoder call per id by far
  const lengths = b.devices.map(utf8Length);
  for (const len of lengths) if (len > 0xffff) throw new RangeError('device id longer than 65535 bytes');
  const dictBytes = lengths.reduce((s, len) => s + 2 + len, 0);
  const L = layout(b.n, HEADER + dictBytes);
  const out = new Uint8Array(L.end);
  const view = new DataView(out.buffer);
  out[0] = 0x47; // 'G'
  out[1] = 0x42; // 'B'
  out[2] = VERSION;
  view.setUint32(4, b.n, true);
  view.setUint32(8, lengths.length, true);
  view.setUint32(12, dictBytes, true);
  let pos = HEADER;
  b.devices.forEach((d, i) => {
    const len = lengths[i];
    view.setUint16(pos, len, true);
    pos += 2;
    if (len === d.length) for (let k = 0; k < len; k++) out[pos + k] = d.charCodeAt(k);
    else toUtf8.encodeInto(d, out.subarray(pos, pos + len));
    pos += len;
  });
  const put = (col: ArrayBufferView & { length: number }, at: number) =>
    out.set(new Uint8Array(col.buffer, col.byteOffset, col.byteLength), at);
  put(b.t.subarray(0, b.n), L.t);
  put(b.lon.subarray(0, b.n), L.lon);
  put(b.lat.subarray(0, b.n), L.lat);
  put(b.speed.subarray(0, b.n), L.speed);
  put(b.heading.subarray(0, b.n), L.heading);
  put(b.accuracy.subarray(0, b.n), L.accuracy);
  put(b.device.subarray(0, b.n), L.device);
  return out;
}

const bad = (why: string) => new FrameError('bad-batch', `GPS batch: ${why}`);

/** Columns are views into `bytes` when it is 8-byte aligned, else one copy is made. */
export function decodeGpsBatch(bytes: Uint8Array): GpsBatch {
  if (bytes.length < HEADER) throw bad(`${bytes.length} bytes is shorter than the header`);
  if (bytes[0] !== 0x47 || bytes[1] !== 0x42) throw bad('bad magic');
  if (bytes[2] !== VERSION) throw bad(`unsupported version ${bytes[2]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(4, true);
  const dictCount = view.getUint32(8, true);
  const dictBytes = view.getUint32(12, true);
  if (HEADER + dictBytes > bytes.length || dictCount * 2 > dictBytes) throw bad('dictionary runs past the end');
  const L = layout(n, HEADER + dictBytes);
  if (L.end !== bytes.length) throw bad(`${n} rows need ${L.end} bytes, payload has ${bytes.length}`);
  const devices = new Array<string>(dictCount);
  let pos = HEADER;
  for (let i = 0; i < dictCount; i++) {
    if (pos + 2 > HEADER + dictBytes) throw bad('dictionary runs past the end');
    const len = view.getUint16(pos, true);
    if (pos + 2 + len > HEADER + dictBytes) throw bad('dictionary entry runs past the end');
    try {
      devices[i] = utf8.decode(bytes.subarray(pos + 2, pos + 2 + len));
    } catch {
      throw bad(`device id ${i} is not UTF-8`);
    }
    pos += 2 + len;
  }
  // new Uint8Array(view) copies into a fresh, aligned buffer (Buffer#slice would not: it is a view)
  const src = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const buf = src.buffer;
  const o = src.byteOffset;
  const b: GpsBatch = {
    n,
    devices,
    t: new Float64Array(buf, o + L.t, n),
    lon: new Float64Array(buf, o + L.lon, n),
    lat: new Float64Array(buf, o + L.lat, n),
    speed: new Float32Array(buf, o + L.speed, n),
    heading: new Float32Array(buf, o + L.heading, n),
    accuracy: new Float32Array(buf, o + L.accuracy, n),
    device: new Uint32Array(buf, o + L.device, n),
  };
  for (let i = 0; i < n; i++) if (b.device[i] >= dictCount) throw bad(`row ${i} names device ${b.device[i]} of ${dictCount}`);
  return b;
}
