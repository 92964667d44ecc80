import { counter, gauge, histogram, type Family, type Sample } from '../metrics/families.ts';
import type { Sink, SinkStats } from './sink.ts';

/** Every sink's figures as /metrics families, labelled by the function's name and the sink's kind: one set for serve and worker. */
export function sinkFamilies(sinks: () => { fn: string; sink: Sink }[]): Family[] {
  const each = (f: (s: SinkStats) => number) => (): Sample[] => sinks().map(({ fn, sink }) => ({ labels: { sink: fn, kind: sink.kind }, value: f(sink.stats()) }));
  return [
    counter('geoflux_sink_published_total', 'messages a sink published (acknowledged: by the MQTT broker for QoS 1 and 2, by the NATS server or JetStream stream)', each((s) => s.published)),
    gauge('geoflux_sink_buffered_messages', 'messages a sink holds while the other end is away or slow', each((s) => s.buffered)),
    counter('geoflux_sink_dropped_total', 'messages a sink dropped: the oldest from its full buffer, and what it still held when it closed', each((s) => s.dropped)),
    counter('geoflux_sink_errors_total', 'messages given up after 3 tries, and connection errors', each((s) => s.errors)),
    gauge('geoflux_sink_connected', '1 while a sink is connected to where it publishes', each((s) => (s.connected ? 1 : 0))),
    histogram('geoflux_alert_latency_seconds', 'from an event’s own time (its fix’s) to the other end of a sink taking it', () => sinks().map(({ fn, sink }) => ({ labels: { sink: fn, kind: sink.kind }, h: sink.latency.snapshot() }))),
  ];
}
