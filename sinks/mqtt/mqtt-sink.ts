import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions } from 'mqtt';
import type { EmbeddedBroker } from '../../alerts/embedded-broker.ts';
import { DEFAULT_POSITIONS_TOPIC, LatestPositions } from '../../alerts/positions.ts';
import { DEFAULT_STATE_TOPIC, DEFAULT_TOPIC, topicFor } from '../../alerts/topic-template.ts';
import { logger, type Logger } from '../../log/logger.ts';
import type { Histogram } from '../../metrics/histogram.ts';
import { eventTime, Outbox } from '../outbox.ts';
import type { Sink, SinkStats } from '../sink.ts';
import { InProcessLink, type BrokerLink } from './broker-link.ts';
import { DeviceStates } from './device-state.ts';

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

const MAX_INFLIGHT = 1000;
const STATE_EVERY_MS = 1000;

/**
 * Publishes events as JSON to an MQTT broker without ever holding up its caller: messages wait in a
 * bounded outbox of ours while the broker is away (see sinks/outbox.ts), and go per-event topic, QoS and
 * retain as the params say; with `state` or `positions`, each device's last state and the fleet's
 * positions go once a second as retained messages.
 */
export class MqttSink implements Sink {
  readonly kind = 'mqtt';
  private readonly client: BrokerLink;
  private readonly outbox: Outbox;
  private readonly s = { reconnects: 0 };
  private readonly states?: DeviceStates;
  private readonly positions?: LatestPositions;
  private readonly stateTimer?: NodeJS.Timeout;
  private readonly log: Logger;
  private lostAt = 0;
  private droppedAtLoss = 0;
  private everConnected = false;
  private lastError = '';

  constructor(private readonly o: MqttSinkOptions) {
    this.log = o.log ?? logger('mqtt sink');
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
    const client = (this.client = o.broker ? new InProcessLink(o.broker) : (mqtt.connect(o.url, opts) as BrokerLink));
    const qos = o.qos ?? 1;
    this.outbox = new Outbox(
      {
        get connected() {
          return client.connected;
        },
        maxInflight: client.maxInflight ?? MAX_INFLIGHT,
        send: (m, done) => client.publish(m.to, m.payload, { qos, retain: m.retain }, done),
      },
      o.buffer ?? 10_000,
      this.log,
      o.url,
    );
    this.client.on('connect', () => {
      if (this.lostAt) {
        const dropped = this.outbox.counts().dropped - this.droppedAtLoss;
        this.log.info(
          `broker ${o.url} ${this.everConnected ? 'back' : 'reached'} after ${((Date.now() - this.lostAt) / 1000).toFixed(1)} s: sending ${this.outbox.buffered} buffered messages` +
            `${dropped ? `; ${dropped} dropped while it was away (buffer ${this.outbox.capacity})` : ''}`,
        );
        this.lostAt = 0;
      } else this.log.info(`publishing to ${o.url}${o.broker ? ' (the embedded broker, in this process)' : ''}`);
      this.everConnected = true;
      this.outbox.up();
    });
    this.client.on('close', () => {
      if (this.lostAt || this.client.disconnecting) return;
      this.lostAt = Date.now();
      this.droppedAtLoss = this.outbox.counts().dropped;
      this.outbox.down();
      const what = this.everConnected ? `lost broker ${o.url}` : `cannot reach broker ${o.url}${this.lastError && ` (${this.lastError})`}`;
      this.log.warn(`${what}; buffering up to ${this.outbox.capacity} messages and reconnecting`);
    });
    this.client.on('reconnect', () => this.s.reconnects++);
    this.client.on('error', (e) => {
      this.outbox.error();
      this.lastError = e.message;
      this.log.debug(`broker ${o.url}: ${e.message}`);
    });
    if (o.state) this.states = new DeviceStates();
    if (o.positions) this.positions = new LatestPositions();
    if (this.states || this.positions) {
      this.stateTimer = setInterval(() => this.publishStates(), STATE_EVERY_MS);
      this.stateTimer.unref();
    }
  }

  get latency(): Histogram {
    return this.outbox.latency;
  }

  /** queues an event's message (and notes its state); never blocks, never throws for the broker's sake */
  publish(event: object): void {
    if (this.o.topic !== false) {
      this.outbox.push({ to: topicFor(this.o.topic ?? DEFAULT_TOPIC, event), payload: JSON.stringify(event), retain: Boolean(this.o.retain), at: eventTime(event as Record<string, unknown>) });
    }
    this.states?.update(event as Record<string, unknown>);
    this.positions?.update(event as Record<string, unknown>);
    this.outbox.drain();
  }

  /** resolves once connected, or rejects after `timeout` ms */
  ready(timeout = 10_000): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no MQTT broker at ${this.o.url} after ${timeout} ms`)), timeout);
      this.client.once('connect', () => (clearTimeout(t), resolve()));
    });
  }

  stats(): SinkStats {
    return { connected: this.client.connected, ...this.outbox.counts(), ...this.s };
  }

  flush(timeout = 2000): Promise<boolean> {
    return this.outbox.flush(timeout);
  }

  /** publishes pending states, waits up to `timeout` ms for the queue to drain, then disconnects */
  async close(timeout = 2000): Promise<void> {
    clearInterval(this.stateTimer);
    this.publishStates();
    await this.outbox.close(timeout);
    // graceful, so what was written reaches the broker; forced if the broker does not answer
    await Promise.race([this.client.endAsync(), new Promise((r) => setTimeout(r, 1000).unref())]);
    if (!this.client.disconnected) await this.client.endAsync(true);
  }

  private publishStates(): void {
    if (this.states) {
      const template = typeof this.o.state === 'string' ? this.o.state : DEFAULT_STATE_TOPIC;
      for (const st of this.states.take()) this.outbox.push({ to: topicFor(template, st), payload: JSON.stringify(st), retain: true });
    }
    const fleet = this.positions?.take();
    if (fleet) this.outbox.push({ to: typeof this.o.positions === 'string' ? this.o.positions : DEFAULT_POSITIONS_TOPIC, payload: JSON.stringify(fleet), retain: true });
    this.outbox.drain();
  }
}
