import { inspect } from 'node:util';
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log/logger.ts';
import { countedIn, isDialRequest, portChannel } from '../transport/port.ts';
import { BusyShare } from './busy-share.ts';
import { LatestCounts, type Counted } from './latest-counts.ts';
import type { FrameChannel } from '../transport/types.ts';
import { ownWorker } from './own-worker.ts';
import { RetryTimer } from './retry-timer.ts';
import { callUnderWay } from './running-call.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';

/**
 * One user module (a workflow's function or source) in a worker thread of its own, supervised from the
 * zipper's thread, so that nothing the module does can take the zipper down: an exception it throws from a
 * timer, a promise rejection it leaves unhandled, or its exit ends its thread only, and an endless loop is
 * caught by the watchdog (a ping the thread must answer within `watchdog` ms). Either way the thread is
 * started again with backoff, and the zipper hands what the old one held unacknowledged to the new one.
 *
 * The thread reaches the zipper through port:// (transport/port.ts): each dial it makes is answered here
 * with a MessageChannel whose other end `attach` gives to the zipper.
 */

export type RestartReason = 'crash' | 'hung' | 'exit';

const HUNG = 'hung (an endless loop?) and was stopped';

/**
 * A thread that starts a module beside others already running (a host's) is watched during that start-up,
 * since a neighbour may hang meanwhile, but with this many times the watchdog's limit: a start-up's
 * synchronous loads (a road network) are not an endless loop. A kernel call under way longer than the limit
 * is one whatever starts (the thread says which call it is in: runtime/running-call.ts).
 */
const STARTUP_GRACE = 6;

export interface ModuleThreadOptions {
  /** how logs name it: `function "speeding" #1` */
  label: string;
  /** the worker entry, beside `callerUrl` (as for ownWorker) */
  callerUrl: string;
  entry: string;
  /** what the thread starts with; a function is asked again at each restart (a host thread's instances then) */
  workerData: unknown;
  /** ms the thread may go without answering before it is stopped and restarted (0: no watchdog) */
  watchdog: number;
  attach: (ch: FrameChannel) => void;
  log: Logger;
  /** first restart delay and its cap, ms (default 100 and 30,000; the delay doubles, with jitter) */
  backoff?: { initial: number; max: number };
  /** ms up after which the next failure starts the backoff over (default 30,000) */
  stableAfter?: number;
  /** the watchdog starts at the thread's ready, not at its first dial (a host thread dials once for each instance it starts before it is ready) */
  watchFromReady?: boolean;
  /** what the thread posts beyond ThreadMessage (a host thread's news of its instances) */
  onMessage?: (m: { geoflux: string }) => void;
  /** the thread is gone (`how`, as its channels were told) and will be started again unless stopped; `stats` its last */
  onExit?: (why: RestartReason, stopping: boolean, stats: unknown) => void;
  /** what gets the lines the module's loggers say (they are printed from its thread as well) */
  lines?: (line: string, fn?: string) => void;
  /** what times the watchdog's pings (tests move it by hand) */
  clock?: Clock;
}

/** What a module's thread posts to the one that started it. */
export type ThreadMessage =
  | { geoflux: 'ready' }
  /** `problems`: the fields the error is about, when it names them (a kernel's params) */
  | { geoflux: 'failed'; error: string; errorName: string; problems?: { path: (string | number)[] }[] }
  | ({ geoflux: 'pong' } & Counted)
  /** the answer to a command with an id: its bytes, or why it failed */
  | { geoflux: 'reply'; id: number; bytes?: Uint8Array; error?: string }
  /** a line its loggers said (log/logger.ts tapLogLines), for `lines`; `fn`: the function it is about, from a thread of several */
  | { geoflux: 'log'; line: string; fn?: string }
  /** where the thread keeps the number of the kernel call it is in (runtime/running-call.ts), for the watchdog */
  | { geoflux: 'calls'; cell: SharedArrayBuffer };

/** What the starting thread posts to a module's thread. */
export type ThreadCommand = { geoflux: 'ping' } | { geoflux: 'stop' } | StateCommand;

/**
 * What serve asks of a function's instance, whether it has a thread of its own (ModuleThread) or shares a
 * host thread with others (serve/function-hosts.ts).
 */
export interface FunctionInstance {
  readonly restarts: Record<RestartReason, number>;
  /** the latest stats it reported */
  readonly stats: unknown;
  /** what its earlier incarnations had counted when last heard of */
  readonly retired: unknown[];
  readonly running: boolean;
  start(): Promise<void>;
  ask(cmd: DistributiveOmit<StateCommand, 'id'>): Promise<Uint8Array | undefined>;
  close(timeout?: number): Promise<void>;
}

/**
 * what a replace or a scale change asks of a kernel function's thread (serve/move-devices.ts): its devices'
 * state out (all, or `devices`), another's in, its devices forgotten, or which devices it holds (msgpack)
 */
export type StateCommand = ({ geoflux: 'export-state'; devices?: string[] } | { geoflux: 'drop-state'; devices?: string[] } | { geoflux: 'import-state'; bytes: Uint8Array[] } | { geoflux: 'held-devices' }) & { id: number };

export class ModuleThread implements FunctionInstance {
  readonly restarts: Record<RestartReason, number> = { crash: 0, hung: 0, exit: 0 };
  /** the latest stats the thread reported (its module's counters) */
  stats: unknown;
  /** stats of the threads before this one (what they had counted when last heard of) */
  readonly retired: unknown[] = [];
  private worker: Worker | undefined;
  private readonly channels = new Set<FrameChannel>();
  private stopping = false;
  private readonly restartAfter: RetryTimer;
  private upSince = 0;
  /** ms of silence from the thread, counted only while this thread was free to hear it (see watch) */
  private silent = 0;
  private lastTick = 0;
  private pinger: unknown;
  /** the number of the kernel call the thread is in (0: none), once it says where it keeps it */
  private call: (() => number) | undefined;
  /** the call seen under way at the last ping, and ms it has been seen so (counted as silence is) */
  private lastCall = 0;
  private callMs = 0;
  /** start-ups under way in the thread (a host's instances): silence may then last STARTUP_GRACE times the watchdog */
  private starting = 0;
  private load = new BusyShare();
  private readonly asked = new Map<number, { resolve: (bytes: Uint8Array | undefined) => void; reject: (e: Error) => void }>();
  private nextAsk = 0;

  private readonly clock: Clock;

  constructor(private readonly o: ModuleThreadOptions) {
    this.clock = o.clock ?? systemClock;
    this.restartAfter = new RetryTimer(o.backoff ?? { initial: 100, max: 30_000 });
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** the share of its event loop that was busy over its last whole 2 s, as its watchdog's pings sampled it (BusyShare); undefined before that */
  get busyShare(): number | undefined {
    return this.worker && this.load.share;
  }

  /** Starts the thread and resolves once the module is ready; a module that cannot start rejects with why. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.spawn(resolve, reject));
  }

  private spawn(ready?: () => void, failed?: (e: Error) => void): void {
    const data = this.o.workerData;
    const w = ownWorker(this.o.callerUrl, this.o.entry, { workerData: typeof data === 'function' ? data() : data });
    this.worker = w;
    this.load = new BusyShare();
    this.call = undefined;
    let started = false;
    let reason: RestartReason | undefined;
    const latest = new LatestCounts();
    const counted = (c: Counted) => {
      latest.take(c);
      this.stats = latest.value;
    };
    // the watchdog watches the thread from the moment it can be handed work: its first dial to the zipper (a
    // restarted function dials, and is handed what its predecessor held, before it says it is ready), or its
    // ready. Start-up before that may take long (a road network to load) and is not watched. Its pings, at
    // least once a second, also bring the module's stats (what /metrics reads), as a function's acks do.
    const watch = () => {
      if (this.o.watchdog <= 0 || this.pinger) return;
      [this.silent, this.lastTick, this.lastCall, this.callMs] = [0, this.clock.now(), 0, 0];
      const tick = () => {
        this.pinger = this.clock.setTimeout(tick, this.pingEvery);
        this.watch(w, (r) => (reason = r));
      };
      this.pinger = this.clock.setTimeout(tick, this.pingEvery);
    };
    w.on('message', (m: unknown) => {
      this.silent = 0;
      if (isDialRequest(m)) {
        if (!this.o.watchFromReady) watch();
        // what the thread sends on its channels (frames, and credit for the frames it has taken) shows it is
        // working, even while a backlog keeps it from answering pings promptly; its acks bring its counters
        m.port.on('message', (said: unknown) => {
          this.silent = 0;
          const c = countedIn(said);
          if (c) counted(c as Counted);
        });
        const ch = portChannel(m.port, `port://${this.o.label.replace(/[^\w#-]+/g, '')}`, { onceATurn: true });
        this.channels.add(ch);
        return this.o.attach(trackClose(ch, () => this.channels.delete(ch)));
      }
      const msg = m as ThreadMessage;
      if (msg.geoflux === 'ready') {
        started = true;
        this.upSince = Date.now();
        watch();
        if (this.restartCount > 0) this.o.log.info(`${this.o.label}: running again`);
        ready?.();
      } else if (msg.geoflux === 'failed') {
        const err = Object.assign(new Error(msg.error), { name: msg.errorName, problems: msg.problems });
        if (failed && !started) {
          failed(err);
          failed = undefined;
          this.stopping = true;
          void w.terminate();
        } else this.o.log.error(`${this.o.label}: could not start again: ${msg.error}`);
      } else if (msg.geoflux === 'calls') {
        this.call = callUnderWay(msg.cell);
      } else if (msg.geoflux === 'log') {
        this.o.lines?.(msg.line, msg.fn);
      } else if (msg.geoflux === 'pong') {
        counted(msg);
      } else if (msg.geoflux === 'reply') {
        const a = this.asked.get(msg.id);
        this.asked.delete(msg.id);
        if (msg.error === undefined) a?.resolve(msg.bytes);
        else a?.reject(new Error(msg.error));
      } else this.o.onMessage?.(msg);
    });
    w.on('error', (e) => {
      reason = 'crash';
      this.o.log.error(`${this.o.label} crashed: ${e?.stack ?? e?.message ?? inspect(e)}`);
      if (failed && !started) {
        failed(e);
        failed = undefined;
        this.stopping = true;
      }
    });
    w.on('exit', (code) => {
      this.worker = undefined;
      this.clock.clearTimeout(this.pinger);
      this.pinger = undefined;
      const why = reason ?? 'exit';
      this.gone(why === 'hung' ? HUNG : this.stopping ? 'was stopped' : why === 'crash' ? 'crashed' : `exited (code ${code})`);
      this.o.onExit?.(why, this.stopping, this.stats);
      if (this.stats !== undefined) this.retired.push(this.stats);
      this.stats = undefined;
      this.starting = 0;
      if (this.stopping) return;
      if (why === 'exit') this.o.log.error(`${this.o.label}: its thread exited (code ${code})`);
      this.restart(why);
    });
  }

  private get pingEvery(): number {
    return Math.max(10, Math.min(1000, this.o.watchdog / 4));
  }

  /**
   * Pings the thread; one that has not answered for `watchdog` ms is stuck (an endless loop) and is stopped.
   * Silence is counted in time this thread could listen: when this thread itself was blocked (a long
   * synchronous call, a GC pause), a tick comes late and the thread's answers are still queued behind it,
   * so a late tick counts as two ping intervals at most, not as the whole stall.
   */
  private watch(w: Worker, setReason: (r: RestartReason) => void): void {
    const now = this.clock.now();
    const heard = Math.min(now - this.lastTick, 2 * this.pingEvery);
    this.silent += heard;
    this.lastTick = now;
    this.load.sample(w.performance.eventLoopUtilization());
    const call = this.call?.() ?? 0;
    this.callMs = call !== 0 && call === this.lastCall ? this.callMs + heard : 0;
    this.lastCall = call;
    // the leniency is for start-ups' loads: a call over the limit is a hang beside any start-up
    const lenient = this.starting > 0 && this.callMs <= this.o.watchdog;
    if (this.silent > this.o.watchdog * (lenient ? STARTUP_GRACE : 1)) {
      setReason('hung');
      this.o.log.error(`${this.o.label}: its thread has not answered for ${Math.round(this.silent)} ms (an endless loop?): stopping it`);
      this.clock.clearTimeout(this.pinger);
      this.pinger = undefined;
      this.gone(HUNG);
      void w.terminate();
      return;
    }
    w.postMessage({ geoflux: 'ping' } satisfies ThreadCommand);
  }

  /**
   * Says how the thread went to its channels (the zipper names it when it drops a record that instances kept
   * dying on) and to those awaiting its answers. Said before a hung thread is terminated: its ports, closing
   * with it, would otherwise tell the zipper first, and only that they closed.
   */
  private gone(how: string): void {
    const why = () => new Error(`${this.o.label}: its thread ${how}`);
    for (const ch of this.channels) ch.abort(why());
    for (const a of this.asked.values()) a.reject(why());
    this.asked.clear();
    this.channels.clear();
  }

  private restart(reason: RestartReason): void {
    this.restarts[reason]++;
    if (this.upSince && Date.now() - this.upSince > (this.o.stableAfter ?? 30_000)) this.restartAfter.reset();
    const delay = this.restartAfter.schedule(() => this.stopping || this.spawn());
    if (delay !== undefined) this.o.log.warn(`${this.o.label}: restarting in ${delay} ms (${this.restartCount} restarts so far)`);
  }

  private get restartCount(): number {
    return this.restarts.crash + this.restarts.hung + this.restarts.exit;
  }

  /** Posts the thread a command of its own kind (a host's); false when no thread runs. */
  post(cmd: { geoflux: string; [k: string]: unknown }, transfer?: ArrayBuffer[]): boolean {
    this.worker?.postMessage(cmd, transfer);
    return this.worker !== undefined;
  }

  /** Runs `work` (a start-up inside the thread: a road network to load) with the watchdog's limit longer meanwhile. */
  async unwatched<T>(work: () => Promise<T>): Promise<T> {
    this.starting++;
    try {
      return await work();
    } finally {
      this.starting = Math.max(0, this.starting - 1);
    }
  }

  /** Sends the thread a command that it answers (a replace's state hand-over); rejects with the thread's error, or when it goes. */
  ask(cmd: DistributiveOmit<StateCommand, 'id'> & { slot?: number }): Promise<Uint8Array | undefined> {
    const w = this.worker;
    if (!w) return Promise.reject(new Error(`${this.o.label}: its thread is not running`));
    const id = ++this.nextAsk;
    return new Promise((resolve, reject) => {
      this.asked.set(id, { resolve, reject });
      w.postMessage({ ...cmd, id } satisfies ThreadCommand);
    });
  }

  /**
   * Serve stops: a thread that hangs, crashes or exits from now on is not started again. Its close may come
   * much later (functions close upstream first), and a restart meanwhile took what the hung one held and
   * hung on it again, each close then waiting for it.
   */
  endRestarts(): void {
    this.stopping = true;
    this.restartAfter.end();
  }

  /** Asks the module to finish (it closes its connections), then ends the thread, after `timeout` ms at the latest. */
  async close(timeout = 5000): Promise<void> {
    this.endRestarts();
    const w = this.worker;
    if (!w) return;
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    w.postMessage({ geoflux: 'stop' } satisfies ThreadCommand);
    const timer = setTimeout(() => void w.terminate(), timeout);
    await exited;
    clearTimeout(timer);
  }
}

export type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/** the channel, calling `onClose` once it is gone */
function trackClose(ch: FrameChannel, onClose: () => void): FrameChannel {
  return {
    ...ch,
    remote: ch.remote,
    transport: ch.transport,
    get buffered() {
      return ch.buffered;
    },
    start: (h) =>
      ch.start({
        frame: h.frame,
        closed: (err) => {
          onClose();
          h.closed(err);
        },
      }),
  };
}
