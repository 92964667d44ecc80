import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_SUBJECT, subjectFor } from '../../alerts/topic-template.ts';
import { logger, type Logger } from '../../log/logger.ts';
import type { Histogram } from '../../metrics/histogram.ts';
import { eventTime, Outbox } from '../outbox.ts';
import type { Sink, SinkStats } from '../sink.ts';

export interface NatsSinkOptions {
  /** dials the server (and keeps redialling until `signal`: see cluster/connect-nats.ts); called once */
  connect: (signal: AbortSignal) => Promise<NatsConnection>;
  /** where it publishes, for the log: nats://host:port */
  url: string;
  /** subject template (default geoflux.alerts.{kind}.{detect}.{deviceId}) */
  subject?: string;
  /** publish through JetStream, each message acknowledged by the stream that captures its subject */
  jetstream?: boolean;
  /** messages held while the server is away or slow; beyond it the oldest go (default 10,000) */
  buffer?: number;
  log?: Logger;
}

const MAX_INFLIGHT = 1000;

/**
 * Publishes events as JSON on NATS subjects without ever holding up its caller. Core NATS has no
 * acknowledgement per message: a batch counts as published once a flush (a PING the server answered after
 * it) shows the server has it. With `jetstream`, each message counts once its stream's PubAck came back.
 */
export class NatsSink implements Sink {
  readonly kind = 'nats';
  private nc?: NatsConnection;
  private js?: JetStreamClient;
  private up = false;
  private readonly closing = new AbortController();
  private readonly outbox: Outbox;
  private readonly s = { reconnects: 0 };
  private readonly log: Logger;
  /** core publishes written since the last flush, to be told when the server has them */
  private unflushed: ((err?: Error) => void)[] = [];
  private readonly connecting: Promise<void>;

  constructor(private readonly o: NatsSinkOptions) {
    this.log = o.log ?? logger('nats sink');
    const sink = this;
    this.outbox = new Outbox(
      {
        get connected() {
          return sink.up;
        },
        maxInflight: MAX_INFLIGHT,
        send: (m, done) => this.send(m.to, m.payload, done),
      },
      o.buffer ?? 10_000,
      this.log,
      o.url,
    );
    this.connecting = this.dial();
  }

  get latency(): Histogram {
    return this.outbox.latency;
  }

  publish(event: object): void {
    this.outbox.push({ to: subjectFor(this.o.subject ?? DEFAULT_SUBJECT, event), payload: JSON.stringify(event), retain: false, at: eventTime(event as Record<string, unknown>) });
    this.outbox.drain();
  }

  /** resolves once connected, or rejects after `timeout` ms */
  async ready(timeout = 10_000): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([this.connecting, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`no NATS server at ${this.o.url} after ${timeout} ms`)), timeout)))]).finally(() => clearTimeout(t));
  }

  stats(): SinkStats {
    return { connected: this.up, ...this.outbox.counts(), ...this.s };
  }

  flush(timeout = 2000): Promise<boolean> {
    return this.outbox.flush(timeout);
  }

  async close(timeout = 2000): Promise<void> {
    await this.outbox.close(timeout);
    this.closing.abort(new Error('the sink closed'));
    this.up = false;
    await this.nc?.close().catch(() => {});
  }

  private async dial(): Promise<void> {
    try {
      this.nc = await this.o.connect(this.closing.signal);
    } catch (e) {
      if (this.closing.signal.aborted) return;
      this.outbox.error();
      this.log.error(`cannot connect to ${this.o.url}: ${(e as Error).message}`);
      return;
    }
    if (this.closing.signal.aborted) return void this.nc.close();
    if (this.o.jetstream) this.js = jetstream(this.nc);
    this.up = true;
    this.log.info(`publishing to ${this.o.url}${this.o.jetstream ? ' (JetStream, acknowledged)' : ''}`);
    this.outbox.up();
    void this.watch(this.nc);
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const st of nc.status()) {
      if (st.type === 'disconnect') {
        this.up = false;
        // connectNats says the loss (and a server not reachable at the start), with the URL, at WARN
        this.outbox.down();
      } else if (st.type === 'reconnect') {
        this.s.reconnects++;
        this.up = true;
        this.log.info(`${this.o.url} back: sending ${this.outbox.buffered} buffered messages`);
        this.outbox.up();
      } else if (st.type === 'error') this.outbox.error();
    }
  }

  private send(subject: string, payload: string, done: (err?: Error) => void): void {
    if (this.js) {
      this.js.publish(subject, payload).then(() => done(), done);
      return;
    }
    try {
      this.nc!.publish(subject, payload);
    } catch (e) {
      return done(e as Error);
    }
    if (this.unflushed.push(done) > 1) return;
    // one flush a batch: everything published before the server's PONG has reached it
    queueMicrotask(() => {
      const batch = this.unflushed;
      this.unflushed = [];
      this.nc!.flush().then(
        () => batch.forEach((d) => d()),
        (e: Error) => batch.forEach((d) => d(e)),
      );
    });
  }
}
