import { Histogram, SECONDS_BUCKETS } from '../metrics/histogram.ts';

export interface OutMessage {
  /** the MQTT topic or NATS subject */
  to: string;
  payload: string;
  retain: boolean;
  /** the time of the event (epoch ms), when it has one: for the latency from fix to publish */
  at?: number;
}

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
  private readonly queue: OutMessage[] = [];
  private head = 0;
  private readonly s = { published: 0, inflight: 0, dropped: 0, errors: 0 };
  private draining = false;

  constructor(
    private readonly link: OutboxLink,
    readonly capacity: number,
  ) {}

  get buffered(): number {
    return this.queue.length - this.head;
  }

  counts(): { published: number; inflight: number; dropped: number; errors: number; buffered: number } {
    return { ...this.s, buffered: this.buffered };
  }

  push(m: OutMessage): void {
    if (this.buffered >= this.capacity) {
      this.head++;
      this.s.dropped++;
    }
    this.queue.push(m);
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

  /** waits while something is buffered or in flight and the link is up, at most `timeout` ms; true when all went */
  async flush(timeout: number): Promise<boolean> {
    const end = Date.now() + timeout;
    this.drain();
    while ((this.buffered || this.s.inflight) && this.link.connected && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return !this.buffered && !this.s.inflight;
  }

  private drainQueue(): void {
    while (this.link.connected && this.s.inflight < this.link.maxInflight && this.head < this.queue.length) {
      const m = this.queue[this.head++];
      this.s.inflight++;
      this.link.send(m, (err) => {
        this.s.inflight--;
        if (err) this.s.errors++;
        else {
          this.s.published++;
          if (m.at !== undefined) this.latency.observe(Math.max(0, Date.now() - m.at) / 1000);
        }
        this.drain();
      });
    }
    // compact now and then rather than shift() per message
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
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
