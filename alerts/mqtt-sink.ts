import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions } from 'mqtt';
import { logger, type Logger } from '../log/logger.ts';
import { Histogram, SECONDS_BUCKETS } from '../metrics/histogram.ts';
import { InProcessLink, type BrokerLink } from './broker-link.ts';
import { DeviceStates } from './device-state.ts';
import type { EmbeddedBroker } from './embedded-broker.ts';
import { DEFAULT_POSITIONS_TOPIC, LatestPositions } from './positions.ts';
import { DEFAULT_STATE_TOPIC, DEFAULT_TOPIC, topicFor } from './topic-template.ts';

export interface MqttSinkOptions {
  url: string;
  /** the embedded broker of this process, published to directly instead of through a client at `url` */
  broker?: EmbeddedBroker;
  username?: string;
  password?: string;
  clientId?: string;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5 */
  protocolVersion?: 4 | 5;
  /** PEM text or file paths */
  tls?: { ca?: string; cert?: string; key?: string; insecure?: boolean };
  /** topic template (default geoflux/alerts/{kind}/{detect}/{deviceId}); false: publish state only */
  topic?: string | false;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** a retained per-device state topic: true for geoflux/state/{deviceId}, or a template */
  state?: boolean | string;
  /** the whole fleet's latest positions as one retained message a second: true for geoflux/positions, or a topic */
  positions?: boolean | string;
  /** messages held while the broker is away or slow; beyond it the oldest go (default 10,000) */
  buffer?: number;
  log?: Logger;
}

export interface MqttSinkStats {
  connected: boolean;
  /** messages the broker took (acknowledged, for QoS 1 and 2) */
  published: number;
  buffered: number;
  inflight: number;
  dropped: number;
  reconnects: number;
  errors: number;
}

/** Several sinks' figures as one: connected only when every one is. */
export const sumSinkStats = (all: MqttSinkStats[]): MqttSinkStats =>
  all.reduce(
    (a, b) => ({ connected: a.connected && b.connected, published: a.published + b.published, buffered: a.buffered + b.buffered, inflight: a.inflight + b.inflight, dropped: a.dropped + b.dropped, reconnects: a.reconnects + b.reconnects, errors: a.errors + b.errors }),
    { connected: true, published: 0, buffered: 0, inflight: 0, dropped: 0, reconnects: 0, errors: 0 },
  );

interface Message {
  topic: string;
  payload: string;
  retain: boolean;
  /** the time of the event (epoch ms), when it has one: for the latency from fix to publish */
  at?: number;
}

/** when an event happened: its fix time `t`, or its ISO `time` */
const eventTime = (e: Record<string, unknown>): number | undefined => {
  if (typeof e.t === 'number') return e.t;
  if (typeof e.time === 'string') {
    const t = Date.parse(e.time);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
};

const MAX_INFLIGHT = 1000;
const STATE_EVERY_MS = 1000;

/**
 * Publishes events as JSON to an MQTT broker without ever holding up its caller: messages wait in a
 * bounded queue of ours (not mqtt.js's unbounded offline queue) while the broker is away, the oldest are
 * dropped and counted when it is full, and the queue drains in order when the broker is back.
 */
export class MqttSink {
  private readonly client: BrokerLink;
  private readonly queue: Message[] = [];
  private head = 0;
  private readonly s = { published: 0, inflight: 0, dropped: 0, reconnects: 0, errors: 0 };
  private readonly states?: DeviceStates;
  private readonly positions?: LatestPositions;
  private readonly stateTimer?: NodeJS.Timeout;
  private readonly log: Logger;
  private lostAt = 0;
  private draining = false;
  private droppedAtLoss = 0;
  private readonly capacity: number;
  /**
   * seconds from an event's own time (its fix's) to the broker taking it: the end-to-end latency, where
   * sources stamp fixes with the wall clock (a replay at 10x does not)
   */
  readonly latency = new Histogram(SECONDS_BUCKETS);

  constructor(private readonly o: MqttSinkOptions) {
    this.log = o.log ?? logger('mqtt sink');
    this.capacity = o.buffer ?? 10_000;
    const pem = (v?: string) => (v === undefined ? undefined : v.includes('-----BEGIN') ? v : readFileSync(v));
    const opts: IClientOptions = {
      protocolVersion: o.protocolVersion ?? 4,
      clientId: o.clientId ?? `geoflux-sink-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      username: o.username,
      password: o.password,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      queueQoSZero: false,
      ca: pem(o.tls?.ca),
      cert: pem(o.tls?.cert),
      key: pem(o.tls?.key),
      rejectUnauthorized: !o.tls?.insecure,
    };
    this.client = o.broker ? new InProcessLink(o.broker) : (mqtt.connect(o.url, opts) as BrokerLink);
    this.client.on('connect', () => {
      if (this.lostAt) {
        this.log.info(
          `broker ${o.url} back after ${((Date.now() - this.lostAt) / 1000).toFixed(1)} s: sending ${this.buffered()} buffered messages` +
            `${this.s.dropped > this.droppedAtLoss ? `; ${this.s.dropped - this.droppedAtLoss} dropped while it was away (buffer ${this.capacity})` : ''}`,
        );
        this.lostAt = 0;
      } else this.log.info(`publishing to ${o.url}${o.broker ? ' (the embedded broker, in this process)' : ''}`);
      this.drain();
    });
    this.client.on('close', () => {
      if (this.lostAt || this.client.disconnecting) return;
      this.lostAt = Date.now();
      this.droppedAtLoss = this.s.dropped;
      this.log.warn(`lost broker ${o.url}; buffering up to ${this.capacity} messages and reconnecting`);
    });
    this.client.on('reconnect', () => this.s.reconnects++);
    this.client.on('error', (e) => {
      this.s.errors++;
      this.log.debug(`broker ${o.url}: ${e.message}`);
    });
    if (o.state) this.states = new DeviceStates();
    if (o.positions) this.positions = new LatestPositions();
    if (this.states || this.positions) {
      this.stateTimer = setInterval(() => this.publishStates(), STATE_EVERY_MS);
      this.stateTimer.unref();
    }
  }

  /** queues an event's message (and notes its state); never blocks, never throws for the broker's sake */
  publish(event: object): void {
    if (this.o.topic !== false) {
      this.enqueue({ topic: topicFor(this.o.topic ?? DEFAULT_TOPIC, event), payload: JSON.stringify(event), retain: Boolean(this.o.retain), at: eventTime(event as Record<string, unknown>) });
    }
    this.states?.update(event as Record<string, unknown>);
    this.positions?.update(event as Record<string, unknown>);
    this.drain();
  }

  /** resolves once connected, or rejects after `timeout` ms */
  ready(timeout = 10_000): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no MQTT broker at ${this.o.url} after ${timeout} ms`)), timeout);
      this.client.once('connect', () => (clearTimeout(t), resolve()));
    });
  }

  stats(): MqttSinkStats {
    return { connected: this.client.connected, ...this.s, buffered: this.buffered() };
  }

  /** publishes pending states, waits up to `timeout` ms for the queue to drain, then disconnects */
  async close(timeout = 2000): Promise<void> {
    clearInterval(this.stateTimer);
    this.publishStates();
    const end = Date.now() + timeout;
    while ((this.buffered() || this.s.inflight) && this.client.connected && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    if (this.buffered() || this.s.inflight) this.log.warn(`closing with ${this.buffered() + this.s.inflight} messages the broker has not taken`);
    // graceful, so what was written reaches the broker; forced if the broker does not answer
    await Promise.race([this.client.endAsync(), new Promise((r) => setTimeout(r, 1000).unref())]);
    if (!this.client.disconnected) await this.client.endAsync(true);
  }

  private publishStates(): void {
    if (this.states) {
      const template = typeof this.o.state === 'string' ? this.o.state : DEFAULT_STATE_TOPIC;
      for (const st of this.states.take()) this.enqueue({ topic: topicFor(template, st), payload: JSON.stringify(st), retain: true });
    }
    const fleet = this.positions?.take();
    if (fleet) this.enqueue({ topic: typeof this.o.positions === 'string' ? this.o.positions : DEFAULT_POSITIONS_TOPIC, payload: JSON.stringify(fleet), retain: true });
    this.drain();
  }

  private buffered(): number {
    return this.queue.length - this.head;
  }

  private enqueue(m: Message): void {
    if (this.buffered() >= this.capacity) {
      this.head++;
      this.s.dropped++;
    }
    this.queue.push(m);
  }

  private drain(): void {
    // a broker in this process may call back before publish returns, and the callback drains again: one
    // loop does it all, rather than a call deeper per message
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainQueue();
    } finally {
      this.draining = false;
    }
  }

  private drainQueue(): void {
    const qos = this.o.qos ?? 1;
    const most = this.client.maxInflight ?? MAX_INFLIGHT;
    while (this.client.connected && this.s.inflight < most && this.head < this.queue.length) {
      const m = this.queue[this.head++];
      this.s.inflight++;
      this.client.publish(m.topic, m.payload, { qos, retain: m.retain }, (err) => {
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
