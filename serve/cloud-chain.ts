import { pack, unpack } from '../codecs/msgpack.ts';
import { EventIds } from '../codecs/event-ids.ts';
import { looksLikeFix } from '../codecs/fix-checks.ts';
import { quoted } from '../codecs/control-characters.ts';
import { MAX_LATE_IN_A_ROW, skipsLate } from '../codecs/late-fix.ts';
import { batchFromRecords, selectRows, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { BatchKernel } from '../kernels/batch-kernel.ts';
import { logger, type Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { KernelBatches, KernelRunStats } from '../sfn/kernel-batches.ts';
import { openKernel } from '../sfn/open-kernel.ts';
import type { KernelFigures } from '../sfn/kernel-metrics.ts';
import type { Sink } from '../sinks/sink.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { mqttUrlOf, openSink } from './open-sink.ts';

/** ms a kernel call may take before its thread is stopped and a spare takes over (a function's `timeout` says otherwise) */
const KERNEL_CALL_TIMEOUT = 2_000;

interface CloudKernel {
  fn: WorkflowFunction;
  /** deployed with --fresh-state: state it cannot take (an earlier version's, in a checkpoint) is left, not fatal */
  fresh?: boolean;
  runner: KernelBatches;
  kernel: BatchKernel;
  stats: KernelRunStats;
}

/** A partition's state as a checkpoint holds it: its devices with their last fix's time and late fixes skipped since, and each kernel's export of them. */
interface PartitionState {
  devices: string[];
  lastT?: number[];
  late?: number[];
  kernels: Record<string, Uint8Array>;
}

/** a device's last fix's time, and the late fixes skipped since (codecs/late-fix.ts) */
interface DeviceTime {
  t: number;
  late: number;
}

/**
 * ms before a device's last fix within which an older fix is a repeat, always dropped: an edge that crashed
 * resends what JetStream had not acknowledged, its last seconds. An older fix still is late, and only a few
 * in a row are dropped (skipsLate), so one fix from a clock set ahead does not blind its device.
 */
const REPEAT_WINDOW = 60_000;

/** Where an event came from in the stream: its id, the same however often a replay makes it. */
export interface EventOrigin {
  stream: string;
  partition: number;
  seq: number;
}

/**
 * A worker's `where: cloud` functions, run in this process for every partition it holds: each kernel once
 * (its per-device state for all the worker's devices), each sink once. A message's fixes go through the
 * kernels that observe its tag; what a kernel emits goes on to the kernels and sinks that observe that tag,
 * as in the zipper, without leaving the process (a device's partition is the same all the way). Each event
 * gets an `id` made of the stream, partition, sequence and its place among what that message made: a
 * replay makes the same ids, so a subscriber can tell a repeat.
 */
export class CloudChain {
  /**
   * fixes not newer than their device's last, by at most REPEAT_WINDOW, dropped before the kernels: an edge
   * that crashed may hand some fixes to the stream twice (docs/scale-out.md), and a kernel must not see a
   * device go back in time
   */
  repeated = 0;
  /** fixes older than that, dropped as late: at most MAX_LATE_IN_A_ROW in a row for a device */
  late = 0;
  private readonly warn: RateLimitedLog;

  /** set while a deploy changes the kernels */
  private gate?: Promise<void>;
  /** messages and partition moves in hand */
  private busy = 0;
  private idle?: () => void;

  private constructor(
    private readonly wf: Workflow,
    private readonly log: Logger,
    readonly kernels: CloudKernel[],
    readonly sinks: { fn: string; sink: Sink; observe: string[] }[],
    /** devices seen per partition, with their last fix's time: what a checkpoint exports and a release drops */
    private readonly devices: Map<number, Map<string, DeviceTime>>,
  ) {
    this.warn = new RateLimitedLog(log);
  }

  static async open(wf: Workflow, log: Logger = logger('worker')): Promise<CloudChain> {
    const cloud = wf.functions.filter((f) => f.where === 'cloud');
    const kernels: CloudKernel[] = [];
    const sinks: CloudChain['sinks'] = [];
    try {
      for (const f of cloud.filter((x) => x.kernel)) kernels.push(await openCloudKernel(wf, f, log));
      for (const f of cloud.filter((x) => x.sink)) sinks.push({ fn: f.name, observe: f.observe, sink: await openSink(wf, f, mqttUrlOf(wf)) });
    } catch (e) {
      await Promise.allSettled([...kernels.map((k) => k.kernel.close?.()), ...sinks.map((s) => s.sink.close(0))]);
      throw e;
    }
    return new CloudChain(wf, log, kernels, sinks, new Map());
  }

  /**
   * A kernel deployed while the worker runs (`geoflux deploy --where cloud`), after the others. Under a name
   * that runs already it is a new version: between two messages, it takes the old one's state of every
   * device the worker holds and the old one is closed; one that cannot take that state is refused (the old
   * one runs on) unless `fresh`, when it starts empty.
   */
  async deploy(f: WorkflowFunction, fresh = false): Promise<void> {
    const k = { ...(await openCloudKernel(this.wf, f, this.log)), fresh };
    try {
      await this.alone(async () => {
        const i = this.kernels.findIndex((x) => x.fn.name === f.name);
        if (i >= 0) {
          const devices = [...this.devices.values()].flatMap((m) => [...m.keys()]);
          const state = await this.kernels[i].runner.exportDevices(devices);
          try {
            await k.runner.importDevices(state);
          } catch (e) {
            if (!fresh) throw new Error(`the new version cannot take the running one's state of ${devices.length} devices (${(e as Error).message}): deploy it with --fresh-state to start it empty`);
          }
          const [old] = this.kernels.splice(i, 1, k);
          await old.kernel.close?.();
        } else this.kernels.push(k);
      });
    } catch (e) {
      await k.kernel.close?.();
      throw e;
    }
  }

  /** Stops a deployed kernel between two messages. */
  async undeploy(name: string): Promise<void> {
    await this.alone(async () => {
      const i = this.kernels.findIndex((x) => x.fn.name === name);
      if (i < 0) return;
      const [k] = this.kernels.splice(i, 1);
      await k.kernel.close?.();
    });
  }

  /** Runs `f` with no message or partition in hand, and none taken up until it ends. */
  private async alone(f: () => Promise<void>): Promise<void> {
    while (this.gate) await this.gate;
    let open!: () => void;
    this.gate = new Promise<void>((r) => (open = r));
    try {
      while (this.busy > 0) await new Promise<void>((r) => (this.idle = r));
      await f();
    } finally {
      this.gate = undefined;
      open();
    }
  }

  /** Work on the kernels, which a deploy waits for and holds back. */
  private async shared<T>(f: () => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    this.busy++;
    try {
      return await f();
    } finally {
      if (--this.busy === 0) this.idle?.();
    }
  }

  /**
   * One message's fixes, on `tag`, through every function after it. Events from a message at or before
   * `muteUpTo` were published before a takeover: the state they leave is kept, the events are not sent again.
   */
  feed(tag: string, batch: GpsBatch, origin: EventOrigin, muteUpTo = 0): Promise<void> {
    return this.shared(() => this.feedNow(tag, batch, origin, muteUpTo));
  }

  private async feedNow(tag: string, batch: GpsBatch, origin: EventOrigin, muteUpTo: number): Promise<void> {
    let seen = this.devices.get(origin.partition);
    if (!seen) this.devices.set(origin.partition, (seen = new Map()));
    const taken: number[] = [];
    let repeated = 0;
    let late = 0;
    let lateDevice = '';
    for (let i = 0; i < batch.n; i++) {
      const d = batch.devices[batch.device[i]];
      const t = batch.t[i];
      const last = seen.get(d);
      if (last && t <= last.t && t >= last.t - REPEAT_WINDOW) repeated++;
      else if (last && skipsLate(t, last.t, last.late)) {
        last.late++;
        late++;
        lateDevice = d;
      } else {
        seen.set(d, { t, late: 0 });
        taken.push(i);
      }
    }
    if (taken.length < batch.n) {
      this.repeated += repeated;
      this.late += late;
      if (repeated) this.warn.warn('repeated', `partition ${origin.partition}: ${repeated} fixes not newer than their device's last dropped (sequence ${origin.seq})`);
      if (late) this.warn.warn('late', `partition ${origin.partition}: ${late} fixes more than ${REPEAT_WINDOW / 1000} s older than their device's last dropped as late (sequence ${origin.seq}, the last of device ${quoted(lateDevice)}); after ${MAX_LATE_IN_A_ROW} in a row, a device's next is taken`);
      batch = selectRows(batch, taken);
    }
    const ids = new EventIds();
    const emit = (t: string, events: Record<string, unknown>[]) => {
      if (!events.length) return;
      for (const e of events) ids.stamp(e, `${origin.stream}:${origin.partition}:${origin.seq}`);
      if (origin.seq > muteUpTo) for (const s of this.sinks) if (s.observe.includes(t)) for (const e of events) s.sink.publish(e);
    };
    const run = async (t: string, b: GpsBatch): Promise<void> => {
      for (const k of this.kernels) {
        if (!k.fn.observe.includes(t)) continue;
        const events = (await k.runner.run(b)) as Record<string, unknown>[];
        for (const out of k.fn.emit) {
          emit(out, events);
          const fixes = events.filter(looksLikeFix) as unknown as GpsRecord[];
          if (fixes.length) await run(out, batchFromRecords(fixes));
        }
      }
    };
    await run(tag, batch);
  }

  /** The state of a partition's devices in every kernel, for its checkpoint. */
  exportPartition(p: number): Promise<Uint8Array> {
    return this.shared(() => this.exportNow(p));
  }

  private async exportNow(p: number): Promise<Uint8Array> {
    const seen = this.devices.get(p) ?? new Map<string, DeviceTime>();
    const devices = [...seen.keys()];
    const kernels: Record<string, Uint8Array> = {};
    for (const k of this.kernels) kernels[k.fn.name] = await k.runner.exportDevices(devices);
    const times = [...seen.values()];
    return pack({ devices, lastT: times.map((d) => d.t), late: times.map((d) => d.late), kernels } satisfies PartitionState);
  }

  /** Takes a partition's devices over from its checkpoint. */
  importPartition(p: number, bytes: Uint8Array): Promise<void> {
    return this.shared(() => this.importNow(p, bytes));
  }

  private async importNow(p: number, bytes: Uint8Array): Promise<void> {
    const s = unpack(bytes) as PartitionState;
    for (const k of this.kernels) {
      const state = s.kernels[k.fn.name];
      try {
        if (state) await k.runner.importDevices(state);
      } catch (e) {
        // a version deployed --fresh-state may find its predecessor's state in a checkpoint taken before it came:
        // its devices start empty, as it did, and the other kernels keep theirs (no replay from the stream's start)
        if (!k.fresh) throw e;
        this.warn.warn('fresh', `partition ${p}: ${k.fn.name} (deployed --fresh-state) cannot take the checkpoint's state of it (${(e as Error).message}); its devices start empty`);
      }
    }
    // a checkpoint from before the last times were kept has none: every fix of its devices is newer
    this.devices.set(p, new Map(s.devices.map((d, i) => [d, { t: s.lastT?.[i] ?? -Infinity, late: s.late?.[i] ?? 0 }])));
  }

  /** Forgets a partition's devices: it went to another worker. */
  dropPartition(p: number): Promise<void> {
    return this.shared(() => this.dropNow(p));
  }

  private async dropNow(p: number): Promise<void> {
    const devices = [...(this.devices.get(p)?.keys() ?? [])];
    for (const k of this.kernels) await k.runner.dropDevices(devices);
    this.devices.delete(p);
  }

  /** what each kernel counted, for /metrics (a version deployed over another starts its counts anew) */
  kernelFigures(): KernelFigures[] {
    return this.kernels.map((k) => {
      const kernel = k.stats.snapshot();
      return { fn: k.fn.name, kernel, counters: kernel.counters };
    });
  }

  /** waits up to `timeout` ms for every sink to have nothing buffered or in flight; true when all went */
  async flushSinks(timeout: number): Promise<boolean> {
    return (await Promise.all(this.sinks.map((s) => s.sink.flush(timeout)))).every(Boolean);
  }

  async close(timeout: number): Promise<void> {
    await Promise.allSettled(this.sinks.map((s) => s.sink.close(timeout)));
    await Promise.allSettled(this.kernels.map((k) => k.kernel.close?.()));
  }
}

/** A cloud function's kernel, in a thread of its own as serve runs a function's, so a kernel that loops costs its call, not the worker. */
async function openCloudKernel(wf: Workflow, f: WorkflowFunction, log: Logger): Promise<CloudKernel> {
  const kernel = await openKernel(f.kernel!, f.params ?? {}, { baseDir: wf.dir, wasi: f.wasi, timeout: f.timeout ?? KERNEL_CALL_TIMEOUT, log });
  const stats = new KernelRunStats();
  return { fn: f, kernel, stats, runner: new KernelBatches(kernel, { stats, log: log.child(`kernel ${f.name}`) }) };
}
