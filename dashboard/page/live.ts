import mqtt from 'mqtt';
import type { PositionsMessage } from '../../alerts/positions.ts';
import type { LiveSource } from '../live-source.ts';

/** What the page is told of the live connection: `live`, lost (with when), back, or never possible. */
export type LiveState = { kind: 'connecting' } | { kind: 'live' } | { kind: 'lost'; since: number } | { kind: 'unavailable'; problem: string };

export interface LiveHandlers {
  positions(m: PositionsMessage): void;
  alert(event: Record<string, unknown>): void;
  state(s: LiveState): void;
}

/**
 * The page's live data: MQTT over WebSocket, the topics any MQTT client of the workflow sees (alerts, and the
 * fleet's positions, retained so a page opened late has every vehicle at once). mqtt.js reconnects and
 * resubscribes by itself; this only says when the connection goes and comes back.
 */
export function connectLive(source: LiveSource, on: LiveHandlers): { close(): void } {
  if ('problem' in source) {
    on.state({ kind: 'unavailable', problem: source.problem });
    return { close() {} };
  }
  on.state({ kind: 'connecting' });
  const client = mqtt.connect(source.url, { reconnectPeriod: 1000, connectTimeout: 5000, clientId: `geoflux-dashboard-${Math.random().toString(16).slice(2, 10)}` });
  const positions = new Set(source.positions);
  let lostAt = 0;
  client.on('connect', () => {
    lostAt = 0;
    client.subscribe([...source.alerts, ...source.positions], { qos: 0 });
    on.state({ kind: 'live' });
  });
  client.on('close', () => {
    if (lostAt) return;
    lostAt = Date.now();
    on.state({ kind: 'lost', since: lostAt });
  });
  client.on('message', (topic, payload) => {
    let m: unknown;
    try {
      m = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      return; // not ours to show: a topic any client may publish on
    }
    if (positions.has(topic)) on.positions(m as PositionsMessage);
    else on.alert(m as Record<string, unknown>);
  });
  return { close: () => void client.end(true) };
}
