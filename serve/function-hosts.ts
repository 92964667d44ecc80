import { chooseHost } from './choose-host.ts';
import { aboutNow, logLevel, type Level, type Logger } from '../log/logger.ts';
import { ModuleThread, type DistributiveOmit, type FunctionInstance, type RestartReason, type StateCommand, type ThreadMessage } from '../runtime/module-thread.ts';
import { isKernelFile } from '../kernels/host/load-module.ts';
import type { FrameChannel } from '../transport/types.ts';
import type { Clock } from '../transport/liveness.ts';
import { RetryTimer } from '../runtime/retry-timer.ts';
import { HungKernels, moduleHash } from './hung-kernels.ts';
import type { FunctionData, SavedInstance } from './run-instance.ts';
import type { SourceData } from './run-source.ts';

/**
 * Host threads: the function instances that run geoflux's own code (kernels, builtins) share a small set of
 * worker threads, `size` of them (default one per core), instead of an isolate each; WebAssembly and its
 * memory cap isolate a kernel, and builtins are our code. So do the workflow's sources that make their own
 * fixes (a simulation, a replay: HOSTED_SOURCES), each in a slot as an instance is, started again with its host as a source's
 * own thread was at its death: from its beginning. Each instance is inside its host as it would be in
 * a thread of its own (serve/host-worker.ts): its own port:// channel to the zipper, sfn and kernel, so the
 * zipper's side and the frame work spread over the hosts are as before. A user's JavaScript keeps a thread
 * of its own (its isolation needs it). Instances with the same watchdog time share hosts.
 *
 * A host that hangs (one instance stuck in a call) or crashes (an uncaught throw) is terminated and started
 * again with every instance it had: their unacknowledged frames are redelivered by the zipper as for any
 * thread, and each kernel instance gets back the state of its last snapshot (posted every `snapshotMs` while
 * it changes). What the records it handled after that snapshot did to its state is lost: counted
 * (`rolledBack`) and logged. A builtin's own state is not snapshotted: it restarts empty, as any restart did;
 * so does a kernel whose snapshot fails (its `snapshot` export returns an error or traps), and the log says so.
 *
 * A hang names no culprit (the thread is stuck, not asked), so the first one of a host that also runs kernels
 * of the user's own (.wasm files, deployed or in the workflow) moves those to hosts kept apart for them, where
 * they go on from their snapshots, and remembers their modules by content (HungKernels, kept in the state
 * folder): an instance of such a module, under any function's name and with any params, later or after a
 * restart of serve, starts apart. So geoflux's own functions are restarted by a user's module once at most,
 * not once per deploy of it, and no longer lose a frame to its hangs (each of their instances' oldest frame
 * is blamed for every hang).
 */

/** what a host thread runs in a slot: a function's instance, or a builtin source */
export type HostedData = FunctionData | SourceData;

/** the kernel a hosted instance runs, if any */
const kernelOf = (d: HostedData) => (d.kind === 'source' ? undefined : d.kernel);
/** it runs a kernel of the user's own (a .wasm file) */
const usersKernel = (d: HostedData) => {
  const k = kernelOf(d);
  return k !== undefined && isKernelFile(k.kernel);
};
/** the SHA-256 of the module of a user's kernel, as its file is now */
const usersModule = (d: HostedData) => {
  const k = kernelOf(d);
  return k && isKernelFile(k.kernel) ? moduleHash(k.kernel, k.baseDir) : undefined;
};

export interface HostWorkerData {
  logLevel: Level;
  snapshotMs: number;
  instances: { slot: number; data: HostedData; state: Uint8Array[] }[];
}

/** what serve posts to a host thread */
export type HostCommand =
  | { geoflux: 'ping' }
  // keep: what made its kernel stays in the host, under its slot, for its function's wake (`from`); save: its
  // kernel's devices' state comes back with its stop, for serve's next start (serve stops cleanly)
  | { geoflux: 'stop'; slot?: number; keep?: boolean; save?: boolean }
  // wake: a parked function's instance, which joins the zipper while its kernel opens (wakeFunction)
  | { geoflux: 'start'; slot: number; data: HostedData; state: Uint8Array[]; from?: number; wake?: boolean }
  | { geoflux: 'forget'; slot: number }
  | (StateCommand & { slot?: number });

/** what a host thread posts beyond ThreadMessage: news of one instance, or its state's snapshot */
export type HostMessage =
  | { geoflux: 'instance'; slot: number; ready?: boolean; failed?: Extract<ThreadMessage, { geoflux: 'failed' }>; stopped?: boolean; stats?: unknown; saved?: SavedInstance }
  | { geoflux: 'snapshot'; slot: number; bytes: Uint8Array }
  // its kernel could not export its state: why
  | { geoflux: 'snapshot'; slot: number; error: string };

export interface FunctionHostsOptions {
  /** host threads per watchdog time (default: os.availableParallelism()) */
  size: number;
  attach: (ch: FrameChannel) => void;
  log: Logger;
  /** ms between a changing kernel instance's snapshots (default 30,000) */
  snapshotMs?: number;
  /** what gets the lines an instance's loggers say, with its function's name (`geoflux logs`) */
  lines?: (fn: string, line: string) => void;
  /** what times the hosts' watchdogs (tests move it by hand) */
  clock?: Clock;
  /** the users' modules that hung a shared host, as the state folder keeps them (default: remembered while these hosts run) */
  hung?: HungKernels;
}

export interface HostsStats {
  threads: number;
  /** each running host's label and the share of its event loop busy over its last 2 s, once known (what places instances by load) */
  busy: { host: string; share: number }[];
  /** instances started again with their host (or apart, after a hang) and given their snapshot back: counted once started */
  restored: number;
  /** records whose effect on a restored instance's state was lost (handled after its snapshot) */
  rolledBack: number;
  /** builtin instances (functions' and sources'), and kernel instances whose snapshot could not be taken, started again empty with their host: counted once started */
  restartedEmpty: number;
  /** parked functions whose kernel's prepared params a host keeps for their wake */
  kept: number;
  /** starts that failed of instances started again (with their host, or apart after a hang): a function's is gone until the function starts anew, a source is tried again (SOURCE_RETRY) until serve stops */
  failedStarts: number;
}

/**
 * How long a builtin source that could not start again waits before it is tried again: its host may have
 * restarted for a neighbour's sake, and what failed it (a replay's file moved away, a road network being
 * rewritten) may be back; nothing else would ever start it again. A function's instance is not retried here:
 * its function is started anew by what scales it (a deploy, a wake, the autoscaler).
 */
const SOURCE_RETRY = { initial: 1000, max: 30_000 };

/** What made a parked function's kernel (its files read, its params prepared), kept by the host its instance ran in. */
export interface KeptKernel {
  /** lets it go: the function is gone (undeployed, replaced), so no wake will take it */
  forget(): void;
}

export class FunctionHosts {
  private readonly pools = new Map<string, Host[]>();
  private readonly made = new Map<string, number>();
  private nextSlot = 0;
  /** the watchdog time of the first hosts, which their labels leave unsaid */
  private firstWatchdog: number | undefined;
  /** the modules of users' kernels that hung a host they shared: their instances, later ones too, under any name, run in hosts kept apart */
  readonly hung: HungKernels;
  /** set once the workflow file's functions have started: what starts later goes where there is room (chooseHost) */
  byLoad = false;
  readonly counts: Omit<HostsStats, 'threads' | 'busy' | 'kept'> = { restored: 0, rolledBack: 0, restartedEmpty: 0, failedStarts: 0 };
  /** the hosted sources' retries, ended with the hosts' restarts when serve stops */
  private readonly retries = new Set<RetryTimer>();
  private restartsEnded = false;

  constructor(readonly o: FunctionHostsOptions) {
    this.hung = o.hung ?? new HungKernels();
  }

  /**
   * An instance to be started in one of the hosts of watchdog time `watchdog`, with `restore` its state (a
   * parked function's wake: it joins while it loads);
   * `kept`, what a parked instance of the same function left in its host: the instance starts in that host,
   * its kernel made from it.
   */
  instance(label: string, data: HostedData, watchdog: number, restore?: Uint8Array[], kept?: KeptKernel): HostedInstance {
    const from = kept as Kept | undefined;
    const i = new HostedInstance(label, data, ++this.nextSlot, (apart) => (from?.host.kept.has(from.slot) ? from.host : this.placeInstance(label, data, watchdog, apart)), this.o.log, this.counts, this.retryFor(data));
    i.restore = restore;
    i.from = from?.slot;
    return i;
  }

  private retryFor(data: HostedData): RetryTimer | undefined {
    if (data.kind !== 'source') return undefined;
    const retry = new RetryTimer({ ...SOURCE_RETRY, timers: this.o.clock });
    this.retries.add(retry);
    if (this.restartsEnded) retry.end();
    return retry;
  }

  stats(): HostsStats {
    const hosts = [...this.pools.values()].flat();
    const running = hosts.filter((h) => h.thread.running);
    const busy = running.flatMap((h) => (h.thread.busyShare === undefined ? [] : [{ host: h.label, share: h.thread.busyShare }]));
    return { threads: running.length, busy, ...this.counts, kept: hosts.reduce((n, h) => n + h.kept.size, 0) };
  }

  /** a host for an instance: `apart` (moved after a hang), else apart when its module hung a host before (said), else shared */
  private placeInstance(label: string, data: HostedData, watchdog: number, apart?: boolean): Host {
    const hash = apart === undefined && !this.hung.none ? usersModule(data) : undefined;
    const hung = this.hung.of(hash);
    const host = this.place(watchdog, data.name, apart ?? hung !== undefined);
    if (hung) this.o.log.about(data.name).info(`${label}: its kernel (SHA-256 ${hash!.slice(0, 12)}…) hung a host thread it shared (as function "${hung.function}", ${hung.at}): it starts in ${host.label}`);
    return host;
  }

  /** where `chooseHost` says, spread or (`byLoad`) by load. `apart`: among the hosts kept apart for users' kernels that hung a host */
  private place(watchdog: number, fn: string, apart = false): Host {
    const key = `${watchdog}${apart ? ' apart' : ''}`;
    this.firstWatchdog ??= watchdog;
    const pool = this.pools.get(key) ?? (this.pools.set(key, []), this.pools.get(key)!);
    const chosen = chooseHost(
      pool.map((h) => ({ instances: h.slots.size, busy: h.thread.busyShare, runsIt: [...h.slots.values()].some((i) => i.data.name === fn) })),
      this.o.size,
      this.byLoad,
    );
    if (chosen >= 0) return pool[chosen];
    const what = [watchdog === this.firstWatchdog ? '' : `watchdog ${watchdog} ms`, apart ? 'kernels of your own, kept apart' : ''].filter(Boolean).join(', ');
    // numbered by the pool's hosts ever made: a host dropped (its thread never started) leaves its number unused
    const made = (this.made.get(key) ?? 0) + 1;
    this.made.set(key, made);
    const host = new Host(`host thread #${made}${what ? ` (${what})` : ''}`, watchdog, this, apart);
    // one made as serve stops (for a wake begun before) is not started again either
    if (this.restartsEnded) host.thread.endRestarts();
    pool.push(host);
    return host;
  }

  /** a host whose thread could not start: it is not restarted, so nothing may be placed in it again */
  drop(host: Host): void {
    for (const pool of this.pools.values()) if (pool.includes(host)) pool.splice(pool.indexOf(host), 1);
  }

  /** serve stops: no host is started again (ModuleThread.endRestarts), nor are its instances moved apart, nor a source tried again */
  endRestarts(): void {
    this.restartsEnded = true;
    for (const r of this.retries) r.end();
    for (const h of [...this.pools.values()].flat()) h.thread.endRestarts();
  }

  async close(timeout = 5000): Promise<void> {
    await Promise.allSettled([...this.pools.values()].flat().map((h) => h.thread.close(timeout)));
  }
}

class Host {
  readonly slots = new Map<number, HostedInstance>();
  /** slots of parked instances whose kernel makers the thread keeps */
  readonly kept = new Set<number>();
  readonly thread: ModuleThread;
  /** its lines (a hang, a restart) are about the functions it hosts as they are said */
  private readonly log: Logger;
  private up: Promise<void> | undefined;

  constructor(
    readonly label: string,
    watchdog: number,
    private readonly hosts: FunctionHosts,
    /** one of the hosts kept apart for users' kernels that hung a host they shared */
    private readonly apart: boolean,
  ) {
    const { o } = hosts;
    this.log = aboutNow(o.log, () => [...this.slots.values()].map((i) => i.data.name));
    this.thread = new ModuleThread({
      label,
      callerUrl: import.meta.url,
      entry: './host-worker',
      watchdog,
      watchFromReady: true,
      // at a restart, every instance it had, each with its last snapshot
      workerData: (): HostWorkerData => ({
        logLevel: logLevel(),
        snapshotMs: o.snapshotMs ?? 30_000,
        instances: [...this.slots.values()].map((i) => ({ slot: i.slot, data: i.data, state: i.snapshot ? [i.snapshot] : (i.restore ?? []) })),
      }),
      attach: o.attach,
      log: this.log,
      clock: o.clock,
      lines: (line, fn) => fn && o.lines?.(fn, line),
      onMessage: (m) => this.slots.get((m as HostMessage).slot)?.heard(m as HostMessage),
      onExit: (why, stopping, stats) => this.exited(why, stopping, stats as Record<number, Record<string, unknown> | undefined> | undefined),
    });
  }

  start(): Promise<void> {
    return (this.up ??= this.thread.start().catch((e: Error) => {
      this.hosts.drop(this);
      throw e;
    }));
  }

  get started(): boolean {
    return this.up !== undefined;
  }

  forget(slot: number): void {
    if (this.kept.delete(slot)) this.thread.post({ geoflux: 'forget', slot } satisfies HostCommand);
  }

  private exited(why: RestartReason, stopping: boolean, stats: Record<number, Record<string, unknown> | undefined> | undefined): void {
    // a new isolate keeps nothing of the old one's
    this.kept.clear();
    const users = why === 'hung' && !stopping && !this.apart ? [...this.slots.values()].filter((i) => usersKernel(i.data)) : [];
    if (users.length && users.length < this.slots.size) {
      for (const i of users) {
        this.slots.delete(i.slot);
        const hash = usersModule(i.data);
        if (hash) this.hosts.hung.remember(hash, i.data.name);
      }
      // one that was starting when its host hung is refused, as any start then (hostExited), not moved
      const moved = users.filter((i) => i.moveApart(stats?.[i.slot]));
      const lost = moved.reduce((n, i) => n + unsnapshotted(stats?.[i.slot]), 0);
      if (moved.length)
        this.hosts.o.log.about(...moved.map((i) => i.data.name)).warn(
          `${this.label} hung: ${moved.map((i) => i.label).join(', ')} (a kernel of your own) go${moved.length === 1 ? 'es' : ''} on from ${moved.length === 1 ? 'its' : 'their'} last snapshot (what ${lost} records handled after it did to ${moved.length === 1 ? 'its' : 'their'} state is lost) in host threads kept apart, so that ${moved.length === 1 ? 'its' : 'their'} hangs no longer restart geoflux's own functions (${moved.length === 1 ? 'its module is' : 'their modules are'} remembered: deployed again, under any name, ${moved.length === 1 ? 'it starts' : 'they start'} apart)${emptied(moved)}`,
        );
      this.hosts.counts.rolledBack += lost;
    }
    const restored: string[] = [];
    const empty: string[] = [];
    const unexported: string[] = [];
    let rolledBack = 0;
    for (const i of [...this.slots.values()]) {
      const last = stats?.[i.slot];
      if (!i.hostExited(why, stopping, last) || stopping) continue;
      if (i.cannotSnapshot !== undefined) unexported.push(withWhy(i));
      else if (kernelOf(i.data)) {
        restored.push(i.label);
        rolledBack += unsnapshotted(last);
      } else empty.push(i.label);
    }
    this.hosts.counts.rolledBack += rolledBack;
    const said = [
      restored.length ? `${restored.join(', ')} from their last snapshot (what ${rolledBack} records handled after it did to their state is lost)` : '',
      empty.length ? `${empty.join(', ')} empty (a builtin's state is not kept)` : '',
      unexported.length ? `${unexported.join(', ')} empty (their kernel's state could not be snapshotted)` : '',
    ].filter(Boolean);
    // one line per restart of a host, and a host's restarts back off: this is as rate-limited as they are
    if (said.length) this.log.warn(`${this.label}: its instances start again with it: ${said.join('; ')}`);
  }
}

/** an instance whose snapshot failed, and why */
const withWhy = (i: HostedInstance) => `${i.label} (${i.cannotSnapshot})`;

/** of instances said to go on from their last snapshot, those that start empty: their kernel's state could not be snapshotted */
const emptied = (instances: HostedInstance[]) => {
  const empty = instances.filter((i) => i.cannotSnapshot !== undefined);
  return empty.length ? `; of them, ${empty.map(withWhy).join(', ')} start${empty.length === 1 ? 's' : ''} empty: ${empty.length === 1 ? 'its' : 'their'} kernel's state could not be snapshotted` : '';
};

/** records an instance handled after its last snapshot, as its last report said */
const unsnapshotted = (last: Record<string, unknown> | undefined) => (typeof last?.unsnapshotted === 'number' ? last.unsnapshotted : 0);

class Kept implements KeptKernel {
  constructor(
    readonly host: Host,
    readonly slot: number,
  ) {}

  forget(): void {
    this.host.forget(this.slot);
  }
}

/** A function instance in a host thread, as serve sees a thread of its own (FunctionInstance). */
export class HostedInstance implements FunctionInstance {
  readonly restarts: Record<RestartReason, number> = { crash: 0, hung: 0, exit: 0 };
  readonly retired: unknown[] = [];
  /** its kernel's state as it last posted it (its devices', or all of it for a kernel whose state moves whole only) */
  snapshot: Uint8Array | undefined;
  /** why its kernel's state could not be snapshotted, while it has no snapshot: it starts again empty, and is counted and said so */
  cannotSnapshot: string | undefined;
  /** the state it starts with, until it posts a snapshot of its own */
  restore: Uint8Array[] | undefined;
  /** the slot of the parked instance whose kernel maker its host keeps for it */
  from: number | undefined;
  /** moved to a host kept apart after a hang: its start there is awaited by no one */
  private apart = false;
  /**
   * it starts again after its host went, with its snapshot (a kernel) or empty (a builtin): counted so once it
   * has started, not when it is tried (a start that fails is a failed start, and a host restarted again tries again)
   */
  private again: 'restored' | 'restartedEmpty' | undefined;
  /** its failure to start again was said and counted (and a source's retry scheduled), or its host was stopped: nothing more is said of it until it is tried again */
  private done = false;
  /** a source tried again after it could not start with its host */
  private retried = false;
  private host: Host | undefined;
  private ready = false;
  private starting: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** told when it has stopped, with what it counted over its life when its host said (a clean stop), and its saved state when asked */
  private stopped: ((final?: unknown, saved?: SavedInstance) => void) | undefined;

  constructor(
    readonly label: string,
    readonly data: HostedData,
    readonly slot: number,
    /** a host for it: apart (`true`, moved after a hang), or as FunctionHosts decides */
    private readonly place: (apart?: boolean) => Host,
    private readonly log: Logger,
    private readonly counts: { failedStarts: number; restored: number; restartedEmpty: number },
    /** a source's: when it cannot start again it is tried again (SOURCE_RETRY), as nothing else would start it */
    private readonly retry?: RetryTimer,
  ) {}

  get running(): boolean {
    return this.ready;
  }

  /** the label of the host it was placed in (`host thread #1`), once placed */
  get hostLabel(): string | undefined {
    return this.host?.label;
  }

  get stats(): unknown {
    return this.ready ? (this.host?.thread.stats as Record<number, unknown> | undefined)?.[this.slot] : undefined;
  }

  /**
   * Starts it in a host (started first when new) and resolves once it is ready; rejects with why it could not
   * start. `joinEarly`: it joins the zipper while its kernel loads (a wake's: the frames held for its function
   * come at once and wait for the kernel; a hang on one before the instance is ready is caught within the
   * start-up's longer watchdog limit). `host`: where, when already chosen.
   */
  async start(joinEarly = this.restore !== undefined, host = this.place()): Promise<void> {
    this.host = host;
    await host.start();
    host.slots.set(this.slot, this);
    // a start-up (a road network to load) may keep the host from answering pings: the watchdog waits for it
    await host.thread.unwatched(
      () =>
        new Promise<void>((resolve, reject) => {
          this.starting = { resolve, reject };
          // taken whether or not the start succeeds: a start that fails leaves the next to read the files
          const from = this.from !== undefined && host.kept.delete(this.from) ? this.from : undefined;
          this.from = undefined;
          // a host between a crash and its restart starts it with the others (workerData)
          host.thread.post({ geoflux: 'start', slot: this.slot, data: this.data, state: this.restore ?? [], from, wake: joinEarly } satisfies HostCommand);
        }),
    );
  }

  /** what its host said of it */
  heard(m: HostMessage): void {
    if (m.geoflux === 'snapshot' && 'bytes' in m) [this.snapshot, this.cannotSnapshot] = [m.bytes, undefined];
    else if (m.geoflux === 'snapshot') {
      // an older snapshot is still what it would start from; else it starts empty: said once, as its first snapshot fails
      if (!this.snapshot && this.cannotSnapshot === undefined) this.log.about(this.data.name).warn(`${this.label}: its kernel's state cannot be snapshotted (${m.error}): a restart of its host thread starts it empty`);
      if (!this.snapshot) this.cannotSnapshot = m.error;
    } else if (m.ready) {
      this.ready = true;
      if (this.again) this.counts[this.again]++;
      this.again = undefined;
      this.starting?.resolve();
      this.starting = undefined;
    } else if (m.failed) {
      this.host?.slots.delete(this.slot);
      const err = Object.assign(new Error(m.failed.error), { name: m.failed.errorName, problems: m.failed.problems });
      if (this.starting) this.starting.reject(err);
      else this.couldNotStart(err);
      this.starting = undefined;
    } else if (m.stopped) {
      this.host?.slots.delete(this.slot);
      this.stopped?.(m.stats, m.saved);
    }
  }

  /** Its host is gone; true when it starts again with the host (it was neither starting, nor stopping, nor was the host stopped). */
  hostExited(why: RestartReason, stopping: boolean, last: unknown): boolean {
    this.ready = false;
    // a start it was making there ends with it, and nothing is wrong (serve stops)
    if (stopping) this.done = true;
    if (last !== undefined) this.retired.push(last);
    if (this.apart && this.starting && !this.stopped && !stopping) {
      // moved apart, no one waits on its start: it starts again with its host, as the host's other instances do
      this.starting.resolve();
      this.starting = undefined;
    } else if (this.starting || this.stopped || stopping) {
      // one that was starting (or stopping) when its host went is not started again with it
      this.host?.slots.delete(this.slot);
      this.starting?.reject(new Error(`${this.label}: its host thread ${why === 'hung' ? 'hung' : why === 'crash' ? 'crashed' : 'exited'} while it started`));
      this.starting = undefined;
      this.stopped?.();
      return false;
    }
    this.restarts[why]++;
    this.again = kernelOf(this.data) && this.cannotSnapshot === undefined ? 'restored' : 'restartedEmpty';
    return true;
  }

  /** Its host hung: it starts again, with its last snapshot, in a host kept apart (FunctionHosts, above). */
  moveApart(last: unknown): boolean {
    if (!this.hostExited('hung', false, last)) return false;
    this.apart = true;
    if (this.snapshot) this.restore = [this.snapshot];
    const failed = (e: Error) => this.couldNotStart(e);
    const host = this.place(true);
    if (host.started) {
      this.start(false, host).catch(failed);
      return true;
    }
    // a new host starts with it, as a host restarts with its instances: loaded before the host is ready and
    // watched, and joined only then (a start on its own is watched only after six times the limit: 60 s)
    this.host = host;
    host.slots.set(this.slot, this);
    host.start().catch(failed);
    return true;
  }

  /**
   * It could not start again, and no one awaits its start: said and counted, once per try (its host's failed
   * start and its own may both say so); a source is tried again after a backoff, which is what limits these lines.
   */
  private couldNotStart(e: Error): void {
    if (this.done) return;
    this.done = true;
    this.counts.failedStarts++;
    const delay = this.retry?.schedule(() => this.tryAgain());
    const where = this.apart ? ' apart' : this.retried ? '' : ' with its host';
    const next = delay === undefined ? '' : `; trying again in ${delay} ms`;
    this.log.about(this.data.name).error(`${this.label}: could not start again${where}${next}: ${e.message}`);
  }

  /** a source's retry: started anew in a host, as at its first start */
  private tryAgain(): void {
    this.done = false;
    this.retried = true;
    this.start(false).then(
      () => {
        this.retry?.reset();
        this.retried = false;
      },
      (e: Error) => this.couldNotStart(e),
    );
  }

  ask(cmd: DistributiveOmit<StateCommand, 'id'>): Promise<Uint8Array | undefined> {
    if (!this.ready || !this.host) return Promise.reject(new Error(`${this.label}: it is not running`));
    return this.host.thread.ask({ ...cmd, slot: this.slot });
  }

  /** Asks it to finish (it closes its connection) and forgets it, after `timeout` ms at the latest. */
  async close(timeout = 5000): Promise<void> {
    await this.closeSaving(timeout, false);
  }

  /** As close; `save` (serve stops cleanly): a kernel's devices' state, taken once it has flushed, is what this resolves with. */
  async closeSaving(timeout: number, save = true): Promise<SavedInstance | undefined> {
    this.retry?.end();
    return (await this.stop(timeout, false, save && kernelOf(this.data) !== undefined))?.saved;
  }

  /** Closes it as its function parks: its host keeps what made its kernel for the wake, which the result names (none for a builtin). */
  async park(timeout = 5000): Promise<KeptKernel | undefined> {
    const host = this.host;
    if (!(await this.stop(timeout, kernelOf(this.data) !== undefined))?.kept || !host) return undefined;
    host.kept.add(this.slot);
    return new Kept(host, this.slot);
  }

  /** whether its host was asked to stop it and `keep` its kernel maker, and the state it `save`d; undefined: it was not running there */
  private async stop(timeout: number, keep: boolean, save = false): Promise<{ kept: boolean; saved?: SavedInstance } | undefined> {
    const host = this.host;
    if (!host?.slots.has(this.slot)) return undefined;
    // what it counted stays counted after it is gone (serve's closing line, /metrics): its final figures when its
    // host says it stopped, else the last it reported; a host that exits meanwhile has had them kept (hostExited)
    const last = this.stats;
    this.ready = false;
    let timer: NodeJS.Timeout | undefined;
    let posted = false;
    const ended = await new Promise<{ final?: unknown; saved?: SavedInstance } | undefined>((resolve) => {
      this.stopped = (final, saved) => resolve({ final, saved });
      posted = host.thread.post({ geoflux: 'stop', slot: this.slot, keep: keep || undefined, save: save || undefined } satisfies HostCommand);
      if (!posted) resolve(undefined);
      timer = setTimeout(() => resolve(undefined), timeout);
    });
    clearTimeout(timer);
    if (!ended) {
      if (last !== undefined) this.retired.push(last);
    } else if (ended.final !== undefined) this.retired.push(ended.final);
    host.slots.delete(this.slot);
    return { kept: posted && keep, saved: ended?.saved };
  }
}
