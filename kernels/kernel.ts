import { datedRows } from '../codecs/fix-checks.ts';
import { toBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { encodeGraph } from '../network/graph-file.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import type { SegmentIndex } from '../network/segment-index.ts';
import { compileFences, type Fence } from './fence-compiler.ts';
import { KernelError } from './host/kernel-error.ts';
import { kernelSchema, type KernelInstance, type KernelSetup } from './host/kernel-instance.ts';
import type { KernelSchema } from './host/kernel-schema.ts';
import { KernelRunner, type SnapshotPolicy, type StateStats } from './host/kernel-runner.ts';
import { checkParams, encodeParams, type ParamsBlock, type ParamValues } from './host/params.ts';
import { jsonLineObjects, RowLayout, rowObjects, type RowContext, type Rows } from './host/rows.ts';
import { StableIds } from './host/stable-ids.ts';
import { EMPTY_FRAME, frameDevices, unwrapDevices, wrapDevices } from './host/device-state.ts';

/**
 * Any kernel, built-in or custom, as the host runs it (docs/kernel-abi.md): its params checked against its
 * schema and encoded (fences and road graphs compiled to their binaries), its instances run by a
 * KernelRunner, device ids kept stable across batches, its rows decoded by its declared fields. The
 * built-in wrappers shape events from its rows; a custom kernel's rows become JSON objects here.
 */

export interface KernelOptions extends KernelSetup {
  /** rows one call may write (default 65,536); bytes, for a JSON-lines kernel (default 4 MiB) */
  outCap?: number;
  /** when a kernel with state is snapshot (default: every 50,000 fixes or second); false: never */
  snapshot?: SnapshotPolicy | false;
  /** what names the fences in errors (their file) */
  source?: string;
  /** bits a device's id carries to the kernel besides its number (roam's groups) */
  deviceTag?: (deviceId: string) => number;
  /** what an earlier kernel of the same params and files prepared (its `prepared`): taken as it is (kernels/create-kernel.ts, kernelMaker) */
  prepared?: PreparedKernel;
}

/** A kernel's state and the device ids it is keyed by: what carries it to another instance. */
export interface KernelState {
  state: Uint8Array;
  devices: [string, number][];
}

/** Devices by id, or every device the kernel has seen that passes a test (those of one partition, say). */
export type DeviceSelection = readonly string[] | ((deviceId: string) => boolean);

export type KernelStats = Record<string, number> & StateStats & {
  /** rows dropped before the kernel for a time no Date can hold (Kernel.fit) */
  badTimes: number;
};

export type LoadedNetwork = { graph: RoadGraph; index: SegmentIndex };

export interface PreparedKernel {
  schema: KernelSchema;
  values: ParamValues;
  block: ParamsBlock;
  fences: Fence[] | undefined;
  network: LoadedNetwork | undefined;
  /** what compiled but is likely not what was meant (a fence ring that crosses itself), one line each */
  warnings: string[];
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

export class Kernel {
  private readonly ids: StableIds;
  private badTimes = 0;
  /** the declared rows; undefined for a JSON-lines kernel */
  readonly layout: RowLayout | undefined;
  private readonly cap: number;

  private constructor(
    /** what every instance of it is initialised with (Kernel.prepare) */
    readonly prepared: PreparedKernel,
    private readonly runner: KernelRunner,
    outCap: number | undefined,
    deviceTag: ((deviceId: string) => number) | undefined,
  ) {
    this.ids = new StableIds(deviceTag);
    this.layout = prepared.schema.output === 'json-lines' ? undefined : new RowLayout(prepared.schema.output);
    this.cap = this.layout ? RowLayout.cap(outCap ?? 65_536) : (outCap ?? 4 * 1024 * 1024);
  }

  get schema(): KernelSchema {
    return this.prepared.schema;
  }

  /** the params as the kernel got them: checked, defaults filled in */
  get params(): ParamValues {
    return this.prepared.values;
  }

  /** the fences of a `fences` param, in the order rows number them */
  get fences(): Fence[] | undefined {
    return this.prepared.fences;
  }

  /** the road network of a `roads` param */
  get network(): LoadedNetwork | undefined {
    return this.prepared.network;
  }

  /** what compiled but is likely not what was meant (a fence ring that crosses itself) */
  get warnings(): string[] {
    return this.prepared.warnings;
  }

  /**
   * Checks the params against the kernel's schema (KernelParamError names every problem), compiles its data
   * and makes its instances. Data params are objects here (GeoJSON, a loaded network): Node's factories read
   * the files they name first (kernels/create-kernel.ts). With `setup.prepared`, its instances are
   * initialised with that as it is: nothing is checked or compiled again.
   */
  static create(params: unknown, setup: KernelOptions): Kernel {
    const p = setup.prepared ?? Kernel.prepare(params, setup);
    const runner = new KernelRunner(setup.module, (k) => k.init(p.block), setup);
    return new Kernel(p, runner, setup.outCap, setup.deviceTag);
  }

  /** What every instance of the kernel is initialised with: its params checked and encoded, its data compiled. */
  static prepare(params: unknown, setup: KernelOptions): PreparedKernel {
    const schema = kernelSchema(setup.module, setup);
    const values = checkParams(schema, params);
    const data: Record<string, Uint8Array> = {};
    let fences: Fence[] | undefined;
    let network: LoadedNetwork | undefined;
    const warnings: string[] = [];
    for (const p of schema.params) {
      const v = values[p.name];
      if (v === undefined || (p.type !== 'fences' && p.type !== 'roads')) continue;
      if (typeof v === 'string') throw new KernelError(`kernel ${schema.name}: params.${p.name} names a file ("${v}"): here it must be given as ${p.type === 'fences' ? 'GeoJSON' : 'a loaded network'}`);
      if (p.type === 'fences') {
        const c = compileFences(v, setup.source);
        [data[p.name], fences] = [c.bytes, c.fences];
        warnings.push(...c.warnings);
      } else {
        if (!isMap(v) || !isMap(v.graph) || !isMap(v.index)) throw new KernelError(`kernel ${schema.name}: params.${p.name} must be { graph, index } (network/load-network.ts)`);
        network = v as unknown as LoadedNetwork;
        data[p.name] = encodeGraph(network.graph, network.index);
      }
    }
    return { schema, values, block: encodeParams(schema, values, data), fences, network, warnings };
  }

  /**
   * The rows of `fixes` whose events can be decoded: a row whose time no Date can hold (`t: 9e15`) costs only
   * itself, counted, instead of the whole call (`Invalid time value`). What else is wrong with a fix the
   * kernel skips and counts itself; a stream checks all of it before the kernel (codecs/fix-checks.ts).
   */
  fit(fixes: GpsBatch | readonly GpsRecord[]): GpsBatch {
    const { batch, dropped } = datedRows(toBatch(fixes));
    this.badTimes += dropped;
    return batch;
  }

  /** A batch through the kernel: its rows, as columns valid until the next call. For kernels with declared rows. */
  rows(b: GpsBatch): Rows {
    const layout = this.rowLayout();
    const { k, out, n } = this.runner.process(b, this.ids, this.cap, this.cap * layout.rowBytes);
    return layout.view(k.memory.buffer, out, this.cap, n);
  }

  /** End of input: every row the kernel still holds, a call's worth at a time. */
  flushRows(each: (rows: Rows) => void): void {
    const layout = this.rowLayout();
    this.runner.flush(this.cap, this.cap * layout.rowBytes, (k, out, n) => each(layout.view(k.memory.buffer, out, this.cap, n)));
  }

  /** A batch through any kernel, its rows (or JSON lines) as JSON objects. */
  objects(fixes: GpsBatch | readonly GpsRecord[]): Record<string, unknown>[] {
    const b = toBatch(fixes);
    if (this.layout) return rowObjects(this.schema, this.layout, this.rows(b), this.context(b));
    const { k, out, n } = this.runner.process(b, this.ids, this.cap, this.cap);
    return jsonLineObjects(k.text(out, n), b);
  }

  /** End of input, as JSON objects. */
  flushObjects(): Record<string, unknown>[] {
    const got: Record<string, unknown>[] = [];
    if (this.layout) this.flushRows((rows) => got.push(...rowObjects(this.schema, this.layout!, rows, this.context(undefined))));
    else this.runner.flush(this.cap, this.cap, (k, out, n) => got.push(...jsonLineObjects(k.text(out, n), undefined)));
    return got;
  }

  private context(batch: GpsBatch | undefined): RowContext {
    const fences = this.fences;
    return { batch, device: (id) => this.ids.name(id), fence: fences && ((i) => ({ id: fences[i].id, name: fences[i].name })) };
  }

  private rowLayout(): RowLayout {
    if (!this.layout) throw new KernelError(`kernel ${this.schema.name} writes JSON lines, not declared rows`);
    return this.layout;
  }

  /** the device a `device` field's id names */
  deviceName(id: number): string {
    return this.ids.name(id);
  }

  /** Runs f on the live instance, as process does (a trap replaces it): for a kernel's own extra exports. */
  call<T>(f: (k: KernelInstance) => T): T {
    return this.runner.guarded(f);
  }

  counters(): Record<string, number> {
    return this.runner.instance.counters();
  }

  /** the kernel's counters, and what traps and snapshots have cost */
  stats(): KernelStats {
    return { ...this.counters(), ...this.runner.state, badTimes: this.badTimes };
  }

  /** The kernel's state (and the device ids it is keyed by), to carry over to another instance. */
  snapshot(): KernelState {
    return { state: this.runner.snapshot(), devices: this.ids.entries() };
  }

  /** Takes over a snapshot's state (from a kernel with the same params and data). */
  restore(s: KernelState): void {
    this.runner.restore(s.state);
    this.ids.replace(s.devices);
  }

  /** its state goes to another instance only all of it (snapshot and restore), not by device: hotspot's windows */
  get movesWholeOnly(): boolean {
    return this.runner.instance.stateful && !this.runner.instance.movesDevices;
  }

  /**
   * The state of some devices, for another instance of the kernel (same params and data) to import: what
   * moves with a partition. A kernel without state exports no device; one whose state is not per device
   * (hotspot's windows) refuses, as it moves whole only (snapshot and restore).
   */
  exportDevices(devices: DeviceSelection): Uint8Array {
    const ids = this.selected(devices);
    const frame = this.runner.instance.stateful ? this.movable().exportDevices(ids) : EMPTY_FRAME;
    return wrapDevices(this.schema.name, frame, (id) => this.ids.name(id));
  }

  /** Adds the devices of an export (replacing those it holds already); other devices are left as they are. Refused whole if the bytes are not an export of this kernel. */
  importDevices(bytes: Uint8Array): void {
    const { frame, devices } = unwrapDevices(this.schema.name, bytes, (d) => this.ids.id(d));
    if (!this.runner.instance.stateful) {
      if (frameDevices(frame, this.schema.name).length) throw new KernelError(`kernel ${this.schema.name} keeps no state, but the export holds the state of ${devices.join(', ')}`);
      return;
    }
    this.movable().importDevices(frame);
  }

  /** Forgets devices (their partition has gone to another instance); how many the kernel held. */
  dropDevices(devices: DeviceSelection): number {
    const ids = this.selected(devices);
    return this.runner.instance.stateful ? this.movable().dropDevices(ids) : 0;
  }

  /** the ids of the devices selected that this host has seen (the others have no state anywhere here) */
  private selected(devices: DeviceSelection): number[] {
    if (typeof devices === 'function') return this.ids.entries().flatMap(([d, id]) => (devices(d) ? [id] : []));
    return [...new Set(devices)].flatMap((d) => this.ids.known(d) ?? []);
  }

  private movable(): KernelRunner {
    if (!this.runner.instance.movesDevices) throw new KernelError(`kernel ${this.schema.name} moves its state whole only (snapshot and restore; no export_devices): run it where it sees all its input (docs/kernel-abi.md, Devices moving)`);
    return this.runner;
  }
}

/** What every kernel object (built-in or custom) passes through to its Kernel: its state, whole or by device. */
export abstract class KernelStateFace {
  protected constructor(protected readonly kernel: Kernel) {}

  /** what its instances are initialised with: another kernel of the same params and files can be made from it (KernelOptions.prepared) */
  get prepared(): PreparedKernel {
    return this.kernel.prepared;
  }

  /** its own counters (`counter(i)`) by the names its schema declares */
  counters(): Record<string, number> {
    return this.kernel.counters();
  }

  /** The kernel's state (and the device ids it is keyed by), to carry over to another instance. */
  snapshot(): KernelState {
    return this.kernel.snapshot();
  }

  /** Takes over a snapshot's state (from a kernel made with the same params and data). */
  restore(s: KernelState): void {
    this.kernel.restore(s);
  }

  /** its state goes to another instance only all of it (Kernel.movesWholeOnly) */
  get movesWholeOnly(): boolean {
    return this.kernel.movesWholeOnly;
  }

  /** The state of some devices, for another instance made with the same params and data (Kernel.exportDevices). */
  exportDevices(devices: DeviceSelection): Uint8Array {
    return this.kernel.exportDevices(devices);
  }

  /** Adds (or replaces) the devices of an export, leaving the others as they are. */
  importDevices(bytes: Uint8Array): void {
    this.kernel.importDevices(bytes);
  }

  /** Forgets devices whose partition has gone elsewhere; how many were held. */
  dropDevices(devices: DeviceSelection): number {
    return this.kernel.dropDevices(devices);
  }
}

/**
 * A built-in kernel's TypeScript face (geofence, hotspot, mapmatch, roam): each shapes its own events from the
 * generic Kernel's rows; state and counters pass through the same way for all of them.
 */
export abstract class KernelWrapper extends KernelStateFace {
  /** the kernel's stats, with `lostRows` also under the name the event wrappers always gave it */
  stats(): KernelStats & { lostEvents: number } {
    const s = this.kernel.stats();
    return { ...s, lostEvents: s.lostRows };
  }
}
