import { DEFAULT_POSITIONS_TOPIC } from '../alerts/positions.ts';
import { DEFAULT_TOPIC } from '../alerts/topic-template.ts';
import type { Workflow } from '../workflows/schema.ts';

/**
 * Where the page takes its live data: an MQTT broker's WebSocket listener and the topics the workflow's
 * sinks publish, the same ones any MQTT client sees; or, when a browser cannot reach the broker, why not,
 * which the page shows as it is.
 */
export type LiveSource = { url: string; alerts: string[]; positions: string[] } | { problem: string };

/** An MQTT filter for every topic a template makes: each level with a placeholder becomes `+`. */
export const topicFilter = (template: string): string =>
  template
    .split('/')
    .map((level) => (/\{[^}]+\}/.test(level) ? '+' : level))
    .join('/');

export function liveSourceOf(wf: Workflow, embeddedWsUrl?: string): LiveSource {
  const sinks = wf.functions.filter((f) => f.sink === 'mqtt');
  if (!wf.mqtt || !sinks.length) return { problem: 'this workflow publishes nothing over MQTT (it has no sink: mqtt): the map shows the roads, the fences and the counters, but no vehicles or alerts' };
  const alerts = sinks.filter((f) => f.params?.topic !== false).map((f) => topicFilter(typeof f.params?.topic === 'string' ? f.params.topic : DEFAULT_TOPIC));
  const positions = sinks.filter((f) => f.params?.positions).map((f) => (typeof f.params?.positions === 'string' ? f.params.positions : DEFAULT_POSITIONS_TOPIC));
  const topics = { alerts: [...new Set(alerts)], positions: [...new Set(positions)] };
  if (wf.mqtt.kind === 'embedded') return embeddedWsUrl ? { url: embeddedWsUrl, ...topics } : { problem: 'the embedded MQTT broker has no WebSocket listener (mqtt.embedded.ws)' };
  if (/^wss?:/.test(wf.mqtt.url)) return { url: wf.mqtt.url, ...topics };
  if (wf.dashboard?.mqtt) return { url: wf.dashboard.mqtt, ...topics };
  return { problem: `the workflow publishes to ${wf.mqtt.url}, which a browser cannot reach (MQTT over TCP): set dashboard.mqtt to that broker's WebSocket listener (ws://… or wss://…)` };
}
