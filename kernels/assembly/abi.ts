// The geoflux kernel ABI, version 2 (docs/kernel-abi.md), for the AssemblyScript kernels: the exports every
// kernel shares, the schema a kernel declares itself with, its params block, its output rows and its state.
// Any language that can export these functions from a WASI preview1 module can be a kernel.

export const ABI_VERSION: i32 = 2;

let errorMessage: ArrayBuffer = new ArrayBuffer(0);
/** messages recorded so far: whether a call that returned null gave its reason */
let failures: u32 = 0;

/** Records a message for the host and returns the status to hand back (negative = error). */
export function fail(message: string): i32 {
  errorMessage = String.UTF8.encode(message);
  failures++;
  return -1;
}

export function abi_version(): i32 {
  return ABI_VERSION;
}

/** Raw memory the host fills (batches, params) and the kernel never moves. */
export function alloc(size: usize): usize {
  return heap.alloc(size);
}

export function dealloc(ptr: usize): void {
  heap.free(ptr);
}

export function error_ptr(): usize {
  return changetype<usize>(errorMessage);
}

export function error_len(): i32 {
  return errorMessage.byteLength;
}

// ---- the schema: declared by each kernel at start-up, one call per param, output field and counter, so the
// index a kernel reads a param or writes a field by is the one its declaration returned

let kernelName = '';
let kernelDoc = '';
// kept as given and made JSON only when the host asks for the schema (once per module, not per instance):
// built at start-up, the escaping cost every instance ~0.3 ms of its 0.5
class Decl {
  constructor(
    readonly name: string,
    readonly type: string,
    readonly doc: string,
    readonly more: string,
  ) {}
}
const paramDecls = new Array<Decl>(0);
const fieldDecls = new Array<Decl>(0);
const fieldWidths = new Array<i32>(0);
const counterNames = new Array<string>(0);
let jsonLines = false;
let schemaBytes: ArrayBuffer | null = null;

/** a JSON string literal */
export function quote(s: string): string {
  let q = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34 || c == 92) q += '\\' + String.fromCharCode(c);
    else if (c < 32) q += ' ';
    else q += String.fromCharCode(c);
  }
  return q + '"';
}

/** JSON members of a declaration: name, type, doc, then `more` (already JSON, e.g. `"default":30,"min":0`) */
function declJson(d: Decl): string {
  return '{"name":' + quote(d.name) + ',"type":' + quote(d.type) + (d.doc.length ? ',"doc":' + quote(d.doc) : '') + (d.more.length ? ',' + d.more : '') + '}';
}

function declList(ds: Decl[]): string {
  let s = '';
  for (let i = 0; i < ds.length; i++) s += (i ? ',' : '') + declJson(ds[i]);
  return s;
}

export function declareKernel(name: string, doc: string): void {
  kernelName = name;
  kernelDoc = doc;
}

/** Declares the next param; returns its slot in the params block. `more`: JSON members (default, min, max, values, items, required). */
export function param(name: string, type: string, doc: string, more: string = ''): i32 {
  paramDecls.push(new Decl(name, type, doc, more));
  return paramDecls.length - 1;
}

/** Declares the next output field; returns its column. */
export function field(name: string, type: string, doc: string, more: string = ''): i32 {
  fieldDecls.push(new Decl(name, type, doc, more));
  fieldWidths.push(type == 'f64' || type == 'time' ? 8 : 4);
  return fieldDecls.length - 1;
}

/** Declares the next counter; returns the index `counter()` is asked for it by. */
export function declareCounter(name: string): i32 {
  counterNames.push(name);
  return counterNames.length - 1;
}

/** The kernel writes JSON lines instead of declared rows. */
export function outputJsonLines(): void {
  jsonLines = true;
}

/** Writes a JSON line at `out + at` if it fits in `cap` bytes: the bytes written so far after it, or -1 if it does not fit. */
export function writeLine(out: usize, at: i32, cap: i32, line: string): i32 {
  const bytes = String.UTF8.encode(line);
  if (at + bytes.byteLength > cap) return -1;
  memory.copy(out + <usize>at, changetype<usize>(bytes), bytes.byteLength);
  return at + bytes.byteLength;
}

/** a JSON list of strings */
export function jsonList(xs: string[]): string {
  let s = '[';
  for (let i = 0; i < xs.length; i++) s += (i ? ',' : '') + quote(xs[i]);
  return s + ']';
}

function schema(): ArrayBuffer {
  let s = schemaBytes;
  if (s == null) {
    const output = jsonLines ? '"json-lines"' : '[' + declList(fieldDecls) + ']';
    const json =
      '{"name":' + quote(kernelName) + ',"doc":' + quote(kernelDoc) + ',"params":[' + declList(paramDecls) + '],"output":' + output + ',"counters":' + jsonList(counterNames) + '}';
    s = String.UTF8.encode(json);
    schemaBytes = s;
  }
  return s;
}

export function schema_ptr(): usize {
  return changetype<usize>(schema());
}

export function schema_len(): i32 {
  return schema().byteLength;
}

// ---- the params block: an 8-byte slot per declared param, values that do not fit after them

let params: usize = 0;

/** Takes the block init() was given; fails when it is shorter than the declared slots. */
export function takeParams(ptr: usize, len: i32): i32 {
  if (len < paramDecls.length * 8) return fail('params block shorter than the declared params');
  params = ptr;
  return 0;
}

@inline function slot(i: i32): usize { return params + (<usize>i << 3); }
@inline export function paramF64(i: i32): f64 { return load<f64>(slot(i)); }
@inline export function paramBool(i: i32): bool { return load<u32>(slot(i)) != 0; }
@inline export function paramEnum(i: i32): u32 { return load<u32>(slot(i)); }
/** where a string, array or data param's bytes or items are */
@inline export function paramPtr(i: i32): usize { return <usize>load<u32>(slot(i)); }
/** a string's or data's bytes, an array's items */
@inline export function paramLen(i: i32): i32 { return <i32>load<u32>(slot(i), 4); }
/** item j of an array of enums (or booleans) */
@inline export function paramItemU32(i: i32, j: i32): u32 { return load<u32>(paramPtr(i) + (<usize>j << 3)); }

// ---- the batch: columns of n fixes at `ptr`, the layout of codecs/gps-batch.ts

@inline export function colT(ptr: usize, n: i32): usize { return ptr; }
@inline export function colLon(ptr: usize, n: i32): usize { return ptr + 8 * <usize>n; }
@inline export function colLat(ptr: usize, n: i32): usize { return ptr + 16 * <usize>n; }
@inline export function colSpeed(ptr: usize, n: i32): usize { return ptr + 24 * <usize>n; }
@inline export function colHeading(ptr: usize, n: i32): usize { return ptr + 28 * <usize>n; }
@inline export function colAccuracy(ptr: usize, n: i32): usize { return ptr + 32 * <usize>n; }
@inline export function colDevice(ptr: usize, n: i32): usize { return ptr + 36 * <usize>n; }

/** NaN, infinite or out-of-range coordinates: a fix every kernel counts and skips. */
@inline export function badCoordinates(lon: f64, lat: f64): bool {
  return !isFinite(lon) || !isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90;
}

// ---- output rows: `cap` rows as columns at `ptr`, one per declared field

/**
 * Where process() and flush() write their rows. A row that does not fit is counted as lost rather than
 * written out of bounds; `full()` lets a resumable flush stop before it.
 */
export class Output {
  ptr: usize = 0;
  cap: i32 = 0;
  n: i32 = 0;
  lost: u32 = 0;
  private cols: StaticArray<usize> = new StaticArray<usize>(0);

  begin(ptr: usize, cap: i32): void {
    this.ptr = ptr;
    this.cap = cap;
    this.n = 0;
    if (this.cols.length != fieldWidths.length) this.cols = new StaticArray<usize>(fieldWidths.length);
    let at = ptr;
    for (let j = 0; j < fieldWidths.length; j++) {
      unchecked((this.cols[j] = at));
      at += <usize>cap * <usize>fieldWidths[j];
    }
  }

  @inline full(): bool {
    return this.n >= this.cap;
  }

  /** the index of a new row, or -1 when full */
  next(): i32 {
    if (this.n >= this.cap) {
      this.lost++;
      return -1;
    }
    return this.n++;
  }

  @inline f64(f: i32, row: i32, v: f64): void { store<f64>(unchecked(this.cols[f]) + (<usize>row << 3), v); }
  @inline f32(f: i32, row: i32, v: f32): void { store<f32>(unchecked(this.cols[f]) + (<usize>row << 2), v); }
  @inline u32(f: i32, row: i32, v: u32): void { store<u32>(unchecked(this.cols[f]) + (<usize>row << 2), v); }
  @inline i32(f: i32, row: i32, v: i32): void { store<i32>(unchecked(this.cols[f]) + (<usize>row << 2), v); }
}

// ---- state: what snapshot() writes and restore() reads

/** Writes a snapshot, or (with no room) only measures it, so one function says both what and how much. */
export class StateWriter {
  size: usize = 0;
  constructor(
    private at: usize,
    private measuring: bool,
  ) {}

  f64(v: f64): void {
    if (!this.measuring) store<f64>(this.at + this.size, v);
    this.size += 8;
  }

  u32(v: u32): void {
    if (!this.measuring) store<u32>(this.at + this.size, v);
    this.size += 4;
  }

  bool(v: bool): void {
    this.u32(v ? 1 : 0);
  }

  /** a u32 written earlier at `at` (a size) set now that it is known */
  patch(at: usize, v: u32): void {
    if (!this.measuring) store<u32>(this.at + at, v);
  }
}

/** Reads a snapshot; reading past its end gives zeros and clears `ok`, so a short snapshot is refused, not a trap. */
export class StateReader {
  ok: bool = true;
  constructor(
    private at: usize,
    private end: usize,
  ) {}

  private take(n: usize): usize {
    if (this.at + n > this.end) {
      this.ok = false;
      return 0;
    }
    const p = this.at;
    this.at += n;
    return p;
  }

  f64(): f64 {
    const p = this.take(8);
    return p ? load<f64>(p) : 0;
  }

  u32(): u32 {
    const p = this.take(4);
    return p ? load<u32>(p) : 0;
  }

  bool(): bool {
    return this.u32() != 0;
  }

  /** a reader of the next `n` bytes, which this one then skips; null when there are not that many */
  sub(n: usize): StateReader | null {
    const p = this.take(n);
    return this.ok ? new StateReader(p, p + n) : null;
  }

  /** all of it read, nothing left over */
  done(): bool {
    return this.ok && this.at == this.end;
  }
}

/** snapshot(ptr, cap) for a kernel whose state `write` writes: its size, and the state when it fits */
export function writeSnapshot(ptr: usize, cap: i32, write: (w: StateWriter) => void): i32 {
  const m = new StateWriter(0, true);
  write(m);
  if (m.size > <usize>cap) return <i32>m.size;
  const w = new StateWriter(ptr, false);
  write(w);
  return <i32>w.size;
}

// ---- the state of some devices: what export_devices() writes and import_devices() reads
//
// u32 sharedBytes · shared · u32 count · count × { u32 device · u32 bytes · bytes }. The frame is the ABI's, so
// the host can rename the devices (its ids are its own); each device's bytes are the kernel's. The built-in
// kernels keep nothing about more than one device that a device needs, so their shared part is empty.

/**
 * export_devices(ids, n, ptr, cap) for a kernel whose devices are `devices`, each written by `write`: the
 * size, and the bytes when they fit in `cap`. A device the kernel does not hold is left out.
 */
export function writeDevices<T>(devices: Map<u32, T>, ids: usize, n: i32, ptr: usize, cap: i32, write: (w: StateWriter, d: T) => void): i32 {
  const m = new StateWriter(0, true);
  deviceFrame<T>(m, devices, ids, n, write);
  if (m.size > <usize>cap) return <i32>m.size;
  const w = new StateWriter(ptr, false);
  deviceFrame<T>(w, devices, ids, n, write);
  return <i32>w.size;
}

function deviceFrame<T>(w: StateWriter, devices: Map<u32, T>, ids: usize, n: i32, write: (w: StateWriter, d: T) => void): void {
  w.u32(0);
  w.u32(0);
  let count: u32 = 0;
  for (let i = 0; i < n; i++) {
    const id = load<u32>(ids + (<usize>i << 2));
    if (!devices.has(id)) continue;
    const at = w.size;
    w.u32(id);
    w.u32(0);
    write(w, devices.get(id));
    w.patch(at + 4, <u32>(w.size - at - 8));
    count++;
  }
  w.patch(4, count);
}

/**
 * import_devices(ptr, len) for a kernel whose devices are `devices`, each read by `read` (null: refused,
 * with or without its own message): adds or replaces them all, or refuses without touching any.
 */
export function readDevices<T>(devices: Map<u32, T>, ptr: usize, len: i32, read: (r: StateReader) => T | null, kernel: string): i32 {
  const r = new StateReader(ptr, ptr + <usize>len);
  if (r.u32() != 0) return fail('not a ' + kernel + ' device export: it has a shared part, which ' + kernel + ' never writes');
  const count = r.u32();
  const ids = new Array<u32>(0);
  const read_ = new Array<T>(0);
  for (let i: u32 = 0; i < count && r.ok; i++) {
    ids.push(r.u32());
    const rec = r.sub(<usize>r.u32());
    if (rec == null) break;
    const before = failures;
    const d = read(rec);
    if (d == null || !rec.done()) return failures != before ? -1 : fail('not a ' + kernel + ' device export of this kernel: a device does not read back (other params?)');
    read_.push(d);
  }
  if (!r.done()) return fail('not a ' + kernel + ' device export: it ends early or goes on past its devices');
  for (let i = 0; i < ids.length; i++) devices.set(ids[i], read_[i]);
  return 0;
}

/** drop_devices(ids, n) over a kernel's map of devices: how many it held */
export function dropFrom<T>(devices: Map<u32, T>, ids: usize, n: i32): i32 {
  let dropped = 0;
  for (let i = 0; i < n; i++) if (devices.delete(load<u32>(ids + (<usize>i << 2)))) dropped++;
  return dropped;
}
