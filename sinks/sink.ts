import type { Histogram } from '../metrics/histogram.ts';

/** What every sink counts, in the same words, so metrics, `geoflux status`, the dashboard and serve's last line need no code per kind. */
export interface SinkStats {
  /** connected to where it publishes */
  connected: boolean;
  /** messages the other end took (acknowledged, where the protocol acknowledges) */
  published: number;
  /** messages held while the other end is away or slow */
  buffered: number;
  /** messages sent and not yet acknowledged */
  inflight: number;
  /** messages dropped: from a full buffer, and those still buffered at a close */
  dropped: number;
  reconnects: number;
  errors: number;
}

/**
 * Where a workflow's events leave geoflux: an MQTT broker, a NATS subject. A sink never holds up its caller:
 * `publish` queues (bounded; the oldest go, counted, when it is full) and the queue drains in order.
 */
export interface Sink {
  /** what it publishes to, as the workflow names it: `mqtt`, `nats` */
  readonly kind: string;
  /** seconds from an event's own time (its fix's) to the other end taking it */
  readonly latency: Histogram;
  publish(event: object): void;
  /** resolves once nothing is buffered or in flight, or after `timeout` ms; true when all went */
  flush(timeout?: number): Promise<boolean>;
  stats(): SinkStats;
  /** flushes for at most `timeout` ms (default 2000; 0: not at all), then disconnects */
  close(timeout?: number): Promise<void>;
}

/** Several sinks' figures as one: connected only when every one is. */
export const sumSinkStats = (all: SinkStats[]): SinkStats =>
  all.reduce(
    (a, b) => ({ connected: a.connected && b.connected, published: a.published + b.published, buffered: a.buffered + b.buffered, inflight: a.inflight + b.inflight, dropped: a.dropped + b.dropped, reconnects: a.reconnects + b.reconnects, errors: a.errors + b.errors }),
    { connected: true, published: 0, buffered: 0, inflight: 0, dropped: 0, reconnects: 0, errors: 0 },
  );
