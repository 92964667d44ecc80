import { z } from 'zod';
import { clusterSchema, type ClusterOptions } from '../cluster/cluster-options.ts';
import { SINK_KIND_NAMES, type SinkKindName } from '../sinks/sink-kinds.ts';

/**
 * The shape of workflow.yaml, as zod checks it. Meaning (tags exist, numbers are free, no loops) is checked
 * after, in check.ts, because it needs the whole file.
 */

const name = z.string().regex(/^[a-z][a-z0-9_-]*$/i, 'must start with a letter and use only letters, digits, "-" and "_"');
const oneOrMany = z.union([z.string(), z.array(z.string())]);

export const functionSchema = z.looseObject({
  name,
  observe: oneOrMany,
  emit: oneOrMany.optional(),
  dispatch: z.union([z.literal('balance'), z.strictObject({ partition: z.string().min(1) })]).optional(),
  instances: z.number().int().min(1).max(1024).optional(),
  host: z.enum(['local', 'remote']).optional(),
  run: z.string().min(1).optional(),
  kernel: z.string().min(1).optional(),
  sink: z.enum(SINK_KIND_NAMES).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  batch: z.strictObject({ max: z.number().int().min(1).optional(), ms: z.number().min(0).optional() }).optional(),
  wasi: z.enum(['node', 'wasmer']).optional(),
  timeout: z.number().min(0).optional(),
  where: z.enum(['edge', 'cloud']).optional(),
});

export const sourceSchema = z.strictObject({
  name,
  run: z.string().min(1),
  params: z.record(z.string(), z.unknown()).optional(),
  zipper: z.string().optional(),
});

// `${MQTT_PORT}` substitutes a string: a port may be written as one
const port = z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), z.number().int().min(0).max(65535));

export const mqttSchema = z.strictObject({
  url: z.string().regex(/^(mqtts?|wss?):\/\/[^/]/, 'an MQTT broker URL: mqtt://, mqtts://, ws:// or wss://host[:port]').optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z.string().optional(),
  protocol: z.union([z.literal('3.1.1'), z.literal(5), z.literal('5')]).optional(),
  tls: z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), insecure: z.boolean().optional() }).optional(),
  embedded: z.strictObject({ host: z.string().min(1).optional(), port: port.optional(), ws: z.union([port, z.literal(false)]).optional() }).optional(),
});

export const dashboardSchema = z.strictObject({
  host: z.string().min(1).optional(),
  port: port.optional(),
  mqtt: z.string().regex(/^wss?:\/\/[^/]/, "the broker's MQTT over WebSocket URL: ws:// or wss://host[:port][/path]").optional(),
});

export const workflowSchema = z.strictObject({
  name: z.string().min(1),
  listen: z.array(z.string()).min(1, 'needs at least one address'),
  tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
  auth: z.strictObject({ token: z.string().optional(), clientCa: z.string().min(1).optional() }).optional(),
  control: z
    .strictObject({
      token: z.string().min(1, 'the control channel needs a token of its own'),
      // the autoscale rule of deployed functions (serve/autoscale.ts); absent fields keep its defaults
      autoscale: z
        .strictObject({
          backlog: z.number().int().positive('must be more than 0').optional(),
          up: z.number().positive('must be more than 0').optional(),
          idle: z.number().positive('must be more than 0').optional(),
        })
        .optional(),
    })
    .optional(),
  state: z.string().min(1).optional(),
  metrics: z.union([z.literal(false), z.strictObject({ host: z.string().min(1).optional(), port })]).optional(),
  tags: z.record(z.string(), z.number().int()),
  functions: z.array(functionSchema).default([]),
  sources: z.array(sourceSchema).optional(),
  mqtt: mqttSchema.optional(),
  dashboard: z.union([z.literal(false), dashboardSchema]).optional(),
  limits: z.unknown().optional(),
  cluster: clusterSchema.optional(),
  hosts: z.number().int().min(1).max(256).optional(),
});

export const FUNCTION_KEYS = Object.keys(functionSchema.shape);

const unwrap = (s: z.ZodType): z.ZodType => (s instanceof z.ZodOptional || s instanceof z.ZodDefault ? unwrap(s.unwrap() as z.ZodType) : s);

function objectAt(schema: z.ZodType, path: readonly (string | number)[]): z.ZodObject | undefined {
  let s = unwrap(schema);
  // of `'balance' | { partition }`, the map is the only branch with fields to suggest
  if (s instanceof z.ZodUnion) s = unwrap((s.options as z.ZodType[]).find((o) => unwrap(o) instanceof z.ZodObject) ?? s);
  if (path.length === 0) return s instanceof z.ZodObject ? s : undefined;
  const [seg, ...rest] = path;
  if (s instanceof z.ZodObject) return typeof seg === 'string' && seg in s.shape ? objectAt(s.shape[seg], rest) : undefined;
  if (s instanceof z.ZodArray) return objectAt(s.element as z.ZodType, rest);
  if (s instanceof z.ZodRecord) return objectAt(s.valueType as z.ZodType, rest);
  return undefined;
}

/** The fields the map at `path` (a path into the file) knows, to suggest one for a misspelt key. */
export const keysAt = (path: readonly (string | number)[]): string[] => Object.keys(objectAt(workflowSchema, path)?.shape ?? {});

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
