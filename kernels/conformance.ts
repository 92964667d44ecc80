import { batchFromRecords, recordsOf, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { offsetBy } from '../network/geo.ts';
import { batchBytes, batchInto } from './host/batch-into.ts';
import { deviceRecords } from './host/device-state.ts';
import { KernelTrap } from './host/kernel-error.ts';
import { KernelInstance, REQUIRED_EXPORTS } from './host/kernel-instance.ts';
import type { FieldSpec } from './host/kernel-schema.ts';
import { RowLayout, type Rows } from './host/rows.ts';
import { StableIds } from './host/stable-ids.ts';
import { Kernel, type KernelOptions, type PreparedKernel } from './kernel.ts';
import { thousands } from '../log/thousands.ts';

/**
 * The ABI's conformance suite (docs/kernel-abi.md, Conformance): what any kernel must do, checked on the
 * kernel as built, with its params and a trace. `geoflux kernel --check` prints these; the repository's own
 * kernels are run through it in kernels/conformance.test.ts.
 */

export interface CheckResult {
  check: string;
  ok: boolean;
  /** what is wrong; or, for a check that holds, what it saw */
  detail?: string;
}

export interface ConformanceInput {
  setup: KernelOptions;
  /** the kernel's params, files read (as Node's factories leave them) */
  params: Record<string, unknown>;
  /** fixes in time order, several devices at once */
  fixes: GpsRecord[];
}

/** bytes watched past the end of a call's output, which the kernel must not write */
const GUARD = 256;
const CANARY = 0xa5;
const SMALL_CAP = 8;

/** a check: undefined (or a note of what it saw) when it holds, else what is wrong */
type Check = () => string | undefined | { note: string };

export function checkConformance({ setup, params, fixes }: ConformanceInput): CheckResult[] {
  const results: CheckResult[] = [];
  const run = (check: string, f: Check): boolean => {
    let got: ReturnType<Check>;
    try {
      got = f();
    } catch (e) {
      got = `${e instanceof KernelTrap ? 'trapped: ' : ''}${(e as Error).message}`;
    }
    const ok = typeof got !== 'string';
    results.push({ check, ok, ...(got === undefined ? {} : { detail: typeof got === 'string' ? got : got.note }) });
    return ok;
  };
  const { module } = setup;
  let prepared!: PreparedKernel;
  const fundamentals =
    run('imports env.memory and WASI only; exports the ABI 2 table; abi_version() is 2', () => importsAndExports(module) ?? void KernelInstance.create(module, setup)) &&
    run('its schema parses and declares the counters skipped and lostRows', () => void (prepared = Kernel.prepare(params, setup))) &&
    run('init accepts the params (defaults filled in)', () => void Kernel.create(params, setup));
  if (!fundamentals) return results;

  const third = Math.ceil(fixes.length / 3);
  const batches = [0, 1, 2].map((i) => batchFromRecords(fixes.slice(i * third, (i + 1) * third)));
  const layout = prepared.schema.output === 'json-lines' ? undefined : new RowLayout(prepared.schema.output);
  const fresh = () => Kernel.create(params, setup);

  run('an empty batch gives no rows; every row of a real batch decodes', () => {
    const k = fresh();
    if (k.objects(batchFromRecords([])).length) return 'rows for an empty batch';
    const seen = new Set<string>();
    let rows = 0;
    for (const b of batches) {
      for (const d of b.devices) seen.add(d);
      if (!layout) {
        rows += k.objects(b).length;
        continue;
      }
      const got = k.rows(b);
      const why = rowProblem(layout.fields, got, b, (id) => seen.has(k.deviceName(id)), prepared.fences?.length ?? 0);
      if (why) return why;
      rows += got.n;
    }
    return { note: `${thousands(rows)} rows for ${thousands(fixes.length)} fixes` };
  });

  run('bad fixes (NaN, out of range) do not trap and are counted in skipped', () => {
    const k = fresh();
    const t = fixes[0]?.t ?? 0;
    const bad = batchFromRecords([
      { deviceId: 'bad', t, lon: NaN, lat: 0 },
      { deviceId: 'bad', t, lon: 0, lat: NaN },
      { deviceId: 'bad', t, lon: 0, lat: 95 },
      { deviceId: 'bad', t, lon: 200, lat: 0 },
    ]);
    const before = k.counters().skipped;
    const rows = layout ? k.rows(bad).n : k.objects(bad).length;
    const skipped = k.counters().skipped - before;
    if (rows) return `${rows} rows about bad fixes`;
    return skipped === bad.n ? undefined : `skipped counted ${skipped} of ${bad.n} bad fixes`;
  });

  run(`with room for ${SMALL_CAP} rows, nothing is written past it and what did not fit is counted in lostRows; the batch is left as it was`, () => {
    const full = new Lowlevel(prepared, setup, layout).process(batches[0], 1 << 16);
    const small = new Lowlevel(prepared, setup, layout);
    const got = small.process(batches[0], layout ? SMALL_CAP : SMALL_CAP * 32);
    if (got.guardWritten) return 'wrote past the end of its output';
    if (got.inputChanged) return 'changed the batch it was given';
    if (got.n > got.cap) return `returned ${got.n} rows for room for ${got.cap}`;
    if (layout && got.n + small.counter('lostRows') !== full.n) return `${full.n} rows with room, ${got.n} written and ${small.counter('lostRows')} counted lost with room for ${got.cap}`;
    return undefined;
  });

  run('flush returns 0 within 100,000 calls, and 0 again after', () => {
    const low = new Lowlevel(prepared, setup, layout);
    for (const b of batches) low.process(b, 1 << 16);
    for (let i = 0; i < 100_000; i++) if (low.flush(1 << 16) === 0) return low.flush(1 << 16) === 0 ? undefined : 'flush returned rows again after 0';
    return 'flush never returned 0';
  });

  const stream = (k: Kernel, from: number) => JSON.stringify([...batches.slice(from).flatMap((b) => k.objects(b)), ...k.flushObjects()]);
  run('two fresh instances given the same batches give the same rows', () => (stream(fresh(), 0) === stream(fresh(), 0) ? undefined : 'the rows differ'));

  if (KernelInstance.create(module, setup).stateful) {
    run('an instance restored from a snapshot goes on exactly as the one it was taken from; a snapshot it cannot read is refused', () => {
      const a = fresh();
      for (const b of batches.slice(0, 2)) a.objects(b);
      const s = a.snapshot();
      const b = fresh();
      b.restore(s);
      if (stream(a, 2) !== stream(b, 2)) return 'the restored instance gives other rows';
      const [ca, cb] = [JSON.stringify(a.counters()), JSON.stringify(b.counters())];
      if (ca !== cb) return `counters differ: ${ca} and ${cb}`;
      const junk = new Lowlevel(prepared, setup, layout).restoreStatus(Uint8Array.of(0xff, 0xff, 0xff));
      return junk === 0 ? 'accepted three bytes of junk as a snapshot' : undefined;
    });
    const probe = KernelInstance.create(module, setup);
    if (probe.movesDevices) run(MOVES, () => devicesMove(fresh, batches));
    else results.push({ check: WHOLE_ONLY, ok: true, detail: 'state moves whole only' });
  } else {
    // the same devices come in every batch: what a kernel remembers of them shows as other rows
    run('without snapshot and restore, it keeps no state: a batch gives the same rows after others as first', () => {
      const a = fresh();
      for (const b of batches.slice(0, 2)) a.objects(b);
      if (stream(a, 2) === stream(fresh(), 2)) return undefined;
      return 'its rows for a batch depend on the batches before it (state, per device or in a window), but it exports no snapshot and restore, so a trap forgets that state: export them (docs/kernel-abi.md, State)';
    });
  }
  return results;
}

const MOVES = 'devices move: two exported from one instance and imported into a fresh one go on there exactly as they would have (rows and counters); an import leaves other devices as they were; junk is refused';
const WHOLE_ONLY = 'state moves whole only: no export_devices, import_devices and drop_devices, so a partition cannot take its devices along (docs/kernel-abi.md, Devices moving)';

/**
 * Instance X runs two batches, exports devices {a, b} and drops the others; a fresh Y imports them; both
 * then get the third batch's fixes of a and b, and flush. Another instance W, which has run the other
 * devices, imports {a, b} too: what it holds of its own devices is byte for byte what it held before, and
 * of a and b, what was exported. Junk, and an export with every device's bytes spoiled, are refused
 * whole, without a trap.
 */
function devicesMove(fresh: () => Kernel, batches: GpsBatch[]): string | undefined | { note: string } {
  const name = fresh().schema.name;
  const ids = [...new Set(batches.flatMap((b) => b.devices))];
  if (ids.length < 3) return { note: 'not tried: the trace has fewer than three devices' };
  const [moved, others] = [ids.slice(0, 2), ids.slice(2)];
  const only = (keep: string[]) => batches.map((b) => batchFromRecords(recordsOf(b).filter((r) => keep.includes(r.deviceId))));
  const x = fresh();
  for (const b of batches.slice(0, 2)) x.objects(b);
  const exported = x.exportDevices(moved);
  const y = fresh();
  y.importDevices(exported);
  x.dropDevices(others);
  const third = only(moved)[2];
  const rest = (k: Kernel) => JSON.stringify([...k.objects(third), ...k.flushObjects()]);
  const [cx, cy] = [x.counters(), y.counters()];
  if (rest(x) !== rest(y)) return 'the devices imported give other rows than where they came from';
  const [dx, dy] = [increments(cx, x.counters()), increments(cy, y.counters())];
  if (dx !== dy) return `counters went up by ${dx} where the devices came from, by ${dy} where they went`;

  const w = fresh();
  for (const b of only(others).slice(0, 2)) w.objects(b);
  const own = () => [...deviceRecords(name, w.exportDevices(others))].join(';');
  const before = own();
  w.importDevices(exported);
  if (own() !== before) return 'importing devices changed the state of other devices';
  const records = deviceRecords(name, exported);
  if ([...deviceRecords(name, w.exportDevices(moved))].join(';') !== [...records].join(';')) return 'the devices imported do not export again as they were exported';
  const refused = (bytes: Uint8Array) => {
    try {
      w.importDevices(bytes);
      return false;
    } catch (e) {
      if (e instanceof KernelTrap) throw e;
      return true;
    }
  };
  if (!refused(Uint8Array.of(0xff, 0xff, 0xff))) return 'accepted three bytes of junk as devices';
  if (records.size && !refused(spoiled(exported))) return 'accepted an export whose devices are all 0xff bytes';
  if (own() !== before) return 'a refused import changed the state of other devices';
  return { note: `${records.size} devices moved, ${thousands(exported.length)} bytes` };
}

/** the export with every byte of every device's state set to 0xff, its frame left whole */
function spoiled(exported: Uint8Array): Uint8Array {
  const out = exported.slice();
  const view = new DataView(out.buffer);
  let at = 8 + view.getUint32(4, true);
  const names = view.getUint32(at, true);
  at += 4;
  for (let i = 0; i < names; i++) at += 4 + view.getUint32(at, true);
  at += 4 + view.getUint32(at, true);
  const count = view.getUint32(at, true);
  at += 4;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(at + 4, true);
    out.fill(0xff, at + 8, at + 8 + len);
    at += 8 + len;
  }
  return out;
}

/** what each counter went up by, as one string */
const increments = (before: Record<string, number>, after: Record<string, number>) => JSON.stringify(Object.entries(after).map(([k, v]) => [k, v - before[k]]));

/** What the import and export tables lack or have too much of, or undefined. */
function importsAndExports(module: WebAssembly.Module): string | undefined {
  const imports = WebAssembly.Module.imports(module);
  const other = imports.filter((i) => !(i.module === 'wasi_snapshot_preview1' && i.kind === 'function') && !(i.module === 'env' && i.name === 'memory' && i.kind === 'memory'));
  if (other.length) return `imports ${other.map((i) => `${i.module}.${i.name}`).join(', ')}: only env.memory and WASI preview1 are given`;
  if (!imports.some((i) => i.module === 'env' && i.name === 'memory')) return 'does not import its memory (link with --import-memory)';
  const exports = new Set(WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((e) => !exports.has(e));
  if (missing.length) return `does not export ${missing.join(', ')}`;
  if (exports.has('_start')) return 'exports _start: a kernel is a reactor (clang -mexec-model=reactor)';
  return undefined;
}

/** What is wrong with a call's rows: a row field past the batch, an enum past its values, an id of no device seen, a fence past the fences. */
function rowProblem(fields: FieldSpec[], rows: Rows, b: GpsBatch, knownDevice: (id: number) => boolean, fences: number): string | undefined {
  for (const f of fields) {
    const col = rows.cols[f.name];
    for (let i = 0; i < rows.n; i++) {
      const v = col[i];
      if (f.type === 'row' && v >= b.n) return `field ${f.name} of row ${i} is ${v}, past the batch of ${b.n}`;
      if (f.type === 'enum' && v >= f.values!.length) return `field ${f.name} of row ${i} is ${v}, past its ${f.values!.length} values`;
      if (f.type === 'device' && !knownDevice(v)) return `field ${f.name} of row ${i} is ${v}, the id of no device given`;
      if (f.type === 'fence' && v >= fences) return `field ${f.name} of row ${i} is ${v}, past the ${fences} fences`;
    }
  }
  return undefined;
}

/** One instance driven by hand, to watch what a call does to memory around it. */
class Lowlevel {
  private readonly k: KernelInstance;
  private readonly ids = new StableIds();

  constructor(
    p: PreparedKernel,
    setup: KernelOptions,
    private readonly layout: RowLayout | undefined,
  ) {
    this.k = KernelInstance.create(setup.module, setup);
    this.k.init(p.block);
  }

  private bytesFor(cap: number): number {
    return this.layout ? cap * this.layout.rowBytes : cap;
  }

  process(b: GpsBatch, cap: number): { n: number; cap: number; guardWritten: boolean; inputChanged: boolean } {
    const k = this.k;
    const size = batchBytes(b.n);
    const ptr = k.call(() => k.exports.alloc(size));
    batchInto(k.memory, ptr, b, this.ids);
    const before = k.bytes(ptr, size).slice();
    const outBytes = this.bytesFor(cap);
    const out = k.call(() => k.exports.alloc(outBytes + GUARD));
    k.bytes(out + outBytes, GUARD).fill(CANARY);
    const n = k.check(k.call(() => k.exports.process(ptr, b.n, out, cap)), 'process');
    const guardWritten = k.bytes(out + outBytes, GUARD).some((x) => x !== CANARY);
    const after = k.bytes(ptr, size);
    const inputChanged = after.some((x, i) => x !== before[i]);
    return { n, cap, guardWritten, inputChanged };
  }

  flush(cap: number): number {
    const k = this.k;
    const out = k.call(() => k.exports.alloc(this.bytesFor(cap)));
    const n = k.check(k.call(() => k.exports.flush(out, cap)), 'flush');
    k.exports.dealloc(out);
    return n;
  }

  counter(name: string): number {
    return this.k.counters()[name];
  }

  restoreStatus(state: Uint8Array): number {
    const k = this.k;
    const ptr = k.call(() => k.exports.alloc(state.length));
    k.bytes(ptr, state.length).set(state);
    return k.call(() => k.exports.restore!(ptr, state.length));
  }
}

/**
 * Three devices driving at once, from one trace: its records cut in thirds, each third's clock moved to
 * start with the first, merged in time order.
 */
export function threeDevices(records: readonly GpsRecord[]): GpsRecord[] {
  const third = Math.ceil(records.length / 3);
  const out: GpsRecord[] = [];
  for (let d = 0; d < 3; d++) {
    const part = records.slice(d * third, (d + 1) * third);
    const shift = (part[0]?.t ?? 0) - (records[0]?.t ?? 0);
    for (const r of part) out.push({ ...r, deviceId: `${r.deviceId}-${d}`, t: r.t - shift });
  }
  return out.sort((a, b) => a.t - b.t);
}

/**
 * With no trace: three vehicles driving circles of 300-700 m around `centre` at 8, 14 and 20 m/s, a fix a
 * second for ten minutes, each standing still for three of them in the middle.
 */
export function syntheticFixes(centre: [number, number] = [0, 0]): GpsRecord[] {
  const fixes: GpsRecord[] = [];
  const t0 = Date.UTC(2026, 0, 1, 8);
  const STOP = [240, 420];
  for (let s = 0; s < 600; s++) {
    for (let v = 0; v < 3; v++) {
      const r = 300 + 200 * v;
      const stopped = s >= STOP[0] && s < STOP[1];
      const speed = stopped ? 0 : 8 + 6 * v;
      const driven = Math.min(s, STOP[0]) + Math.max(0, s - STOP[1]);
      const a = (driven * (8 + 6 * v)) / r;
      const [lon, lat] = offsetBy(centre[0], centre[1], r * Math.cos(a), r * Math.sin(a));
      fixes.push({
        deviceId: `synthetic-${v}`,
        t: t0 + s * 1000,
        lon,
        lat,
        speed,
        // anticlockwise: the compass bearing of the tangent
        heading: ((((-a * 180) / Math.PI) % 360) + 360) % 360,
        accuracy: 5,
      });
    }
  }
  return fixes;
}

/** syntheticFixes where a kernel with these params (files read) would see something: at its fences, if any */
export const syntheticFixesFor = (params: Record<string, unknown>): GpsRecord[] => syntheticFixes(firstPosition(params));

/** where the synthetic vehicles drive: at the first position of the fences given (if any), else 0,0 */
function firstPosition(params: Record<string, unknown>): [number, number] {
  const find = (x: unknown): [number, number] | undefined => {
    if (Array.isArray(x) && typeof x[0] === 'number' && typeof x[1] === 'number') return [x[0], x[1]];
    if (typeof x !== 'object' || x === null) return undefined;
    for (const v of Object.values(x)) {
      const p = find(v);
      if (p) return p;
    }
    return undefined;
  };
  return Object.values(params).map(find).find(Boolean) ?? [0, 0];
}
