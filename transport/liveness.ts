import { loopStalled } from './loop-stall.ts';

/**
 * Heartbeat and idle timeout for a frame channel, independent of the transport under it. Each end sends a
 * heartbeat when it has sent nothing for `heartbeat` ms, whatever it reads, and gives up on its peer when it
 * has received nothing for `idleTimeout` ms. Silence it causes itself does not count: while the channel is
 * paused (not reading on purpose) the peer is not judged, and judging starts afresh on resume; while its own
 * event loop was stalled (the clock's `stalled`) the peer's bytes waited unread, so that time is not the peer's.
 *
 * One timer per channel, armed for the earliest thing due; traffic only moves timestamps, and a timer that
 * fires early for what has moved re-arms itself. So a busy channel costs a clock read per write and per read.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** ms this process's event loop has been stalled in all, as of `now` (none: no stall is known) */
  stalled?(now: number): number;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  // a channel's socket is what keeps a process alive, never its heartbeat
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  stalled: loopStalled,
};

export interface LivenessOptions {
  /** ms without sending after which a heartbeat goes out (0: never) */
  heartbeat: number;
  /** ms without receiving after which the peer is given up on (0: never) */
  idleTimeout: number;
  /**
   * The transport acknowledges what arrives with packets of its own, and the peer counts those as life (QUIC,
   * through `ByteDuplex.onPacket`). Then having received lately means the peer has heard from us lately too,
   * and a heartbeat is only due when the channel has been silent both ways: a stream flowing one way needs
   * none, and on an idle channel one end's heartbeat, acknowledged, serves both.
   */
  receiptsAnswered?: boolean;
  /**
   * ms more to wait, beyond idleTimeout, before giving up (the transport's measure of the round trip, doubled).
   * A peer whose round trip has grown (a busy event loop at either end delays its answers as much as its
   * heartbeats) is given that much more time; a dead one answers nothing, so its round trip stays as it was.
   * Gaps in what the peer sends beyond a heartbeat (net of our own stalls) count the same way.
   */
  patience?: () => number;
  /**
   * Datagrams our own socket has dropped so far, its receive buffer full (transport/udp-drops.ts): we were
   * behind, and what the peer sent meanwhile may be among them. The silence since the last drop seen is
   * judged, not the silence since the peer was last heard, up to the same cap as patience.
   */
  ownDrops?: () => number;
  clock?: Clock;
}

/**
 * Defaults: a heartbeat twice a second, and 1.8 s of silence (three missed heartbeats and most of a fourth) end
 * the channel. A dead peer cannot be noticed before idleTimeout after its last bytes, and the verdict's timer
 * runs some ms late on a loaded machine: at 2000 a kill -9 was noticed in 2.03 s (median), past the 2 s goal.
 */
export const DEFAULT_HEARTBEAT = 500;
export const DEFAULT_IDLE_TIMEOUT = 1800;

/**
 * How long the longest delay seen is kept as the measure of patience: a loop that stalled once (a burst of
 * handshakes, a collection) may stall again before the next round trip or gap shows it.
 */
export const PATIENCE_MEMORY = 30_000;

/** Patience is at most this many idleTimeouts, so a dead peer is noticed within (1 + it) idleTimeouts of our loop running. */
export const MAX_PATIENCE_FACTOR = 5;

export class IdleTimeoutError extends Error {
  override readonly name = 'IdleTimeoutError';
}

export function checkLivenessOptions(o: { heartbeat?: number; idleTimeout?: number }): void {
  for (const k of ['heartbeat', 'idleTimeout'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`${k} must be a number of ms, 0 or more (got ${v})`);
  }
  const heartbeat = o.heartbeat ?? DEFAULT_HEARTBEAT;
  const idle = o.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  if (idle > 0 && (heartbeat === 0 || heartbeat >= idle)) {
    throw new Error(`heartbeat (${heartbeat} ms) must be above 0 and below idleTimeout (${idle} ms), or the peer gives up on a healthy channel`);
  }
}

export class Liveness {
  private readonly clock: Clock;
  private lastSent: number;
  private lastReceived: number;
  /** the clock's `stalled` when we last received */
  private stalledAtReceived = 0;
  private paused = false;
  private stopped = true;
  private timer: unknown;
  /** when the armed timer should fire */
  private armedFor = Infinity;
  /** no verdict on the peer before this: our own event loop was stalled and reads may be queued unread */
  private graceUntil = 0;
  /** the silence (by when it began) that grace was given for */
  private gracedFor = NaN;
  /** the longest delay seen lately (a round trip, a gap in the peer's traffic), and when */
  private patient = 0;
  private patientAt = -Infinity;
  /** our socket's drops as last read, and when they were last seen to grow */
  private drops = 0;
  private droppedAt = -Infinity;

  constructor(
    private readonly opts: LivenessOptions,
    private readonly hooks: {
      /** send a heartbeat if nothing is waiting to go out */
      heartbeat(): void;
      /** the peer has been silent for idleTimeout ms */
      idle(err: IdleTimeoutError): void;
    },
    private readonly describe: () => string,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.lastSent = this.lastReceived = this.clock.now();
  }

  start(): void {
    if (!this.opts.heartbeat && !this.opts.idleTimeout) return;
    this.stopped = false;
    this.drops = this.opts.ownDrops?.() ?? 0;
    this.lastSent = this.clock.now();
    this.heard(this.lastSent);
    this.arm();
  }

  sent(): void {
    this.lastSent = this.clock.now();
  }

  received(): void {
    const now = this.clock.now();
    // a live peer is never silent much longer than a heartbeat: what it was beyond that (and beyond our own
    // stalls), its loop ran late
    if (!this.paused && this.opts.heartbeat) this.delayed(this.silence(now) - this.opts.heartbeat, now);
    this.heard(now);
  }

  private heard(now: number): void {
    this.lastReceived = now;
    this.stalledAtReceived = this.clock.stalled?.(now) ?? 0;
  }

  /** ms the peer has been silent while our loop was running: what was our own stall is not its silence */
  private silence(now: number): number {
    return now - this.lastReceived - this.stalledSince(now);
  }

  private stalledSince(now: number): number {
    return (this.clock.stalled?.(now) ?? 0) - this.stalledAtReceived;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.heard(this.clock.now());
    if (!this.stopped) this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
  }

  /** notes a delay (ms) as a measure of patience, kept for PATIENCE_MEMORY unless a longer one comes */
  private delayed(ms: number, now: number): void {
    if (ms >= this.patient || now - this.patientAt > PATIENCE_MEMORY) {
      this.patient = Math.max(0, ms);
      this.patientAt = now;
    }
  }

  /** ms beyond idleTimeout: the longest delay within PATIENCE_MEMORY (the round trip sampled at every timer, gaps as they come) */
  private patience(now: number): number {
    this.delayed(this.opts.patience ? this.opts.patience() : 0, now);
    return Math.round(this.patient);
  }

  /** when our socket's drops grow, the time: each timer reads them, at least every heartbeat */
  private noteDrops(now: number): void {
    if (!this.opts.ownDrops) return;
    const drops = this.opts.ownDrops();
    if (drops > this.drops) this.droppedAt = now;
    this.drops = drops;
  }

  /** the last time the peer heard from us */
  private lastHeard(): number {
    return this.opts.receiptsAnswered ? Math.max(this.lastSent, this.lastReceived) : this.lastSent;
  }

  private due(): number {
    const { heartbeat, idleTimeout } = this.opts;
    const ping = heartbeat ? this.lastHeard() + heartbeat : Infinity;
    const idle = idleTimeout && !this.paused ? Math.max(this.lastReceived + idleTimeout, this.graceUntil) : Infinity;
    return Math.min(ping, idle);
  }

  private arm(): void {
    const at = this.due();
    if (at === Infinity || at >= this.armedFor) return;
    this.clock.clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, at - this.clock.now()));
  }

  private fire(): void {
    const now = this.clock.now();
    const late = now - this.armedFor;
    this.timer = undefined;
    this.armedFor = Infinity;
    if (this.stopped) return;
    const { heartbeat, idleTimeout } = this.opts;
    // fired later than asked: this process was busy, and what the peer sent meanwhile may be queued unread behind
    // the stall (the zipper reads one socket for all its peers, a few dozen datagrams per turn of its loop). Wait
    // as long again, at most a heartbeat; once per silence, or a loop that is always late would never judge.
    if (heartbeat && late > 0 && this.gracedFor !== this.lastReceived) {
      this.graceUntil = now + Math.min(late, heartbeat);
      this.gracedFor = this.lastReceived;
    }
    const patience = this.patience(now);
    this.noteDrops(now);
    if (idleTimeout && !this.paused && now - this.lastReceived >= idleTimeout && now >= this.graceUntil) {
      const stalled = Math.round(this.stalledSince(now));
      // patience and the part of the silence up to our socket's last drop (the peer's datagrams may be among
      // those dropped) are capped together, our own stalls are not: a process cannot judge while its loop does
      // not run, and a loop that turns (late by less than the meter's floor) counts nothing, so a dead peer is
      // still noticed after idleTimeout of our loop running
      const cap = MAX_PATIENCE_FACTOR * idleTimeout;
      const dropping = Math.round(Math.min(Math.max(0, this.droppedAt - this.lastReceived), cap - Math.min(patience, cap)));
      const more = Math.min(patience, cap) + dropping + stalled;
      if (now - this.lastReceived < idleTimeout + more) this.graceUntil = this.lastReceived + idleTimeout + more;
      else {
        this.stopped = true;
        const why = [
          patience && `${patience} ms more for the delays seen lately`,
          dropping && `${dropping} ms while our socket dropped datagrams`,
          stalled && `${stalled} ms for our own stalls`,
        ]
          .filter(Boolean)
          .join(', ');
        this.hooks.idle(new IdleTimeoutError(`no data from ${this.describe()} for ${idleTimeout} ms${why ? ` (and ${why})` : ''}`));
        return;
      }
    }
    if (heartbeat && now - this.lastHeard() >= heartbeat) {
      this.lastSent = now;
      this.hooks.heartbeat();
    }
    this.arm();
  }
}
