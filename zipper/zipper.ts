import { createHash, timingSafeEqual } from 'node:crypto';
import { FrameError } from '../codecs/frame-error.ts';
import { PROTOCOL_VERSION, type DataFrame, type Frame, type HandshakeFrame } from '../codecs/frame-types.ts';
import { unpackMeta } from '../codecs/metadata.ts';
import { logger, type Logger } from '../log/logger.ts';
import { parseAddress, transportFor, type FrameChannel, type Listener } from '../transport/index.ts';
import type { ListenOptions } from '../transport/types.ts';
import { serverTls, type ServerTls } from '../transport/tls.ts';
import { dataBytes, newConnCounters, type ConnCounters, type TagCounters, type ZipperCounters } from './counters.ts';
import { Delivery, WriterSession } from './delivery.ts';
import { buildRoutes, partitionOwner, roundRobin, type Dispatch, type FunctionRoute, type FunctionSpec, type Instance, type Routes } from './router.ts';
import { splitBatchByDevice } from './split-batch.ts';

/** ms a rejected client has to read the reason and hang up before the zipper hangs up on it */
const REJECT_GRACE = 2000;

/** Tags below this are the zipper's own; users cannot write them. */
export const FIRST_USER_TAG = 16;

export interface ZipperConfig {
  name: string;
  listen: string[];
  tls?: { cert: string; key: string };
  /** empty or absent: no authentication */
  token?: string;
  /** PEM of the CA(s) client certificates must chain to (the workflow's auth.clientCa): mutual TLS */
  clientCa?: string;
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
  /** where the self-signed certificate is kept across restarts (default: none, a new one each start) */
  stateDir?: string;
  /** the listeners' heartbeat, idle and TLS handshake timeouts (see transport/types.ts) */
  transport?: Pick<ListenOptions, 'heartbeat' | 'idleTimeout' | 'handshakeTimeout' | 'clock'>;
}

interface Unacked {
  d: Delivery;
  frame: DataFrame;
  fn: string;
}

class Conn {
  hs: HandshakeFrame | undefined;
  session: WriterSession | undefined;
  readonly counters: ConnCounters = newConnCounters();
  /** Data frames sent to this sfn, oldest first, until it acks them */
  unacked: Unacked[] = [];
  unackedHead = 0;
  acked = 0;
  /** writers paused until this connection drains */
  pausedWaits = 0;
  closed = false;
  rejected = false;
  constructor(
    readonly id: number,
    readonly ch: FrameChannel,
  ) {}
  get label(): string {
    return this.hs ? `${this.hs.kind} "${this.hs.name}" (${this.ch.remote})` : this.ch.remote;
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest();

/**
 * The zipper: accepts sources and stream functions on every listed transport, authenticates their
 * handshakes, and routes each Data frame by tag to every function observing it (see router.ts), holding
 * each frame until the functions have acked it (see delivery.ts).
 */
export class Zipper {
  readonly log: Logger;
  readonly listeners: Listener[] = [];
  readonly counters: ZipperCounters = { accepted: 0, rejected: 0, malformed: 0, unrouted: 0, forbidden: 0, dropped: 0, unkeyed: 0, handshakeTimeouts: 0 };
  readonly tagCounters = new Map<number, TagCounters>();
  tls!: ServerTls;
  private readonly conns = new Set<Conn>();
  private readonly sessions = new Map<string, WriterSession>();
  private readonly instances = new Map<string, Instance<Conn>[]>();
  private readonly waiting = new Map<string, Unacked[]>();
  private readonly rr = new Map<string, number>();
  private readonly specs: FunctionSpec[];
  private readonly tagNames = new Map<number, string>();
  private routes: Routes<Conn>;
  private nextConn = 0;
  private accepting = true;
  private closed = false;
  private warned = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: ZipperConfig,
    private readonly opts: ZipperOptions,
  ) {
    this.log = opts.log ?? logger(`zipper ${config.name}`);
    for (const [name, n] of Object.entries(config.tags)) this.tagNames.set(n, name);
    this.specs = config.functions.map((f) => ({
      name: f.name,
      observe: f.observe.map((t) => {
        const n = config.tags[t];
        if (n === undefined) throw new Error(`function "${f.name}" observes unknown tag "${t}"`);
        return n;
      }),
      dispatch: f.dispatch,
    }));
    this.routes = buildRoutes(this.specs, this.instances);
  }

  static async start(config: ZipperConfig, opts: ZipperOptions = {}): Promise<Zipper> {
    const z = new Zipper(config, opts);
    const urls = config.listen.map(parseAddress);
    const hosts = [...new Set(['127.0.0.1', 'localhost', ...urls.map((u) => u.hostname)])];
    z.tls = opts.tls ?? (await serverTls(config.tls, hosts, { stateDir: opts.stateDir, log: (m) => z.log.info(m) }));
    try {
      for (const url of [...urls, new URL(`memory://${encodeURIComponent(config.name)}`)]) {
        const t = await transportFor(url);
        const log = (lvl: 'debug' | 'info' | 'warn' | 'error', m: string) => z.log[lvl](m);
        const listenOpts: ListenOptions = { ...opts.transport, tls: z.tls, maxFrameSize: opts.maxFrameSize, clientCa: config.clientCa, log };
        z.listeners.push(await t.listen(url, listenOpts, (ch) => z.accept(ch)));
      }
    } catch (e) {
      await Promise.allSettled(z.listeners.map((l) => l.close()));
      throw e;
    }
    const ttl = opts.sessionTtl ?? 600_000;
    z.sweeper = setInterval(() => z.sweepSessions(ttl), Math.min(ttl, 60_000)).unref();
    return z;
  }

  /** the address an in-process function dials */
  get memoryUrl(): string {
    return `memory://${encodeURIComponent(this.config.name)}`;
  }

  tagName(tag: number): string {
    return this.tagNames.get(tag) ?? String(tag);
  }

  stats() {
    return {
      ...this.counters,
      connections: [...this.conns]
        .filter((c) => c.hs)
        .map((c) => ({ id: c.id, kind: c.hs!.kind, name: c.hs!.name, remote: c.ch.remote, transport: c.ch.transport, ...c.counters })),
      tags: Object.fromEntries([...this.tagCounters].map(([t, c]) => [this.tagName(t), { ...c }])),
      waiting: Object.fromEntries([...this.waiting].map(([k, v]) => [k, v.length])),
      inflight: this.inflight,
      listeners: this.listeners.map((l) => ({ url: l.url, ...l.stats() })),
    };
  }

  private accept(ch: FrameChannel): void {
    if (!this.accepting) return ch.abort(new Error('zipper is shutting down'));
    const conn = new Conn(++this.nextConn, ch);
    this.conns.add(conn);
    this.counters.accepted++;
    const timer = setTimeout(() => {
      if (conn.hs) return;
      this.counters.handshakeTimeouts++;
      this.reject(conn, `no handshake within ${this.opts.handshakeTimeout ?? 5000} ms`);
    }, this.opts.handshakeTimeout ?? 5000);
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
      if (f.type !== 'handshake') return this.reject(conn, `expected a handshake, got ${f.type}`);
      return this.handshake(conn, f);
    }
    switch (f.type) {
      case 'data':
        return this.onData(conn, f);
      case 'ack':
        return this.onInstanceAck(conn, f.seq);
      case 'ping':
        return conn.ch.send({ type: 'pong', id: f.id });
      case 'pong':
        return;
      case 'goaway':
        void conn.ch.close();
        return;
      default:
        throw new FrameError('bad-field', `unexpected ${f.type} frame after the handshake`);
    }
  }

  private tokenOk(token: string): boolean {
    const want = this.config.token;
    return !want || timingSafeEqual(sha(token), sha(want));
  }

  private handshake(conn: Conn, hs: HandshakeFrame): void {
    if (hs.version !== PROTOCOL_VERSION) {
      return this.reject(conn, `protocol version ${hs.version} is not supported (this zipper speaks ${PROTOCOL_VERSION})`);
    }
    if (!this.tokenOk(hs.token)) return this.reject(conn, `bad token for ${hs.kind} "${hs.name}"`);
    if (!['source', 'sfn'].includes(hs.kind)) return this.reject(conn, `client kind "${hs.kind}" cannot connect here`);
    if (!hs.clientId) return this.reject(conn, 'handshake has no clientId');
    if (hs.kind === 'sfn') {
      const route = this.routes.byName.get(hs.name);
      if (!route) {
        return this.reject(conn, `no function "${hs.name}" in workflow "${this.config.name}" (it has: ${this.specs.map((s) => s.name).join(', ') || 'none'})`);
      }
      const unknown = hs.observe.filter((t) => !(t in this.config.tags));
      if (unknown.length) return this.reject(conn, `unknown tag${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `"${t}"`).join(', ')}`);
      const declared = route.spec.observe.map((t) => this.tagName(t));
      if (hs.observe.length && hs.observe.join() !== declared.join()) {
        this.log.warn(`function "${hs.name}" asks to observe [${hs.observe}] but the workflow routes [${declared}] to it; the workflow wins`);
      }
    }
    for (const other of this.conns) if (other !== conn && other.hs?.clientId === hs.clientId) this.drop(other, 'replaced by a new connection of the same client');
    conn.hs = hs;
    let session = this.sessions.get(hs.clientId);
    if (!session) this.sessions.set(hs.clientId, (session = new WriterSession(hs.clientId)));
    session.idleSince = 0;
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
    conn.ch.send({ type: 'handshake-ack', zipper: this.config.name, tags: this.config.tags, lastSeq: session.lastSeq });
    if (session.acked > 0) conn.ch.send({ type: 'ack', seq: session.acked });
    this.log.info(`${conn.label} connected over ${conn.ch.transport}${hs.kind === 'sfn' ? `, observing ${this.routes.byName.get(hs.name)!.spec.observe.map((t) => this.tagName(t)).join(', ')}` : ''}`);
    if (hs.kind === 'sfn') this.join(conn);
  }

  private reject(conn: Conn, reason: string): void {
    this.counters.rejected++;
    this.log.warn(`rejected ${conn.label}: ${reason}`);
    conn.ch.send({ type: 'rejected', reason });
    conn.rejected = true;
    // the client closes when it reads the reason; closing first could lose the reason in flight
    setTimeout(() => conn.ch.abort(), REJECT_GRACE).unref();
  }

  private protocolError(conn: Conn, err: Error): void {
    if (err instanceof FrameError) this.counters.malformed++;
    this.log.warn(`closing ${conn.label}: ${err.message}`);
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
    this.instances.set(name, [...(this.instances.get(name) ?? []), { id: conn.hs!.clientId, conn }]);
    this.routes = buildRoutes(this.specs, this.instances);
    const held = this.waiting.get(name);
    if (held?.length) {
      this.waiting.delete(name);
      this.log.info(`function "${name}" is back: sending ${held.length} frames held for it`);
      this.redispatch(held);
    }
  }

  private onClosed(conn: Conn, err?: Error): void {
    conn.closed = true;
    this.conns.delete(conn);
    if (err instanceof FrameError) {
      this.counters.malformed++;
      this.log.warn(`closed ${conn.label}: malformed frame: ${err.message}`);
    } else if (conn.hs) {
      this.log.info(`${conn.label} disconnected${err ? `: ${err.message}` : ''}`);
    }
    if (conn.session) {
      if (conn.session.onAck && [...this.conns].every((c) => c.session !== conn.session)) {
        conn.session.onAck = undefined;
        conn.session.idleSince = Date.now();
      }
    }
    if (conn.hs?.kind === 'sfn') {
      const name = conn.hs.name;
      const left = (this.instances.get(name) ?? []).filter((i) => i.conn !== conn);
      if (left.length) this.instances.set(name, left);
      else this.instances.delete(name);
      this.routes = buildRoutes(this.specs, this.instances);
      const orphans = conn.unacked.slice(conn.unackedHead);
      conn.unacked = [];
      if (orphans.length) {
        this.log.info(`re-routing ${orphans.length} unacknowledged frames of ${conn.label}`);
        this.redispatch(orphans);
      }
    }
  }

  /** Sends held frames again through routing, then lets go of the hold they had. */
  private redispatch(items: Unacked[]): void {
    for (const u of items) {
      const route = this.routes.byName.get(u.fn);
      if (route && this.accepting) this.dispatch(route, u.frame, u.d);
      u.d.session.settle(u.d);
    }
  }

  private sweepSessions(ttl: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.idleSince && now - s.idleSince > ttl && s.inflightCount === 0) this.sessions.delete(id);
  }

  private countTag(tag: number, bytes: number): void {
    const c = this.tagCounters.get(tag);
    if (c) {
      c.frames++;
      c.bytes += bytes;
    } else this.tagCounters.set(tag, { frames: 1, bytes });
  }

  private warnOnce(key: string, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg + ' (said once)');
  }

  private onData(conn: Conn, f: DataFrame): void {
    const session = conn.session!;
    const bytes = dataBytes(f);
    conn.counters.framesIn++;
    conn.counters.bytesIn += bytes;
    if (f.seq <= session.lastSeq) {
      conn.counters.duplicates++;
      return;
    }
    const d = session.begin(f.seq);
    this.countTag(f.tag, bytes);
    if (f.tag < FIRST_USER_TAG) {
      this.counters.forbidden++;
      this.warnOnce(`forbidden:${conn.hs!.clientId}`, `${conn.label} wrote to tag ${f.tag}, which is reserved for the zipper: dropped`);
    } else {
      const routes = this.routes.byTag.get(f.tag);
      if (!routes) {
        this.counters.unrouted++;
        this.warnOnce(`unrouted:${f.tag}`, `no function observes tag ${this.tagName(f.tag)}: its frames are dropped`);
      } else {
        const out: DataFrame = { ...f, from: conn.hs!.clientId };
        for (const r of routes) this.dispatch(r, out, d, conn);
      }
    }
    session.advance();
  }

  private dispatch(route: FunctionRoute<Conn>, f: DataFrame, d: Delivery, writer?: Conn): void {
    const n = route.instances.length;
    const name = route.spec.name;
    if (n === 0) return this.hold(name, f, d);
    if (n === 1) return this.sendTo(route.instances[0], name, f, d, writer);
    const dispatch = route.spec.dispatch;
    if (dispatch.kind === 'partition') {
      let key: unknown;
      let ct: unknown;
      try {
        const meta = unpackMeta(f.meta);
        key = meta[dispatch.key];
        ct = meta.ct;
      } catch {
        /* unreadable metadata: no key, falls through to round robin and is counted */
      }
      if (key !== undefined && key !== null) return this.sendTo(partitionOwner(route, String(key))!, name, f, d, writer);
      if (ct === 'gps' && dispatch.key === 'deviceId') {
        try {
          for (const [owner, payload] of splitBatchByDevice(f.payload, (id) => partitionOwner(route, id)!)) {
            this.sendTo(owner, name, payload === f.payload ? f : { ...f, payload }, d, writer);
          }
          return;
        } catch (e) {
          this.warnOnce(`badbatch:${f.from}`, `frame from ${f.from} is not a readable GPS batch (${(e as Error).message}); sent whole`);
        }
      }
      this.counters.unkeyed++;
    }
    const i = this.rr.get(name) ?? 0;
    this.rr.set(name, i + 1);
    this.sendTo(roundRobin(route, i)!, name, f, d, writer);
  }

  private hold(fn: string, frame: DataFrame, d: Delivery): void {
    const q = this.waiting.get(fn) ?? [];
    this.waiting.set(fn, q);
    d.pending++;
    q.push({ d, frame, fn });
    const max = this.opts.maxWaiting ?? 10_000;
    if (q.length > max) {
      const old = q.shift()!;
      this.counters.dropped++;
      this.warnOnce(`waiting:${fn}`, `function "${fn}" has no instance and ${max} frames wait for it: dropping the oldest`);
      old.d.session.settle(old.d);
    }
  }

  private sendTo(target: Conn, fn: string, frame: DataFrame, d: Delivery, writer?: Conn): void {
    d.pending++;
    target.unacked.push({ d, frame, fn });
    target.counters.framesOut++;
    target.counters.bytesOut += dataBytes(frame);
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
    while (conn.acked < count && conn.unackedHead < conn.unacked.length) {
      const u = conn.unacked[conn.unackedHead++];
      conn.acked++;
      u.d.session.settle(u.d);
    }
    if (conn.unackedHead > 1024 && conn.unackedHead * 2 > conn.unacked.length) {
      conn.unacked = conn.unacked.slice(conn.unackedHead);
      conn.unackedHead = 0;
    }
  }

  /** frames taken from writers and not yet acknowledged by every function they went to */
  get inflight(): number {
    return [...this.sessions.values()].reduce((s, x) => s + x.inflightCount, 0);
  }

  /**
   * Stops taking new work and waits until every frame already taken is handled by its functions, or
   * `timeout` ms pass. Returns how many frames were still unacknowledged.
   */
  async drain(timeout = 5000): Promise<number> {
    if (this.accepting) {
      this.accepting = false;
      clearInterval(this.sweeper);
      const sources = [...this.conns].filter((c) => c.hs?.kind === 'source');
      this.log.info(`shutting down: no new connections; ${sources.length} sources told to go away`);
      for (const c of sources) c.ch.send({ type: 'goaway', reason: 'zipper shutting down' });
    }
    // wait for what connected instances hold; frames waiting for an absent function cannot finish here
    const sent = () => [...this.conns].reduce((n, c) => n + c.unacked.length - c.unackedHead, 0);
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
    if (left > 0) this.log.warn(`shutting down with ${left} frames not yet acknowledged by functions (their writers keep them for a resend)`);
    for (const c of this.conns) if (c.hs?.kind === 'sfn') c.ch.send({ type: 'goaway', reason: 'zipper shutting down' });
    await Promise.allSettled([...this.conns].map((c) => c.ch.close()));
    await Promise.allSettled(this.listeners.map((l) => l.close()));
    this.log.info('stopped');
  }

  /** Dies without ceremony, as a crash would: for tests of what clients do when the zipper vanishes. */
  async kill(): Promise<void> {
    this.accepting = false;
    this.closed = true;
    clearInterval(this.sweeper);
    for (const c of this.conns) c.ch.abort(new Error('zipper killed'));
    await Promise.allSettled(this.listeners.map((l) => l.close()));
  }
}
