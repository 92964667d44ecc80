import type { EmbeddedBroker } from '../alerts/embedded-broker.ts';
import type { Logger } from '../log/logger.ts';
import type { MqttSinkOptions } from './mqtt/mqtt-sink.ts';
import { mqttParamProblems } from './mqtt/mqtt-params.ts';
import { natsParamProblems } from './nats/nats-params.ts';
import type { ParamProblem } from './param-problem.ts';
import type { Sink } from './sink.ts';

/** What a sink may need of the process it runs in. */
export interface SinkEnv {
  /** the function's name: in client ids and logs */
  name: string;
  /** the workflow's MQTT broker: where, how to log in, and the embedded broker when it is in this process */
  mqtt?: Omit<MqttSinkOptions, 'log'> & { broker?: EmbeddedBroker };
  log: Logger;
}

/**
 * A kind of sink: what its params may say, whether it needs the workflow's MQTT broker, and how to open
 * one. A new sink is its class, its params check and a line here; the workflow schema, metrics, status and
 * dashboard take every kind alike.
 */
export interface SinkKind {
  /** publishes to the workflow's MQTT broker (`mqtt:`, embedded by default) */
  usesMqtt: boolean;
  paramProblems(params: Record<string, unknown>): ParamProblem[];
  open(env: SinkEnv, params: Record<string, unknown>): Promise<Sink>;
}

export const SINK_KINDS = {
  mqtt: {
    usesMqtt: true,
    paramProblems: mqttParamProblems,
    async open(env, params) {
      const { MqttSink } = await import('./mqtt/mqtt-sink.ts');
      const m = env.mqtt!;
      return new MqttSink({ ...m, clientId: m.clientId && `${m.clientId}-${env.name}`, ...params, log: env.log });
    },
  },
  nats: {
    usesMqtt: false,
    paramProblems: natsParamProblems,
    async open(env, params) {
      const [{ NatsSink }, { connectNats }] = await Promise.all([import('./nats/nats-sink.ts'), import('../cluster/connect-nats.ts')]);
      const p = params as { url?: string; subject?: string; jetstream?: boolean; buffer?: number; user?: string; pass?: string; token?: string; creds?: string; tls?: { ca?: string; cert?: string; key?: string } };
      const url = p.url ?? DEFAULT_NATS_URL;
      return new NatsSink({ url, subject: p.subject, jetstream: p.jetstream, buffer: p.buffer, log: env.log, connect: (signal) => connectNats({ ...p, servers: url.split(',').map((u) => u.trim()), name: `geoflux sink ${env.name}`, signal, log: env.log }) });
    },
  },
} satisfies Record<string, SinkKind>;

export type SinkKindName = keyof typeof SINK_KINDS;
export const SINK_KIND_NAMES = Object.keys(SINK_KINDS) as [SinkKindName, ...SinkKindName[]];
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
