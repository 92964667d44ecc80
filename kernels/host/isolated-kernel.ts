import type { Worker } from 'node:worker_threads';
import { transferableBatch, type GpsBatch } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import { ownWorker } from '../../runtime/own-worker.ts';
import type { BatchKernel } from '../batch-kernel.ts';
import type { CheckResult } from '../conformance.ts';
import type { NodeKernelOptions } from '../create-kernel.ts';
import type { KernelStats } from '../kernel.ts';
import { KernelError } from './kernel-error.ts';
import type { WorkerReply, WorkerRequest } from './kernel-worker.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A kernel call that ran past its time limit; its thread was stopped and a fresh one replaces it. */
export class KernelTimeout extends Error {
  override readonly name = 'KernelTimeout';
}

export interface IsolatedKernelOptions extends NodeKernelOptions {
  /** ms a call may take before its thread is stopped */
  timeout: number;
  /** the kernel's rows as objects, as `geoflux kernel` prints them (the built-ins too), rather than its events */
  rows?: boolean;
}

/** what a rows kernel counted: its name, its counters in the order it declares them, and its stats */
export interface KernelSummary {
  name: string;
  counters: string[];
  stats: KernelStats;
}

/**
 * A kernel in a worker thread with a time limit per call. A call that overruns, or a thread that dies,
 * costs that thread and the kernel's state in it; the batch is rejected to the caller's error path, and
 * the next call runs on a fresh thread with a freshly prepared kernel.
 */
export class IsolatedKernel implements BatchKernel {
  /** none while a checker is between runs of checks */
  private worker?: Worker;
  private ready!: Promise<void>;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (e: unknown) => void; reject: (e: Error) => void }>();
  /** threads replaced after a timeout or crash */
  replaced = 0;
  /** threads started: one for a run of checks on a checker */
  started = 0;
  private idle?: NodeJS.Timeout;
  /** a checker's checks, one at a time: each prepares its own module on the one thread */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(
    /** what the thread prepares; a checker (`IsolatedKernel.checker`) is given another before each check */
    private kernel: string,
    private params: Record<string, unknown>,
    private readonly opts: IsolatedKernelOptions,
    private readonly make: 'events' | 'rows' | 'none',
    /** a checker's thread stops after this many ms without a check */
    private readonly idleMs = Infinity,
  ) {}

  static async create(kernel: string, params: Record<string, unknown>, opts: IsolatedKernelOptions): Promise<IsolatedKernel> {
    const k = new IsolatedKernel(kernel, params, opts, opts.rows ? 'rows' : 'events');
    k.start();
    await k.ready;
    return k;
  }

  /**
   * The conformance suite (docs/kernel-abi.md) on a kernel in a thread of its own, over `fixes` or three
   * synthetic vehicles: a kernel that loops is stopped after `timeout` ms for the whole suite.
   */
  static async check(kernel: string, params: Record<string, unknown>, opts: IsolatedKernelOptions, fixes?: GpsRecord[]): Promise<CheckResult[]> {
    const k = IsolatedKernel.checker(opts);
    try {
      return await k.checkOn(kernel, params, fixes);
    } finally {
      await k.close();
    }
  }

  /**
   * A thread for checking one module after another (a serve's deploys), started by its first check: most of
   * a check on a thread of its own is starting that thread (a geofence check 209 ms on a fresh thread, 24 ms
   * on a kept one).
   */
  static checker(opts: IsolatedKernelOptions, idleMs = 10_000): IsolatedKernel {
    return new IsolatedKernel('', {}, opts, 'none', idleMs);
  }

  /**
   * The conformance suite on `kernel` in this checker's thread (see `check`), which stops after `idleMs`
   * without a check: a gateway that deploys now and then holds no thread for it between.
   */
  checkOn(kernel: string, params: Record<string, unknown>, fixes?: GpsRecord[]): Promise<CheckResult[]> {
    const check = this.turn.then(() => this.checkNow(kernel, params, fixes));
    this.turn = check.catch(() => {});
    return check;
  }

  private async checkNow(kernel: string, params: Record<string, unknown>, fixes?: GpsRecord[]): Promise<CheckResult[]> {
    clearTimeout(this.idle);
    [this.kernel, this.params] = [kernel, params];
    if (this.worker) this.prepare();
    else this.start();
    try {
      return await this.call<CheckResult[]>({ type: 'check', fixes });
    } finally {
      if (this.idleMs < Infinity) this.idle = setTimeout(() => void this.close(), this.idleMs).unref();
    }
  }

  private start(): void {
    this.started++;
    this.worker = ownWorker(import.meta.url, './kernel-worker');
    this.worker.on('message', (r: WorkerReply) => {
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if ('error' in r) w.reject(r.name === 'KernelTrap' ? Object.assign(new Error(r.error), { name: r.name }) : new KernelError(r.error));
      else w.resolve(r.events);
    });
    this.worker.on('error', (e) => this.fail(new KernelError(`kernel thread died: ${e.message}`)));
    this.prepare();
  }

  /** The thread (re)prepares `kernel` with `params`: a fresh kernel, or a checker's next module. */
  private prepare(): void {
    const worker = this.worker!;
    // only what a thread can be sent: the time limit is this side's
    const opts: NodeKernelOptions = { baseDir: this.opts.baseDir, wasi: this.opts.wasi, maxPages: this.opts.maxPages, snapshot: this.opts.snapshot };
    this.ready = new Promise((resolve, reject) => {
      this.waiting.set(0, { resolve: () => resolve(), reject });
    });
    // once it is ready: a kernel thread alone must not keep the process up, but one being set up must, or a
    // command waiting on it alone would exit (a call's timer keeps it up after)
    worker.ref();
    // not one being closed: its terminate must keep the process up until done (`geoflux kernel` on a kernel
    // that loops exited 13, its terminate unsettled, when the closing rejected a restarted thread's start)
    const idle = () => void (this.worker === worker && worker.unref());
    this.ready.then(idle, idle);
    worker.postMessage({ type: 'create', kernel: this.kernel, params: this.params, opts, make: this.make } satisfies WorkerRequest);
  }

  /** Rejects everything in flight, and starts over on a new thread. */
  private fail(err: Error): void {
    // closed: what was in flight was told so, and no thread is started again
    if (!this.worker) return;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    void this.worker!.terminate();
    this.replaced++;
    this.start();
    this.ready.catch(() => {});
  }

  /**
   * the kernel, as a message about it starts; a checker's module is named by its caller, which knows it as the
   * user does: a serve checks its stored copy (.geoflux/kernels/<sha256>.wasm), which a deployer never typed
   */
  private get named(): string {
    return this.make === 'none' ? '' : `kernel ${this.kernel}: `;
  }

  private call<T = unknown[]>(req: DistributiveOmit<Exclude<WorkerRequest, { type: 'create' }>, 'id'>): Promise<T> {
    return this.ready.then(
      () =>
        new Promise<T>((resolve, reject) => {
          const id = this.next++;
          const timer = setTimeout(() => this.fail(new KernelTimeout(`${this.named}a call did not return within ${this.opts.timeout} ms; its thread was stopped`)), this.opts.timeout);
          this.waiting.set(id, {
            resolve: (e) => (clearTimeout(timer), resolve(e as T)),
            reject: (e) => (clearTimeout(timer), reject(e)),
          });
          if (req.type === 'process') {
            // columns moved, not cloned: a batch decoded from a frame is views on the frame's bytes
            const { batch, transfer } = transferableBatch(req.batch);
            this.worker!.postMessage({ type: 'process', batch, id } satisfies WorkerRequest, transfer);
          } else this.worker!.postMessage({ ...req, id } as WorkerRequest);
        }),
    );
  }

  process(batch: GpsBatch): Promise<unknown[]> {
    return this.call({ type: 'process', batch });
  }

  flush(): Promise<unknown[]> {
    return this.call({ type: 'flush' });
  }

  /** A kernel's device exports, in its thread; a thread that dies or overruns loses its devices, as it loses the rest of its state. */
  exportDevices(devices: readonly string[]): Promise<Uint8Array> {
    return this.call({ type: 'exportDevices', devices });
  }

  importDevices(bytes: Uint8Array): Promise<void> {
    return this.call({ type: 'importDevices', bytes });
  }

  dropDevices(devices: readonly string[]): Promise<number> {
    return this.call({ type: 'dropDevices', devices });
  }

  /** what a rows kernel counted (`rows: true`) */
  async summary(): Promise<KernelSummary> {
    return (await this.call({ type: 'stats' }))[0] as KernelSummary;
  }

  /** Stops the thread; a call in flight is rejected (its timer cleared with it). */
  async close(): Promise<void> {
    clearTimeout(this.idle);
    const worker = this.worker;
    this.worker = undefined;
    for (const w of this.waiting.values()) w.reject(new KernelError(`kernel ${this.kernel}: closed while a call ran`));
    this.waiting.clear();
    await worker?.terminate();
  }
}
