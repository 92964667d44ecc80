import { addBadRows, goodRows, type BadRowCounts } from '../codecs/fix-checks.ts';
import { toBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import { deviceAt } from '../codecs/record-label.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { BatchKernel } from '../kernels/batch-kernel.ts';
import type { KernelState } from '../kernels/kernel.ts';
import { logger, type Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { byHalves } from './by-halves.ts';
import { Histogram, MS_BUCKETS, type HistogramSnapshot } from '../metrics/histogram.ts';
import type { Clock } from '../transport/liveness.ts';
import { runningCall } from '../runtime/running-call.ts';

/** What running a kernel over a stream cost and dropped: every row that did not reach it has a count here. */
export class KernelRunStats {
  batches = 0;
  rows = 0;
  events = 0;
  /** rows not fit for a kernel (bad device id, time, position...), dropped before it */
  readonly badRows: BadRowCounts = {};
  /** calls that trapped (each costs the instance; the batch is split and tried again) */
  traps = 0;
  /** rows that trapped alone, dropped */
  trappedRows = 0;
  /** batches the kernel refused otherwise (an error status, a time limit), and their rows */
  failedBatches = 0;
  failedRows = 0;
  readonly callMs = new Histogram(MS_BUCKETS);
  /** the kernel's own counters, read at each snapshot: a device moved in or out changes them between calls */
  #counters: () => Record<string, number> = () => ({});

  /** reads the counters of `k` from now on; a kernel in a thread of its own has none to read here */
  countersOf(k: BatchKernel): void {
    if (k.counters) this.#counters = () => k.counters!();
  }

  snapshot(): KernelRunSnapshot {
    const { callMs, ...plain } = this;
    return { ...plain, badRows: { ...this.badRows }, callMs: callMs.snapshot(), counters: this.#counters() };
  }
}

export type KernelRunSnapshot = Omit<KernelRunStats, 'callMs' | 'snapshot' | 'countersOf'> & { callMs: HistogramSnapshot; counters: Record<string, number> };

export interface RunKernelOptions {
  /** a batch the kernel failed on; default: logged. The stream goes on. */
  onError?: (err: Error, batch: GpsBatch) => void;
  /** a row that trapped the kernel alone, dropped (counted and logged whether or not this is given) */
  onTrappedRow?: (err: Error, row: GpsBatch) => void;
  stats?: KernelRunStats;
  log?: Logger;
  /** what times the windows of repeated warnings (a trap per row) */
  clock?: Clock;
}

const isTrap = (e: unknown) => (e as Error)?.name === 'KernelTrap';

/**
 * Batches of fixes through a kernel, one at a time and in order, where a bad row costs only itself: rows
 * not fit for a kernel are counted and dropped before it, and a call that traps is split in halves and
 * tried again, down to the rows that trap alone, which are counted and dropped. Shared by the `runKernel`
 * operator and by kernel functions, which hand it each frame's columns as they come (no per-fix objects).
 * Apart from the operator so that a kernel function's thread does not load RxJS for it.
 */
export class KernelBatches<E = unknown> {
  readonly stats: KernelRunStats;
  private readonly ready: Promise<BatchKernel>;
  private readonly log: Logger;
  /** warnings that repeat per row or batch: a kernel that traps on every row must not write a line for each */
  private readonly warnings: RateLimitedLog;
  /** the last call trapped: the next one waits for a turn of the event loop */
  private trappedLast = false;

  constructor(
    kernel: BatchKernel | Promise<BatchKernel>,
    private readonly o: RunKernelOptions = {},
  ) {
    this.ready = Promise.resolve(kernel);
    this.stats = o.stats ?? new KernelRunStats();
    this.ready.then((k) => this.stats.countersOf(k), () => undefined);
    this.log = o.log ?? logger('kernel');
    this.warnings = new RateLimitedLog(this.log, { clock: o.clock });
  }

  /** the kernel, once loaded: a kernel that cannot load (bad params, a missing file) rejects this */
  get loaded(): Promise<BatchKernel> {
    return this.ready;
  }

  async run(x: GpsBatch | readonly GpsRecord[]): Promise<E[]> {
    const k = await this.ready;
    const { batch, bad, dropped } = goodRows(toBatch(x));
    const stats = this.stats;
    addBadRows(stats.badRows, bad);
    if (dropped) this.warnings.warn('bad', `${dropped} fixes unfit for the kernel dropped before it (${Object.entries(bad).map(([reason, n]) => `${n} ${reason}`).join(', ')})`);
    stats.batches++;
    stats.rows += batch.n;
    if (batch.n === 0) return [];
    try {
      const events = await this.resilient(k, batch);
      stats.events += events.length;
      return events;
    } catch (e) {
      stats.failedBatches++;
      stats.failedRows += batch.n;
      if (this.o.onError) this.o.onError(e as Error, batch);
      else this.warnings.warn('failed', `${(e as Error).message}: a batch of ${batch.n} fixes skipped`);
      return [];
    }
  }

  /** what the kernel still holds at the end of input (hotspot's window, mapmatch's lag) */
  async flush(): Promise<E[]> {
    this.warnings.flush();
    const k = await this.ready;
    try {
      return ((await k.flush?.()) ?? []) as E[];
    } catch (e) {
      this.log.warn(`flush at the end of input failed: ${(e as Error).message}`);
      return [];
    }
  }

  /** The state of some devices, for another instance of the kernel to import: what moves with a partition (docs/kernel-abi.md, Devices moving). */
  async exportDevices(devices: readonly string[]): Promise<Uint8Array> {
    return (await this.movable()).exportDevices!(devices);
  }

  /** Adds (or replaces) the devices of an export; the kernel's other devices are left as they are. */
  async importDevices(bytes: Uint8Array): Promise<void> {
    await (await this.movable()).importDevices!(bytes);
  }

  /** Forgets devices whose partition has gone elsewhere; how many the kernel held. */
  async dropDevices(devices: readonly string[]): Promise<number> {
    return (await this.movable()).dropDevices!(devices);
  }

  /** All of its state, when it moves only so (hotspot: docs/kernel-abi.md, Devices moving); undefined when it moves by device or keeps none. */
  async wholeState(): Promise<KernelState | undefined> {
    const k = await this.ready;
    return k.movesWholeOnly ? k.snapshot!() : undefined;
  }

  /** Replaces all of its state with what wholeState took from an instance of the same kernel and params. */
  async restoreWhole(s: KernelState): Promise<void> {
    const k = await this.ready;
    if (!k.movesWholeOnly) throw new Error('this kernel does not move its state whole (docs/kernel-abi.md, Devices moving)');
    k.restore!(s);
  }

  private async movable(): Promise<BatchKernel> {
    const k = await this.ready;
    if (!k.exportDevices || !k.importDevices || !k.dropDevices) throw new Error('this kernel cannot move devices (docs/kernel-abi.md, Devices moving)');
    return k;
  }

  close(): void {
    this.warnings.flush();
    void this.ready.then((k) => k.close?.(), () => undefined);
  }

  private async call(k: BatchKernel, b: GpsBatch): Promise<E[]> {
    // after a trap, a turn of the event loop first: a batch that traps row by row is thousands of calls, each
    // a new instance, chained on promises that never leave the thread; a host thread busy like that answered
    // nothing for 10 s and was stopped as an endless loop, again and again (no row got through)
    if (this.trappedLast) {
      this.trappedLast = false;
      await new Promise((r) => setImmediate(r));
    }
    const t0 = performance.now();
    try {
      // its thread's watchdog can see it under way while it runs (a host's, which is lenient with start-ups)
      return (await runningCall(() => k.process(b))) as E[];
    } finally {
      this.stats.callMs.observe(performance.now() - t0);
    }
  }

  private async resilient(k: BatchKernel, b: GpsBatch): Promise<E[]> {
    const trapped = (e: unknown) => {
      if (!isTrap(e)) return false;
      this.stats.traps++;
      this.trappedLast = true;
      return true;
    };
    const dropped = (e: unknown, row: GpsBatch): E[] => {
      this.stats.trappedRows++;
      this.warnings.warn('trap', `a fix of ${deviceAt(row.devices[0], row.t[0])} traps the kernel: dropped (${(e as Error).message})`);
      this.o.onTrappedRow?.(e as Error, row);
      return [];
    };
    return [...(await byHalves(b, (part) => this.call(k, part), dropped, trapped))];
  }
}

