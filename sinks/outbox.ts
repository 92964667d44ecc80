import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { Histogram, SECONDS_BUCKETS } from '../metrics/histogram.ts';
import { Fifo } from '../runtime/fifo.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';

export interface OutMessage {
  /** the MQTT topic or NATS subject */
  to: string;
  payload: string;
  retain: boolean;
  /** the time of the event (epoch ms), when it has one: for the latency from fix to publish */
  at?: number;
  /** sends that failed so far */
  tries?: number;
}

/** sends of one message before it is given up (counted as an error): a link lost mid-send fails a try, a refusal fails them all */
export const MAX_TRIES = 3;

/** What an outbox sends through: an MQTT client, a NATS connection. */
export interface OutboxLink {
  readonly connected: boolean;
  /** messages in flight at once */
  readonly maxInflight: number;
  /** sends one message; `done` once the other end took it (or failed) */
  send(m: OutMessage, done: (err?: Error) => void): void;
}

/**
 * A sink's queue: messages wait here (not in a client library's unbounded offline queue) while the other end
 * is away, the oldest are dropped and counted when it is full, and it drains in order, at most `maxInflight`
 * at once, whenever it is told to and the link is connected.
 */
export class Outbox {
  /**
   * seconds from an event's own time (its fix's) to the other end taking it: the end-to-end latency, where
   * sources stamp fixes with the wall clock (a replay at 10x does not)
   */
  readonly latency = new Histogram(SECONDS_BUCKETS);
  private readonly queue = new Fifo<OutMessage>();
  private readonly s = { published: 0, inflight: 0, dropped: 0, errors: 0 };
  private draining = false;
  private readonly repeats: RateLimitedLog;
  private readonly clock: Clock;
  /** when the link went down, or the outbox was made (no link yet); undefined while it is up */
  private downSince: number | undefined;

  /** `to`: where the link goes (a URL), named in every line about a drop */
  constructor(
    private readonly link: OutboxLink,
    readonly capacity: number,
    private readonly log: Logger,
    private readonly to: string,
    clock: Clock = systemClock,
  ) {
    this.clock = clock;
    this.repeats = new RateLimitedLog(log, { clock });
    this.downSince = clock.now();
  }

  get buffered(): number {
    return this.queue.length;
  }

  counts(): { published: number; inflight: number; dropped: number; errors: number; buffered: number } {
    return { ...this.s, buffered: this.buffered };
  }

  push(m: OutMessage): void {
    if (this.buffered >= this.capacity) {
      this.queue.shift();
      this.s.dropped++;
      this.repeats.warn('dropped', `buffer of ${this.capacity} full: dropped the oldest message for ${this.to}, ${this.why()}`);
    }
    this.queue.push(m);
  }

  /** the link is lost (or still not up): drops say since when */
  down(): void {
    this.downSince ??= this.clock.now();
  }

  /** the link is up: what waits goes */
  up(): void {
    this.downSince = undefined;
    this.drain();
  }

  /** counts an error that happened outside a send (a connection's) */
  error(): void {
    this.s.errors++;
  }

  drain(): void {
    // a broker in this process may call back before send returns, and the callback drains again: one loop
    // does it all, rather than a call deeper per message
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainQueue();
    } finally {
      this.draining = false;
    }
  }

  /**
   * waits while something is buffered or in flight, at most `timeout` ms (with `whileDown`: also while the
   * link is down, for it to come back); true when all went
   */
  async flush(timeout: number, whileDown = true): Promise<boolean> {
    const end = Date.now() + timeout;
    this.drain();
    while ((this.buffered || this.s.inflight) && (whileDown || this.link.connected) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return !this.buffered && !this.s.inflight;
  }

  /**
   * For a close: waits at most `timeout` ms for what is buffered or in flight to go (while the link is up),
   * then gives up what is still buffered, counted as dropped and said, so no message leaves unnoticed.
   */
  async close(timeout: number): Promise<void> {
    if (timeout) await this.flush(timeout, false);
    this.repeats.flush();
    const left = this.queue.takeAll().length;
    if (left) {
      this.s.dropped += left;
      this.log.warn(`closing: dropped ${left} buffered messages for ${this.to}, ${this.why()}`);
    }
    if (this.s.inflight) this.log.warn(`closing with ${this.s.inflight} messages sent to ${this.to} and not acknowledged`);
  }

  private why(): string {
    if (this.downSince === undefined) return `which is slow: ${this.s.inflight} in flight`;
    return `not reachable for ${((this.clock.now() - this.downSince) / 1000).toFixed(1)} s`;
  }

  /** a failed send goes to the front again, to be sent first once the link is back, until it has failed MAX_TRIES times */
  private failed(m: OutMessage, err: Error): void {
    m.tries = (m.tries ?? 0) + 1;
    if (m.tries >= MAX_TRIES) {
      this.s.errors++;
      this.repeats.warn('gave up', `gave up a message to ${m.to} after ${MAX_TRIES} tries: ${err.message}`);
    } else this.queue.unshift(m);
  }

  private drainQueue(): void {
    while (this.link.connected && this.s.inflight < this.link.maxInflight && this.queue.length) {
      const m = this.queue.shift()!;
      this.s.inflight++;
      this.link.send(m, (err) => {
        this.s.inflight--;
        if (err) this.failed(m, err);
        else {
          this.s.published++;
          if (m.at !== undefined) this.latency.observe(Math.max(0, Date.now() - m.at) / 1000);
        }
        this.drain();
      });
    }
  }
}

/** when an event happened: its fix time `t`, or its ISO `time` */
export const eventTime = (e: Record<string, unknown>): number | undefined => {
  if (typeof e.t === 'number') return e.t;
  if (typeof e.time === 'string') {
    const t = Date.parse(e.time);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
};
