import { clusterSchema, type ClusterOptions } from '../cluster/cluster-options.ts';
import { aboveZero, array, atLeast, atMost, boolean, checked, fieldsAt, fromText, int, matches, number, object, oneOf, optional, preprocess, record, string, union, unknown, withDefault } from '../codecs/shape-check.ts';
import { functionName, plainName } from './function-name.ts';
import { SINK_KIND_NAMES, type SinkKindName } from '../sinks/sink-kinds.ts';

/**
 * The shape of workflow.yaml (codecs/shape-check.ts, in zod's words). Meaning (tags exist, numbers are free,
 * no loops) is checked after, in check.ts, because it needs the whole file.
 */

const oneOrMany = union(string, array(string));
const filled = checked(string, atLeast(1));
const params = record(unknown);

// `${INSTANCES}` substitutes a string: a number may be written as one
const whole = preprocess(fromText, int);
const amount = preprocess(fromText, number);

/**
 * the most instances one function may have, declared (`instances:`) or deployed (`--max`): past a host
 * thread each, more instances share the threads and add memory (up to 64 MiB of WebAssembly each), not speed
 */
export const MAX_INSTANCES = 1024;

export const functionSchema = object(
  {
    name: functionName,
    observe: oneOrMany,
    emit: optional(oneOrMany),
    dispatch: optional(union(oneOf(['balance']), object({ partition: filled }))),
    instances: optional(checked(whole, atLeast(1), atMost(MAX_INSTANCES))),
    host: optional(oneOf(['local', 'remote'])),
    run: optional(filled),
    kernel: optional(filled),
    sink: optional(oneOf(SINK_KIND_NAMES)),
    params: optional(params),
    batch: optional(object({ max: optional(checked(whole, atLeast(1))), ms: optional(checked(amount, atLeast(0))) })),
    wasi: optional(oneOf(['node', 'wasmer'])),
    timeout: optional(checked(amount, atLeast(0))),
    where: optional(oneOf(['edge', 'cloud'])),
  },
  'kept',
);

const sourceSchema = object({ name: plainName, run: filled, params: optional(params), zipper: optional(string) });

const port = checked(whole, atLeast(0), atMost(65535));

const mqttSchema = object({
  url: optional(checked(string, matches(/^(mqtts?|wss?):\/\/[^/]/, 'an MQTT broker URL: mqtt://, mqtts://, ws:// or wss://host[:port]'))),
  username: optional(string),
  password: optional(string),
  clientId: optional(string),
  protocol: optional(union(oneOf(['3.1.1']), oneOf([5]), oneOf(['5']))),
  tls: optional(object({ ca: optional(string), cert: optional(string), key: optional(string), insecure: optional(boolean) })),
  embedded: optional(object({ host: optional(filled), port: optional(port), ws: optional(union(port, oneOf([false]))) })),
});

const dashboardSchema = object({
  host: optional(filled),
  port: optional(port),
  mqtt: optional(checked(string, matches(/^wss?:\/\/[^/]/, "the broker's MQTT over WebSocket URL: ws:// or wss://host[:port][/path]"))),
});

const moreThanZero = aboveZero('must be more than 0');

export const workflowSchema = object({
  name: filled,
  listen: checked(array(string), atLeast(1, 'needs at least one address')),
  tls: optional(object({ cert: filled, key: filled })),
  auth: optional(object({ token: optional(string), clientCa: optional(filled) })),
  control: optional(
    object({
      token: checked(string, atLeast(1, 'the control channel needs a token of its own')),
      // the autoscale rule of deployed functions (serve/autoscale.ts); absent fields keep its defaults
      autoscale: optional(object({ backlog: optional(checked(whole, moreThanZero)), up: optional(checked(amount, moreThanZero)), idle: optional(checked(amount, moreThanZero)) })),
    }),
  ),
  state: optional(filled),
  metrics: optional(union(oneOf([false]), object({ host: optional(filled), port }))),
  tags: record(whole),
  functions: withDefault(array(functionSchema), () => []),
  sources: optional(array(sourceSchema)),
  mqtt: optional(mqttSchema),
  dashboard: optional(union(oneOf([false]), dashboardSchema)),
  limits: optional(unknown),
  cluster: optional(clusterSchema),
  hosts: optional(checked(whole, atLeast(1), atMost(256))),
});

export const FUNCTION_KEYS = Object.keys(functionSchema.fields!);

/** The fields the map at `path` (a path into the file) knows, to suggest one for a misspelt key. */
export const keysAt = (path: readonly (string | number)[]): string[] => fieldsAt(workflowSchema, path);

export type Dispatch = { kind: 'balance' } | { kind: 'partition'; key: string };

export interface WorkflowFunction {
  name: string;
  observe: string[];
  emit: string[];
  dispatch: Dispatch;
  instances: number;
  host: 'local' | 'remote';
  /** a module path (absolute) or `builtin:<name>` */
  run?: string;
  /** a built-in kernel name, or a .wasm path (absolute) */
  kernel?: string;
  /** publishes what it observes: to the workflow's MQTT broker, or to NATS (sinks/sink-kinds.ts) */
  sink?: SinkKindName;
  params?: Record<string, unknown>;
  batch?: { max?: number; ms?: number };
  wasi?: 'node' | 'wasmer';
  /** ms a kernel call may take (default 2000; 0 runs the kernel in the zipper's own thread, unguarded) */
  timeout?: number;
  /** `cloud`: run by `geoflux worker`s on the partitions they hold, fed through the cluster's JetStream stream; `edge` (the default): by `geoflux serve` */
  where: 'edge' | 'cloud';
  [more: string]: unknown;
}

export interface WorkflowSource {
  name: string;
  /** a module path (absolute) or `builtin:<name>` */
  run: string;
  params?: Record<string, unknown>;
  zipper?: string;
}

export interface Workflow {
  /** absolute path of the file, and its directory (relative paths in it resolve against this) */
  file: string;
  dir: string;
  name: string;
  /** normalised: `quic://host:port`, `webtransport://host:port/path` (path default /geoflux) */
  listen: string[];
  tls?: { cert: string; key: string };
  /** `token`: what clients must present; `clientCa`: the PEM file (absolute) client certificates must chain to */
  auth?: { token?: string; clientCa?: string };
  /** the control channel (`geoflux deploy`, `functions`, `undeploy`) and its own token; absent: no deploys */
  control?: {
    token: string;
    /** deployed functions' autoscale rule: frames of backlog per instance, seconds above it before one more, seconds idle before one fewer */
    autoscale?: { backlog?: number; up?: number; idle?: number };
  };
  /** where serve keeps what outlives a run (its self-signed certificate): absolute, default `.geoflux/` beside the file */
  stateDir: string;
  /** where serve exposes Prometheus metrics (`/metrics`), when it does */
  metrics?: { host: string; port: number };
  tags: Record<string, number>;
  functions: WorkflowFunction[];
  sources: WorkflowSource[];
  /** set when there is an `mqtt:` section or a function with a sink that publishes to MQTT */
  mqtt?: MqttConfig;
  /** the NATS JetStream cluster that carries fixes from edges to the `where: cloud` functions, when there is one */
  cluster?: ClusterOptions;
  /** the live map `geoflux serve` serves over HTTP; absent when off (the default) */
  dashboard?: DashboardConfig;
  limits?: unknown;
  /** host threads that the instances of kernel and builtin functions share (default: one per core) */
  hosts?: number;
}

export interface DashboardConfig {
  host: string;
  port: number;
  /** MQTT over WebSocket of an external broker, for the page (the embedded broker's is known) */
  mqtt?: string;
}

export const DASHBOARD = { host: '127.0.0.1', port: 8080 } as const;

/**
 * The broker a workflow's MQTT sinks publish to: an external one by URL, or (the default) one `geoflux serve`
 * embeds, with MQTT over WebSocket beside it for browsers.
 */
export type MqttConfig =
  | { kind: 'embedded'; host: string; port: number; wsPort: number | false }
  | {
      kind: 'external';
      url: string;
      username?: string;
      password?: string;
      clientId?: string;
      /** 4 = MQTT 3.1.1, 5 = MQTT 5 */
      protocolVersion: 4 | 5;
      /** PEM file paths (absolute) */
      tls?: { ca?: string; cert?: string; key?: string; insecure?: boolean };
    };

export const EMBEDDED_MQTT = { host: '127.0.0.1', port: 1883, wsPort: 8083 } as const;
