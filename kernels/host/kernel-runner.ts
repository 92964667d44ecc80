import type { GpsBatch } from '../../codecs/gps-batch.ts';
import { batchBytes, batchInto } from './batch-into.ts';
import { KernelError, KernelTrap } from './kernel-error.ts';
import { KernelInstance, type InstanceOptions } from './kernel-instance.ts';
import type { StableIds } from './stable-ids.ts';
import { thousands } from '../../log/thousands.ts';

/** How often a kernel with state is snapshot: once the journal of calls since holds `rows` fixes, or is `ms` old. */
export interface SnapshotPolicy {
  rows?: number;
  ms?: number;
}

export const DEFAULT_SNAPSHOT: Required<SnapshotPolicy> = { rows: 50_000, ms: 1000 };

/** flush calls before a kernel that keeps returning rows is taken to be broken (a 4096² hotspot grid needs 256) */
const MAX_FLUSH_CALLS = 1_000_000;

/** a call's row count, which must fit the room it was given */
function rowsIn(k: KernelInstance, status: number, cap: number, what: string): number {
  const n = k.check(status, what);
  if (n > cap) throw new KernelError(`${what} returned ${n} rows (or bytes) for room for ${cap}`);
  return n;
}

export interface RunnerOptions extends InstanceOptions {
  /** false: never snapshot, a trapped instance's state is lost */
  snapshot?: SnapshotPolicy | false;
}

/** What keeping state across traps has cost so far. */
export interface StateStats {
  /** instances replaced after a trap */
  replaced: number;
  /** replacements that took the last snapshot and the journal since */
  restores: number;
  /** replacements whose restore failed (the replay trapped too): they started over empty */
  restoreFailures: number;
  snapshots: number;
  /** size of the last snapshot */
  snapshotBytes: number;
  /** ms the last snapshot took (the kernel's snapshot call and the copy out) */
  snapshotMs: number;
  /** ms the last restore took (restore and the journal's replay) */
  restoreMs: number;
}

/**
 * a call since the last snapshot, to replay into a replacement: a process call's batch as the kernel saw it,
 * a flush call, devices imported or dropped
 */
type Entry = { batch: Uint8Array; n: number; cap: number; outBytes: number } | { flushCap: number; outBytes: number } | { imported: Uint8Array } | { dropped: readonly number[] };

/**
 * A kernel as its users need it: one live instance, and after its first trap a warm spare, prepared the same
 * way (params, data). A trap loses no state: the replacement restores the last snapshot and replays the
 * calls journalled since (their rows discarded: they were emitted), so the stream continues from just before
 * the call that trapped; that call's error goes to the caller, who may retry parts of it (runKernel splits a
 * trapped batch in halves, so one bad row is several traps in a row). The first trap makes its replacement
 * there and then; every replacement is followed, on the next turn, by a spare for the next trap. A spare
 * before any trap would double every kernel's memory for an event most never see (the demo's hotspot
 * window is 13 MB, a map matcher's graph 2.6 MB).
 */
export class KernelRunner {
  private k: KernelInstance;
  private spare: KernelInstance | undefined;
  /** a spare is to be made on the next turn */
  private sparing = false;
  private batchAt!: (bytes: number) => number;
  private outAt!: (bytes: number) => number;
  private stateAt!: (bytes: number) => number;
  private idsAt!: (bytes: number) => number;
  private readonly policy: Required<SnapshotPolicy> | undefined;
  private last: Uint8Array | undefined;
  private lastAt = 0;
  private journal: Entry[] = [];
  private journalRows = 0;
  readonly state: StateStats = { replaced: 0, restores: 0, restoreFailures: 0, snapshots: 0, snapshotBytes: 0, snapshotMs: 0, restoreMs: 0 };

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly prepare: (k: KernelInstance) => void,
    private readonly opts: RunnerOptions,
  ) {
    this.k = this.fresh();
    this.regions();
    this.policy = this.k.stateful && opts.snapshot !== false ? { ...DEFAULT_SNAPSHOT, ...opts.snapshot } : undefined;
    this.lastAt = performance.now();
  }

  get instance(): KernelInstance {
    return this.k;
  }

  private fresh(): KernelInstance {
    const k = KernelInstance.create(this.module, this.opts);
    this.prepare(k);
    return k;
  }

  /** The spare, on the next turn after a replacement: off the path of the call that trapped and its retries' first. */
  private spareSoon(): void {
    if (this.sparing) return;
    this.sparing = true;
    setTimeout(() => {
      this.sparing = false;
      this.spare ??= this.fresh();
    }, 0);
  }

  private regions(): void {
    this.batchAt = this.k.region();
    this.outAt = this.k.region();
    this.stateAt = this.k.region();
    this.idsAt = this.k.region();
  }

  /** Runs f on the live instance; after a trap, the replacement has taken over (with the state before it) by the time the trap is thrown. */
  guarded<T>(f: (k: KernelInstance) => T): T {
    try {
      return this.k.call(() => f(this.k));
    } catch (e) {
      if (!(e instanceof KernelTrap)) throw e;
      this.replace();
      throw e;
    }
  }

  private replace(): void {
    this.k = this.spare ?? this.fresh();
    this.spare = undefined;
    this.regions();
    this.state.replaced++;
    this.spareSoon();
    if (!this.policy) return;
    const t0 = performance.now();
    try {
      if (this.last) this.load(this.last);
      for (const e of this.journal) {
        if ('flushCap' in e) this.k.call(() => this.k.exports.flush(this.outAt(e.outBytes), e.flushCap));
        else if ('imported' in e) this.k.call(() => this.give(e.imported, 'import_devices'));
        else if ('dropped' in e) this.k.call(() => this.drop(e.dropped));
        else this.k.call(() => this.replay(e));
      }
      this.state.restores++;
      this.state.restoreMs = performance.now() - t0;
    } catch {
      // what replayed fine once traps now: start over empty rather than trap for ever
      this.state.restoreFailures++;
      this.k = this.fresh();
      this.regions();
      this.last = undefined;
      this.journal = [];
      this.journalRows = 0;
    }
  }

  /** a journalled process() call again, its batch as the kernel saw it */
  private replay(e: { batch: Uint8Array; n: number; cap: number; outBytes: number }): number {
    const ptr = this.batchAt(e.batch.length);
    this.k.bytes(ptr, e.batch.length).set(e.batch);
    return this.k.check(this.k.exports.process(ptr, e.n, this.outAt(e.outBytes), e.cap), 'process');
  }

  /**
   * Copies a batch in (one copy per column; the device column mapped to the ids of `ids`, stable across
   * batches) and calls process with `outBytes` of room for `cap` rows.
   */
  process(batch: GpsBatch, ids: StableIds, cap: number, outBytes: number): { k: KernelInstance; out: number; n: number } {
    return this.guarded((k) => {
      this.snapshotDue();
      const bytes = batchBytes(batch.n);
      const ptr = this.batchAt(bytes);
      batchInto(k.memory, ptr, batch, ids);
      const out = this.outAt(outBytes);
      const n = rowsIn(k, k.exports.process(ptr, batch.n, out, cap), cap, 'process');
      if (this.policy) this.journalled({ batch: k.bytes(ptr, bytes).slice(), n: batch.n, cap, outBytes }, batch.n);
      return { k, out, n };
    });
  }

  /** End of input: calls flush until it returns 0, handing each call's rows to `each` before the next call overwrites them. */
  flush(cap: number, outBytes: number, each: (k: KernelInstance, out: number, n: number) => void): void {
    for (let calls = 0; calls < MAX_FLUSH_CALLS; calls++) {
      const n = this.guarded((k) => {
        this.snapshotDue();
        const out = this.outAt(outBytes);
        const got = rowsIn(k, k.exports.flush(out, cap), cap, 'flush');
        if (this.policy) this.journalled({ flushCap: cap, outBytes }, 0);
        if (got > 0) each(k, out, got);
        return got;
      });
      if (n === 0) return;
    }
    throw new KernelError(`flush returned rows ${thousands(MAX_FLUSH_CALLS)} times and never 0`);
  }

  private journalled(e: Entry, rows: number): void {
    this.journal.push(e);
    this.journalRows += rows;
  }

  /**
   * Snapshots when the policy says so: before a call rather than after one, so that a snapshot that traps
   * is the trap of a call that has not run yet, which the caller may then retry without any row twice.
   */
  private snapshotDue(): void {
    const p = this.policy;
    if (p && this.journal.length && (this.journalRows >= p.rows || performance.now() - this.lastAt >= p.ms)) this.remember();
  }

  /** the kernel's state now, as a snapshot that the journal starts from */
  private remember(): void {
    const t0 = performance.now();
    this.last = this.take();
    this.journal = [];
    this.journalRows = 0;
    this.lastAt = performance.now();
    this.state.snapshots++;
    this.state.snapshotBytes = this.last.length;
    this.state.snapshotMs = this.lastAt - t0;
  }

  private take(): Uint8Array {
    return this.sized((ptr, cap) => this.k.exports.snapshot!(ptr, cap), 'snapshot');
  }

  /** what an export that answers its size when short of room (snapshot, export_devices) writes, given room enough */
  private sized(write: (ptr: number, cap: number) => number, what: string): Uint8Array {
    const k = this.k;
    let cap = 4096;
    for (;;) {
      const ptr = this.stateAt(cap);
      const size = k.check(write(ptr, cap), what);
      if (size <= cap) return k.bytes(ptr, size).slice();
      cap = size;
    }
  }

  private load(state: Uint8Array): void {
    this.give(state, 'restore');
  }

  /** state in, to restore or import_devices, which answer 0 or refuse */
  private give(bytes: Uint8Array, what: 'restore' | 'import_devices'): void {
    const ptr = this.stateAt(bytes.length);
    this.k.bytes(ptr, bytes.length).set(bytes);
    this.k.check(this.k.exports[what]!(ptr, bytes.length), what, (s) => s === 0);
  }

  /** device ids into kernel memory, for export_devices and drop_devices (a real pointer even for none: Rust's slices want one) */
  private ids(ids: readonly number[]): number {
    const ptr = this.idsAt(Math.max(4, 4 * ids.length));
    new Uint32Array(this.k.memory.buffer, ptr, ids.length).set(ids);
    return ptr;
  }

  private drop(ids: readonly number[]): number {
    return this.k.check(this.k.exports.drop_devices!(this.ids(ids), ids.length), 'drop_devices');
  }

  /** The kernel's state now (it also becomes the point a trap restores to). */
  snapshot(): Uint8Array {
    return this.guarded(() => {
      if (!this.k.stateful) return new Uint8Array(0);
      this.remember();
      return this.last!;
    });
  }

  /** Replaces the kernel's state with a snapshot (taken from an instance with the same params and data). */
  restore(state: Uint8Array): void {
    this.guarded(() => {
      this.load(state);
      if (this.policy) {
        this.last = state.slice();
        this.journal = [];
        this.journalRows = 0;
      }
    });
  }

  /** The state of some devices (this host's ids) as the kernel's export_devices frame. */
  exportDevices(ids: readonly number[]): Uint8Array {
    return this.guarded((k) => {
      const ptr = this.ids(ids);
      return this.sized((out, cap) => k.exports.export_devices!(ptr, ids.length, out, cap), 'export_devices');
    });
  }

  /** Adds or replaces the devices of an export_devices frame (its ids this host's); a trap's restore replays it. */
  importDevices(frame: Uint8Array): void {
    this.guarded(() => {
      this.give(frame, 'import_devices');
      if (this.policy) this.journalled({ imported: frame.slice() }, 0);
    });
  }

  /** Forgets devices (their partition has gone elsewhere); how many the kernel held. */
  dropDevices(ids: readonly number[]): number {
    return this.guarded(() => {
      const n = this.drop(ids);
      if (this.policy) this.journalled({ dropped: [...ids] }, 0);
      return n;
    });
  }

  /** room for `bytes` of output, for exports other than process */
  outRegion(bytes: number): number {
    return this.outAt(bytes);
  }
}
