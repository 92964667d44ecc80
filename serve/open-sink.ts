import type { EmbeddedBroker } from '../alerts/embedded-broker.ts';
import { logger } from '../log/logger.ts';
import type { Sink } from '../sinks/sink.ts';
import { SINK_KINDS } from '../sinks/sink-kinds.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';

/**
 * A function's sink: its kind's, with the function's params (checked when the workflow loaded) and, for
 * MQTT, the workflow's broker at `mqttUrl` (the embedded broker itself when it runs in this process).
 */
export function openSink(wf: Workflow, f: WorkflowFunction, mqttUrl: string | undefined, broker?: EmbeddedBroker): Promise<Sink> {
  const m = wf.mqtt?.kind === 'external' ? wf.mqtt : undefined;
  const mqtt = mqttUrl ? { url: mqttUrl, broker, username: m?.username, password: m?.password, clientId: m?.clientId, protocolVersion: m?.protocolVersion, tls: m?.tls } : undefined;
  return SINK_KINDS[f.sink!].open({ name: f.name, mqtt, log: logger(`sink ${f.name}`) }, f.params ?? {});
}

/** The workflow's MQTT broker as a process other than serve reaches it: `mqtt.url`, or the embedded broker's address. */
export function mqttUrlOf(wf: Workflow): string | undefined {
  const m = wf.mqtt;
  return m?.kind === 'external' ? m.url : m && `mqtt://${m.host}:${m.port}`;
}
