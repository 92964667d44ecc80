import { FrameError } from '../codecs/frame-error.ts';
import { DEFAULT_MAX_FRAME_SIZE } from '../codecs/frame.ts';
import type { DataFrame, Frame, HandshakeFrame } from '../codecs/frame-types.ts';
import { packMeta, unpackMeta } from '../codecs/metadata.ts';
import { recordsLabel } from '../codecs/record-label.ts';
import { quoted } from '../codecs/control-characters.ts';
import { logger, type Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { parseAddress, transportFor, type FrameChannel, type Listener } from '../transport/index.ts';
import type { ListenOptions } from '../transport/types.ts';
import { expiryWarning } from '../transport/cert-expiry.ts';
import { serverTls, type ServerTls } from '../transport/tls.ts';
import { Connection as Conn, type Unacked } from './connection.ts';
import { dataBytes, recordCount, type TagCounters, type ZipperCounters } from './counters.ts';
import { Delivery, WriterSession } from './delivery.ts';
import { CONTROL_TAG, decodeRequest, encodeControl, type ControlHandler, type ControlReply } from './control.ts';
import { admit, type AdmissionPolicy, type RefusalCode } from './handshake.ts';
import { splitRecords } from './split-records.ts';
import { WaitingRoom } from './waiting-room.ts';
import { buildRoutes, routeFrame, routeToFunction, type Dispatch, type FunctionSpec, type Instance, type RouteDecision, type RoutedFrame, type Routes } from './router.ts';

/** ms a rejected client has to read the reason and hang up before the zipper hangs up on it */
const REJECT_GRACE = 2000;

export interface ZipperConfig {
  name: string;
  listen: string[];
  tls?: { cert: string; key: string };
  /** empty or absent: no authentication */
  token?: string;
  /** PEM of the CA(s) client certificates must chain to (the workflow's auth.clientCa): mutual TLS */
  clientCa?: string;
  /** the control channel's token (the workflow's control.token); absent: no deploys */
  controlToken?: string;
  tags: Record<string, number>;
  functions: { name: string; observe: string[]; dispatch: Dispatch }[];
}

export interface ZipperOptions {
  log?: Logger;
  /** TLS material; default: the config's files, else a fresh self-signed certificate */
  tls?: ServerTls;
  maxFrameSize?: number;
  /** frames queued to one connection before its writers are paused (default 256) */
  highWater?: number;
  /** frames held for a function that has no instance connected (default 10,000); beyond it the oldest go */
  maxWaiting?: number;
  /** ms a client has to send its handshake (default 5,000) */
  handshakeTimeout?: number;
  /** ms a disconnected writer's dedup state is kept for its return (default 10 minutes) */
  sessionTtl?: number;
  /**
   * times a frame may be handed to instances that then died without acknowledging it (default 3): a frame
   * that takes down every instance it reaches is dropped, counted, rather than crash them forever
   */
  maxDeliveries?: number;
  /**
   * how its lines name a function, from its name here (default `function "speeding"`): serve runs a
   * deployment's versions under names of their own (`heavy@2`), which its users never gave
   */
  functionLabel?: (name: string) => string;
  /** where the self-signed certificate is kept across restarts (default: none, a new one each start) */
  stateDir?: string;
  /** the listeners' heartbeat, idle and TLS handshake timeouts (see transport/types.ts) */
  transport?: Pick<ListenOptions, 'heartbeat' | 'idleTimeout' | 'handshakeTimeout' | 'clock'>;
}

/**
 * The zipper: accepts sources and stream functions on every listed transport, admits their handshakes
 * (handshake.ts), and sends each Data frame where the routing table says (router.ts), holding it until the
 * functions have acked it (delivery.ts). This file is the connections' lifecycle around those decisions.
 */
export class Zipper {
  readonly log: Logger;
  /** warnings a client can repeat with every redial (a bad token, a malformed frame) */
  private readonly warnings: RateLimitedLog;
  readonly listeners: Listener[] = [];
  readonly counters: ZipperCounters = { accepted: 0, rejected: 0, malformed: 0, unrouted: 0, forbidden: 0, dropped: 0, removed: 0, unkeyed: 0, redelivered: 0, poison: 0, poisonRecords: 0, handshakeTimeouts: 0, duplicates: 0, lostAtClose: 0 };
  readonly rejections = new Map<RefusalCode, number>();
  /** poison records dropped, by the zipper's name of the function whose instances died on them */
  readonly poisonRecords = new Map<string, number>();
  /** frames and records per tag, as written to the zipper and as sent on to functions */
  readonly tagsIn = new Map<number, TagCounters>();
  readonly tagsOut = new Map<number, TagCounters>();
  tls!: ServerTls;
  private readonly conns = new Set<Conn>();
  private readonly sessions = new Map<string, WriterSession>();
  private readonly instances = new Map<string, Instance<Conn>[]>();
  private readonly waiting: WaitingRoom;
  private readonly rr = new Map<string, number>();
  private specs: FunctionSpec[];
  /** functions whose frames are held, instances or not, until they resume or are switched to another (a replace) */
  private readonly paused = new Set<string>();
  /** functions whose instances may join but that nothing is routed to yet: a new version, warming */
  private readonly standby = new Map<string, FunctionSpec>();
  /** per function whose joins are gated, the instances that joined meanwhile: on no ring until admitted (a scale-up, warming) */
  private readonly aside = new Map<string, Instance<Conn>[]>();
  /** functions an instance has joined since they were added: another joining after they had none is one coming back */
  private readonly joined = new Set<string>();
  private readonly tagNames = new Map<number, string>();
  private readonly policy: AdmissionPolicy & { functions: Map<string, readonly string[]> };
  /** what answers the control channel's requests (serve's deployments); unset: every request is refused */
  control: ControlHandler | undefined;
  /** told of every frame held for a function (one scaled to zero starts again on it) */
  onHold: ((fn: string) => void) | undefined;
  /** per function, Date.now() when a frame was last sent to or held for it: how long it has been idle */
  private readonly lastFrame = new Map<string, number>();
  private routes: Routes<Conn>;
  private nextConn = 0;
  private accepting = true;
  private closed = false;
  private warned = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;
  /** says, hourly, when the certificate is near its end */
  private certWatch: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: ZipperConfig,
    private readonly opts: ZipperOptions,
  ) {
    this.log = opts.log ?? logger(`zipper ${config.name}`);
    this.warnings = new RateLimitedLog(this.log);
    for (const [name, n] of Object.entries(config.tags)) this.tagNames.set(n, name);
    this.specs = config.functions.map((f) => this.specOf(f));
    this.policy = { zipper: config.name, token: config.token, control: config.controlToken, tags: config.tags, functions: new Map(config.functions.map((f) => [f.name, f.observe])) };
    this.routes = buildRoutes(this.specs, this.instances);
    this.waiting = new WaitingRoom(opts.maxWaiting ?? 10_000);
  }

  private specOf(f: ZipperConfig['functions'][number]): FunctionSpec {
    const observe = f.observe.map((t) => {
      const n = this.config.tags[t];
      if (n === undefined) throw new Error(`function "${f.name}" observes unknown tag "${t}"`);
      return n;
    });
    return { name: f.name, observe, dispatch: f.dispatch };
  }

  /**
   * A function joins the set at run time (a deploy): its instances may shake hands from now on, and frames
   * on its tags are held for it until one does. The routing table stays a function of the specs.
   */
  addFunction(f: ZipperConfig['functions'][number], opts: { standby?: boolean } = {}): void {
    if (this.policy.functions.has(f.name)) throw new Error(`function "${f.name}" already exists`);
    if (opts.standby) this.standby.set(f.name, this.specOf(f));
    else this.specs = [...this.specs, this.specOf(f)];
    this.policy.functions.set(f.name, f.observe);
    this.rebuildRoutes();
  }

  /**
   * From now on the function's frames are held (in the waiting room, bounded as for an absent function)
   * rather than sent to its instances; what they hold already they finish (see `settled`). A replace pauses
   * the old version so that its state can be taken at a frame boundary.
   */
  pauseFunction(name: string): void {
    this.paused.add(name);
    this.rebuildRoutes();
  }

  /** Undoes a pause: the frames held meanwhile go to the function's instances, in order. */
  resumeFunction(name: string): void {
    if (!this.paused.delete(name)) return;
    this.rebuildRoutes();
    this.redispatch(this.waiting.release(name));
  }

  /**
   * From now on instances of the function that join are kept aside: no frame goes to them, and they are on
   * no ring, until `admitJoined`. A scale-up starts its instance so, and moves devices' state into it first.
   */
  gateJoins(name: string): void {
    if (!this.aside.has(name)) this.aside.set(name, []);
  }

  /** The instances kept aside by `gateJoins` join the function's routes (and its ring); joins are no longer gated. */
  admitJoined(name: string): void {
    const waiting = this.aside.get(name);
    if (!waiting) return;
    this.aside.delete(name);
    if (waiting.length) this.instances.set(name, [...(this.instances.get(name) ?? []), ...waiting]);
    this.rebuildRoutes();
  }

  /**
   * An instance leaves the function's routes (and its ring) now, before it closes: a scale-down, the devices
   * it owned handed to others. The caller closes it; with nothing sent to it since, it holds nothing.
   */
  retireInstance(name: string, id: string): void {
    const left = (this.instances.get(name) ?? []).filter((i) => i.id !== id);
    if (left.length) this.instances.set(name, left);
    else this.instances.delete(name);
    this.rebuildRoutes();
  }

  /** the ids of the function's instances in the order of its ring's members, then those kept aside: the ring a scale change makes */
  instanceIds(name: string): { joined: string[]; aside: string[] } {
    return { joined: (this.instances.get(name) ?? []).map((i) => i.id), aside: (this.aside.get(name) ?? []).map((i) => i.id) };
  }

  /** Date.now() when a frame was last sent to or held for the function; 0: never */
  lastFrameAt(name: string): number {
    return this.lastFrame.get(name) ?? 0;
  }

  /** Resolves once the function's instances hold no unacknowledged frame (their outputs are out), or after `timeout` ms with false. */
  async settled(name: string, timeout: number): Promise<boolean> {
    const held = () => (this.instances.get(name) ?? []).reduce((n, i) => n + i.conn.unackedCount, 0);
    const deadline = Date.now() + timeout;
    while (held() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return held() === 0;
  }

  /**
   * The switch of a replace: `to` (added in standby) takes `from`'s place in the routes, and the frames held
   * for `from` while it was paused go to `to`'s instances, in order. `from` leaves the set: its instances
   * are the caller's to close, and no instance of it is admitted any more.
   */
  switchFunction(from: string, to: string): void {
    const spec = this.standby.get(to);
    if (!spec) throw new Error(`function "${to}" is not waiting to take over`);
    this.standby.delete(to);
    this.specs = this.specs.map((s) => (s.name === from ? spec : s));
    this.policy.functions.delete(from);
    this.paused.delete(from);
    this.rebuildRoutes();
    const held = this.waiting.release(from);
    for (const u of held) u.fn = to;
    if (held.length) this.log.info(`function "${from}" is now "${to}": sending it the ${held.length} frames held during the switch`);
    this.redispatch(held);
  }

  /** the routes for the specs, with a paused function's instances left out (so its frames are held) */
  private rebuildRoutes(): void {
    const routable = this.paused.size ? new Map([...this.instances].filter(([name]) => !this.paused.has(name))) : this.instances;
    this.routes = buildRoutes(this.specs, routable);
  }

  /**
   * A function leaves the set (an undeploy, or a deploy that failed to start): no instance of it is admitted
   * any more, and frames held for it are let go, counted as dropped. Its connected instances are the caller's
   * to close first, so that they finish what they hold.
   */
  removeFunction(name: string): void {
    if (!this.policy.functions.delete(name)) return;
    this.joined.delete(name);
    this.specs = this.specs.filter((s) => s.name !== name);
    this.standby.delete(name);
    this.paused.delete(name);
    this.aside.delete(name);
    this.rebuildRoutes();
    const held = this.waiting.release(name);
    if (held.length) {
      this.counters.dropped += held.length;
      this.counters.removed += held.length;
      this.warnings.warn('removed', `${this.functionLabel(name)} was removed with ${held.length} frames waiting for it: dropped`, name);
    }
    for (const u of held) u.d.session.settle(u.d);
  }

  /** A zipper that listens on every address of the config (and on memory://<name>). */
  static async start(config: ZipperConfig, opts: ZipperOptions = {}): Promise<Zipper> {
    const z = await Zipper.create(config, opts);
    try {
      await z.listen();
    } catch (e) {
      await z.kill();
      throw e;
    }
    return z;
  }

  /**
   * A zipper reachable only in this process (memory://<name>, and channels given to `attach`) until
   * `listen()`: the functions it hosts can join before any client can reach it, so a workflow whose
   * functions cannot start never opens a port.
   */
  static async create(config: ZipperConfig, opts: ZipperOptions = {}): Promise<Zipper> {
    const z = new Zipper(config, opts);
    const hosts = config.listen.map((a) => parseAddress(a).hostname);
    z.tls = opts.tls ?? (await serverTls(config.tls, [...new Set(['127.0.0.1', 'localhost', ...hosts])], { stateDir: opts.stateDir, log: (m) => z.log.info(m) }));
    await z.open([new URL(z.memoryUrl)]);
    const ttl = opts.sessionTtl ?? 600_000;
    z.sweeper = setInterval(() => z.sweepSessions(ttl), Math.min(ttl, 60_000)).unref();
    const tls = z.tls;
    const sayExpiry = () => {
      const warning = expiryWarning(tls.cert, tls.selfSigned, Date.now());
      if (warning) z.log.warn(warning);
    };
    sayExpiry();
    z.certWatch = setInterval(sayExpiry, 3_600_000).unref();
    return z;
  }

  /** Opens every network listener of the config; if one cannot (a port taken), closes the others and throws. */
  listen(): Promise<void> {
    return this.open(this.config.listen.map(parseAddress));
  }

  private async open(urls: URL[]): Promise<void> {
    const opened: Listener[] = [];
    try {
      for (const url of urls) {
        const t = await transportFor(url);
        const log = (lvl: 'debug' | 'info' | 'warn' | 'error', m: string) => this.log[lvl](m);
        const listenOpts: ListenOptions = { ...this.opts.transport, tls: this.tls, maxFrameSize: this.opts.maxFrameSize, clientCa: this.config.clientCa, log };
        // a listener's new connections stop at the drain; serve's own threads (attach) may still join then
        opened.push(await t.listen(url, listenOpts, (ch) => (this.accepting ? this.attach(ch) : ch.abort(new Error('zipper is shutting down')))));
      }
    } catch (e) {
      await Promise.allSettled(opened.map((l) => l.close()));
      throw e;
    }
    // network listeners first: the banner and the workflow's sources take listeners[0] as the zipper's address
    const all = [...this.listeners, ...opened];
    this.listeners.length = 0;
    this.listeners.push(...all.filter((l) => l.transport !== 'memory'), ...all.filter((l) => l.transport === 'memory'));
  }

  /** the address an in-process function dials */
  get memoryUrl(): string {
    return `memory://${encodeURIComponent(this.config.name)}`;
  }

  tagName(tag: number): string {
    return this.tagNames.get(tag) ?? String(tag);
  }

  stats() {
    const tags = (m: Map<number, TagCounters>) => Object.fromEntries([...m].map(([t, c]) => [this.tagName(t), { ...c }]));
    return {
      ...this.counters,
      rejections: Object.fromEntries(this.rejections),
      connections: [...this.conns]
        .filter((c) => c.hs)
        .map((c) => ({ id: c.id, kind: c.hs!.kind, name: c.hs!.name, remote: c.ch.remote, transport: c.ch.transport, unacked: c.unackedCount, queued: c.ch.buffered, ...c.counters })),
      tagsIn: tags(this.tagsIn),
      tagsOut: tags(this.tagsOut),
      waiting: this.waiting.sizes(),
      inflight: this.inflight,
      listeners: this.listeners.map((l) => ({ url: l.url, ...l.stats() })),
    };
  }

  /**
   * Takes a channel from any transport (a listener's, or a function thread's port) through the handshake.
   * serve's own threads may join after `drain` (until `close`): a parked function woken by what an upstream
   * function emits as it closes (a hotspot's last window) is as much the workflow's as the functions closing.
   */
  attach(ch: FrameChannel): void {
    if (this.closed) return ch.abort(new Error('zipper is shutting down'));
    const conn = new Conn(++this.nextConn, ch);
    this.conns.add(conn);
    this.counters.accepted++;
    const wait = this.opts.handshakeTimeout ?? 5000;
    const timer = setTimeout(() => {
      if (conn.hs) return;
      this.counters.handshakeTimeouts++;
      this.reject(conn, 'timeout', `no handshake within ${wait} ms`);
    }, wait);
    timer.unref();
    ch.start({
      frame: (f) => {
        try {
          this.onFrame(conn, f);
        } catch (e) {
          this.protocolError(conn, e as Error);
        }
      },
      closed: (err) => {
        clearTimeout(timer);
        this.onClosed(conn, err);
      },
    });
  }

  private onFrame(conn: Conn, f: Frame): void {
    if (conn.rejected) return;
    if (!conn.hs) {
      if (f.type !== 'handshake') return this.reject(conn, 'protocol', `expected a handshake, got ${f.type}`);
      return this.handshake(conn, f);
    }
    switch (f.type) {
      case 'data':
        return conn.hs.kind === 'control' ? this.onControl(conn, f) : this.onData(conn, f);
      case 'ack':
        return this.onInstanceAck(conn, f.seq);
      case 'ping':
        return conn.ch.send({ type: 'pong', id: f.id });
      case 'pong':
        return;
      case 'goaway':
        conn.leaving = true;
        void conn.ch.close();
        return;
      default:
        throw new FrameError('bad-field', `unexpected ${f.type} frame after the handshake`);
    }
  }

  private handshake(conn: Conn, hs: HandshakeFrame): void {
    const verdict = admit(hs, this.policy);
    if (!verdict.ok) return this.reject(conn, verdict.code, verdict.reason);
    if (verdict.warning) this.warnings.warn('admitted', verdict.warning);
    for (const other of this.conns) if (other !== conn && other.hs?.clientId === hs.clientId) this.drop(other, 'replaced by a new connection of the same client');
    conn.hs = hs;
    let session = this.sessions.get(hs.clientId);
    if (!session) this.sessions.set(hs.clientId, (session = new WriterSession(hs.clientId)));
    session.idleSince = 0;
    session.inProcess = conn.ch.transport === 'port' || conn.ch.transport === 'memory';
    conn.session = session;
    let ackQueued = false;
    session.onAck = () => {
      if (ackQueued) return;
      ackQueued = true;
      setImmediate(() => {
        ackQueued = false;
        if (!conn.closed) conn.ch.send({ type: 'ack', seq: session.acked });
      });
    };
    conn.ch.send({ type: 'handshake-ack', zipper: this.config.name, tags: this.config.tags, lastSeq: session.lastSeq, maxFrame: this.opts.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE });
    if (session.acked > 0 && hs.kind !== 'control') conn.ch.send({ type: 'ack', seq: session.acked });
    this.log.info(`${conn.label} connected over ${conn.ch.transport}${hs.kind === 'sfn' ? `, observing ${this.policy.functions.get(hs.name)!.join(', ')}` : ''}`);
    if (hs.kind === 'sfn') this.join(conn);
  }

  private reject(conn: Conn, code: RefusalCode | 'timeout' | 'protocol', reason: string): void {
    this.counters.rejected++;
    if (code !== 'timeout' && code !== 'protocol') this.rejections.set(code, (this.rejections.get(code) ?? 0) + 1);
    this.warnings.warn('rejected', `rejected ${conn.label}: ${reason}`);
    conn.ch.send({ type: 'rejected', reason });
    conn.rejected = true;
    // the client closes when it reads the reason; closing first could lose the reason in flight
    setTimeout(() => conn.ch.abort(), REJECT_GRACE).unref();
  }

  private protocolError(conn: Conn, err: Error): void {
    if (err instanceof FrameError) this.counters.malformed++;
    this.warnings.warn('protocol', `closing ${conn.label}: ${err.message}`);
    conn.ch.abort(err);
  }

  /** Closes a connection from our side, for a reason worth logging. */
  private drop(conn: Conn, why: string): void {
    this.log.info(`closing ${conn.label}: ${why}`);
    conn.ch.send({ type: 'goaway', reason: why });
    void conn.ch.close();
  }

  private join(conn: Conn): void {
    const name = conn.hs!.name;
    const aside = this.aside.get(name);
    if (aside) return void aside.push({ id: conn.hs!.clientId, conn });
    this.instances.set(name, [...(this.instances.get(name) ?? []), { id: conn.hs!.clientId, conn }]);
    this.rebuildRoutes();
    if (this.paused.has(name)) return;
    const held = this.waiting.release(name);
    const back = this.joined.has(name);
    this.joined.add(name);
    if (held.length) {
      // a function that never had an instance (just deployed, or serve just started) is not back: it is new
      this.log.about(name).info(`${this.functionLabel(name)} ${back ? `is back: sending ${held.length} frames held for it` : `has its first instance: sending the ${held.length} frames held for it until then`}`);
      this.redispatch(held);
    }
  }

  private onClosed(conn: Conn, err?: Error): void {
    conn.closed = true;
    this.conns.delete(conn);
    if (err instanceof FrameError) {
      this.counters.malformed++;
      this.warnings.warn('malformed', `closed ${conn.label}: malformed frame: ${err.message}`);
    } else if (conn.hs) {
      this.log.info(`${conn.label} disconnected${err ? `: ${err.message}` : ''}`);
    }
    if (conn.session?.onAck && [...this.conns].every((c) => c.session !== conn.session)) {
      conn.session.onAck = undefined;
      conn.session.idleSince = Date.now();
    }
    if (conn.hs?.kind === 'sfn') {
      const name = conn.hs.name;
      const left = (this.instances.get(name) ?? []).filter((i) => i.conn !== conn);
      if (left.length) this.instances.set(name, left);
      else this.instances.delete(name);
      const aside = this.aside.get(name);
      if (aside) this.aside.set(name, aside.filter((i) => i.conn !== conn));
      this.rebuildRoutes();
      const orphans = conn.takeOrphans();
      if (orphans.length) {
        this.log.info(`re-routing ${orphans.length} unacknowledged frames of ${conn.label}${conn.leaving ? ', handed on as it left' : ''}`);
        this.counters.redelivered += orphans.length;
        // one that said goodbye holding frames closed before it handled them (or its kernel failed to open on
        // a wake): none is to blame, and they go on whole, in order
        if (conn.leaving) return this.redispatch(orphans);
        // an instance acks in order, so the oldest frame it held is the one it was working on when it died;
        // those behind it are not blamed. A blamed frame goes on record by record, so that only a record that
        // kills the function again and again is dropped, not its neighbours. A batch handler (a kernel) takes
        // the frames that came while its last call ran in one call: the oldest of a call that hung may be
        // innocent, and each death blamed the next (10 for one fix in the trial). So every frame it held goes
        // on marked, for a call of its own: the next death is then the oldest's own
        const [suspect, ...rest] = orphans.map(orphaned);
        suspect.failed++;
        suspect.why = err?.message ?? 'its connection closed';
        this.redispatch([...this.isolate(suspect), ...rest]);
      }
    }
  }

  /**
   * A frame that an instance died holding, in parts (sharing its hold) when it has several records: only a
   * single record is dropped as poison, after `maxDeliveries` deaths.
   */
  private isolate(u: Unacked): Unacked[] {
    const parts = splitRecords(u.frame);
    if (!parts) return [u];
    u.d.pending += parts.length - 1;
    // a part keeps the deaths of its frame, short of the last: the record that kills is dropped after
    // `maxDeliveries` deaths whatever its frame's size (not 2 more per split), and only after one alone
    const failed = Math.min(u.failed, this.maxDeliveries - 1);
    return parts.map((frame) => ({ ...u, frame, failed }));
  }

  private functionLabel(name: string): string {
    return this.opts.functionLabel?.(name) ?? `function ${quoted(name)}`;
  }

  private get maxDeliveries(): number {
    return this.opts.maxDeliveries ?? 3;
  }

  /** Sends held or orphaned frames again through routing, then lets go of the hold they had. */
  private redispatch(items: Unacked[]): void {
    const max = this.maxDeliveries;
    for (const u of items) {
      // closed: no instance will take it, and its writer keeps it unacknowledged (close counts it if lost with serve)
      if (this.closed) continue;
      const route = this.routes.byName.get(u.fn);
      if (u.failed >= max) {
        const records = recordCount(u.frame.payload);
        this.counters.poison++;
        this.counters.poisonRecords += records;
        this.poisonRecords.set(u.fn, (this.poisonRecords.get(u.fn) ?? 0) + records);
        this.warnings.warn('poison', `${this.functionLabel(u.fn)}: dropped ${recordsLabel(u.frame, records)} (${this.tagName(u.frame.tag)}, from ${u.frame.from.replace(/(~\d+)+$/, '')} seq ${u.frame.seq}) that ${u.failed} instances died holding, the last: ${u.why}`, u.fn);
      } else if (!route) {
        // its function was removed (an undeploy) while an instance still held the frame
        this.counters.dropped++;
        this.counters.removed++;
        this.warnings.warn('removed', `${this.functionLabel(u.fn)} is gone: dropped a frame from ${u.frame.from} (seq ${u.frame.seq}) an instance of it held`, u.fn);
      } else {
        const out: RouteDecision<Conn> = { sends: [], holds: [], unkeyed: 0 };
        routeToFunction(route, this.routedFrame(u.frame), this.counterFor(u.fn), out);
        this.carryOut(u.frame, u.d, out, undefined, u.failed);
      }
      u.d.session.settle(u.d);
    }
  }

  private sweepSessions(ttl: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.idleSince && now - s.idleSince > ttl && s.inflightCount === 0) this.sessions.delete(id);
  }

  private warnOnce(key: string, msg: string, about?: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    (about === undefined ? this.log : this.log.about(about)).warn(msg + ' (said once)');
  }

  private routedFrame(f: DataFrame): RoutedFrame {
    let meta: ReturnType<typeof unpackMeta> | undefined;
    return { tag: f.tag, payload: f.payload, meta: () => (meta ??= unpackMeta(f.meta)) };
  }

  private counterFor(fn: string): () => number {
    return () => {
      const i = this.rr.get(fn) ?? 0;
      this.rr.set(fn, i + 1);
      return i;
    };
  }

  private onData(conn: Conn, f: DataFrame): void {
    const session = conn.session!;
    const bytes = dataBytes(f);
    conn.counters.framesIn++;
    conn.counters.bytesIn += bytes;
    if (f.seq <= session.lastSeq) {
      conn.counters.duplicates++;
      this.counters.duplicates++;
      return;
    }
    const d = session.begin(f.seq);
    count(this.tagsIn, f.tag, recordCount(f.payload));
    const decision = routeFrame(this.routes, this.routedFrame(f), (fn) => this.counterFor(fn));
    if (decision.dropped === 'forbidden') {
      this.counters.forbidden++;
      this.warnOnce(`forbidden:${conn.hs!.clientId}`, `${conn.label} wrote to tag ${f.tag}, which is reserved for the zipper: dropped`);
    } else if (decision.dropped === 'unrouted') {
      this.counters.unrouted++;
      this.warnOnce(`unrouted:${f.tag}`, `no function observes tag ${this.tagName(f.tag)}: its frames are dropped`);
    } else {
      this.carryOut({ ...f, from: conn.hs!.clientId }, d, decision, conn, 0);
    }
    session.advance();
  }

  /** A control request: answered on its own tag with its seq, then acknowledged, so the client's spool empties. */
  private onControl(conn: Conn, f: DataFrame): void {
    const answer = (r: ControlReply) => {
      if (conn.closed) return;
      conn.ch.send({ type: 'data', tag: CONTROL_TAG, seq: f.seq, from: this.config.name, meta: new Uint8Array(0), payload: encodeControl(r) });
      conn.ch.send({ type: 'ack', seq: f.seq });
    };
    if (f.tag !== CONTROL_TAG) return answer({ ok: false, error: `a control client writes on tag ${CONTROL_TAG} only` });
    let req;
    try {
      req = decodeRequest(f.payload);
    } catch (e) {
      return answer({ ok: false, error: (e as Error).message });
    }
    if (!this.control) return answer({ ok: false, error: 'this zipper takes no control requests' });
    // quoted: the name is as the request sent it, not yet checked
    const line = `${conn.label}: ${req.op}${'name' in req ? ` ${quoted(String(req.name))}` : ''}`;
    // a follower of `geoflux logs` asks once a second: its asks are no news, and not lines of the function it
    // reads (filed there, a follower at debug level would read its own asks back); a deploy's are that function's
    if (req.op === 'logs') this.log.debug(line);
    else ('name' in req ? this.log.about(req.name) : this.log).info(line);
    this.control(req).then(answer, (e: Error) => answer({ ok: false, error: e.message }));
  }

  /** Does what the router decided for a frame: sends to instances, holds for absent functions. */
  private carryOut(f: DataFrame, d: Delivery, decision: RouteDecision<Conn>, writer: Conn | undefined, failed: number): void {
    this.counters.unkeyed += decision.unkeyed;
    if (decision.unreadable) this.warnOnce(`badbatch:${f.from}`, `frame from ${f.from} is not a readable GPS batch (${decision.unreadable}); sent whole`);
    for (const fn of decision.holds) this.hold(fn, f, d, failed);
    for (const s of decision.sends) this.sendTo(s.to, s.fn, s.payload === f.payload ? f : { ...f, payload: s.payload }, d, writer, failed);
  }

  private hold(fn: string, frame: DataFrame, d: Delivery, failed: number): void {
    d.pending++;
    this.lastFrame.set(fn, Date.now());
    this.onHold?.(fn);
    const old = this.waiting.hold({ d, frame, fn, failed });
    if (!old) return;
    this.counters.dropped++;
    this.warnOnce(`waiting:${fn}`, `${this.functionLabel(fn)} has no instance and ${this.waiting.size(fn)} frames wait for it: dropping the oldest`, fn);
    old.d.session.settle(old.d);
  }

  private sendTo(target: Conn, fn: string, frame: DataFrame, d: Delivery, writer: Conn | undefined, failed: number): void {
    d.pending++;
    this.lastFrame.set(fn, Date.now());
    target.hand({ d, frame, fn, failed });
    target.counters.framesOut++;
    target.counters.bytesOut += dataBytes(frame);
    count(this.tagsOut, frame.tag, recordCount(frame.payload));
    target.ch.send(frame);
    if (writer && target.ch.buffered >= (this.opts.highWater ?? 256)) this.backpressure(writer, target);
  }

  /** Stops reading from a writer until the connection it fills has drained: the transport pushes back on it. */
  private backpressure(writer: Conn, target: Conn): void {
    if (writer.pausedWaits++ === 0) writer.ch.pause();
    void target.ch.drained().then(() => {
      if (--writer.pausedWaits === 0) writer.ch.resume();
    });
  }

  private onInstanceAck(conn: Conn, count: number): void {
    for (const u of conn.ackUpTo(count)) u.d.session.settle(u.d);
  }

  /** frames taken from writers and not yet acknowledged by every function they went to */
  get inflight(): number {
    return [...this.sessions.values()].reduce((s, x) => s + x.inflightCount, 0);
  }

  /** per function: instances joined, frames they hold unacknowledged, frames waiting for an instance */
  functionLoad(): { name: string; instances: number; unacked: number; waiting: number }[] {
    return this.specs.map(({ name }) => {
      const inst = this.instances.get(name) ?? [];
      return { name, instances: inst.length, unacked: inst.reduce((n, i) => n + i.conn.unackedCount, 0), waiting: this.waiting.size(name) };
    });
  }

  /**
   * Stops taking new work and waits until every frame already taken is handled by its functions, or
   * `timeout` ms pass. Returns how many frames were still unacknowledged.
   */
  async drain(timeout = 5000): Promise<number> {
    if (this.accepting) {
      this.accepting = false;
      clearInterval(this.sweeper);
      clearInterval(this.certWatch);
      const sources = [...this.conns].filter((c) => c.hs?.kind === 'source');
      this.log.info(`shutting down: no new connections; ${sources.length} sources told to go away`);
      for (const c of sources) c.ch.send({ type: 'goaway', reason: 'zipper shutting down' });
    }
    // wait for what connected instances hold; frames waiting for an absent function cannot finish here
    const sent = () => [...this.conns].reduce((n, c) => n + c.unackedCount, 0);
    const deadline = Date.now() + timeout;
    while (sent() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return this.inflight;
  }

  /**
   * Graceful shutdown: stop accepting, tell sources to go away, wait until every frame already taken is
   * handled (or `drainTimeout` passes), tell functions to go away, close.
   */
  async close(drainTimeout = 5000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const left = await this.drain(drainTimeout);
    if (left > 0) {
      // a writer in serve's own threads or process closes with it: it keeps nothing for a resend
      const lost = [...this.sessions.values()].filter((w) => w.inProcess).reduce((n, w) => n + w.inflightCount, 0);
      this.counters.lostAtClose += lost;
      const kept = left - lost;
      this.log.warn(
        `shutting down with ${left} frames not yet acknowledged by functions: ${[kept ? `${kept} kept by their writers for a resend` : '', lost ? `${lost} lost, written by serve's own threads, which close with it` : ''].filter(Boolean).join('; ')}`,
      );
    }
    for (const c of this.conns) if (c.hs?.kind === 'sfn') c.ch.send({ type: 'goaway', reason: 'zipper shutting down' });
    await Promise.allSettled([...this.conns].map((c) => c.ch.close()));
    await Promise.allSettled(this.listeners.map((l) => l.close()));
    this.warnings.flush();
    this.log.info('stopped');
  }

  /** Dies without ceremony, as a crash would: for tests of what clients do when the zipper vanishes. */
  async kill(): Promise<void> {
    this.accepting = false;
    this.closed = true;
    clearInterval(this.sweeper);
    clearInterval(this.certWatch);
    for (const c of this.conns) c.ch.abort(new Error('zipper killed'));
    await Promise.allSettled(this.listeners.map((l) => l.close()));
  }
}

/** a frame an instance died holding, marked for a call of its own (Metadata.orphan); one whose metadata cannot be read goes on as it is */
function orphaned(u: Unacked): Unacked {
  try {
    return { ...u, frame: { ...u.frame, meta: packMeta({ ...unpackMeta(u.frame.meta), orphan: true }) } };
  } catch {
    return u;
  }
}

function count(m: Map<number, TagCounters>, tag: number, records: number): void {
  const c = m.get(tag);
  if (c) {
    c.frames++;
    c.records += records;
  } else m.set(tag, { frames: 1, records });
}
