import { resolve } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { aboveZero, array, atLeast, atMost, checked, checkShape, fromText, int, matches, number, object, optional, preprocess, string, union, type Made } from '../codecs/shape-check.ts';
import type { Problem } from '../workflows/check.ts';
import type { NatsConnectOptions } from './connect-nats.ts';

const natsUrl = checked(string, matches(/^(nats|tls):\/\/[^/]/, 'a NATS server URL: nats://host[:port] or tls://host[:port]'));
const filled = optional(checked(string, atLeast(1)));

/**
 * The workflow's `cluster:` section as its shape is checked (codecs/shape-check.ts); the lead's workflow
 * schema takes it as `cluster: optional(clusterSchema)`. Meaning (one way to authenticate, a key with its
 * certificate) is checked in `clusterOptions`.
 */
export const clusterSchema = object({
  /** one server, or several of one cluster: the client tries them in turn */
  nats: union(natsUrl, checked(array(natsUrl), atLeast(1))),
  stream: optional(checked(string, matches(/^[A-Za-z0-9_-]+$/, 'a JetStream stream name: letters, digits, "-" and "_" (it is the first token of every subject)'))),
  partitions: optional(checked(preprocess(fromText, int), atLeast(1), atMost(1024))),
  /** seconds a fix is kept in the stream (default: for ever): at least what a takeover replays */
  maxAge: optional(checked(preprocess(fromText, number), aboveZero())),
  /** bytes the stream keeps before it drops its oldest fixes (default: no limit) */
  maxBytes: optional(checked(preprocess(fromText, int), aboveZero())),
  user: filled,
  pass: optional(string),
  token: filled,
  /** a .creds file (JWT and NKey seed), as `nsc` writes it */
  creds: filled,
  tls: optional(object({ ca: filled, cert: filled, key: filled })),
});

export type ClusterSection = Made<typeof clusterSchema>;

export const DEFAULT_PARTITIONS = 8;

/** The edge's function that carries the fixes bound for cloud functions into the stream (a name no user function may take). */
export const CLOUD_BRIDGE = 'jetstream';

/** A `cluster:` section with its defaults filled in and its files resolved from the workflow's folder. */
export interface ClusterOptions {
  servers: string[];
  stream: string;
  partitions: number;
  /** the stream's limits (stream-setup.ts): what it keeps */
  maxAgeMs?: number;
  maxBytes?: number;
  user?: string;
  pass?: string;
  token?: string;
  creds?: string;
  tls?: { ca?: string; cert?: string; key?: string };
}

/**
 * Checks a `cluster:` section and fills in its defaults: the stream is named after the workflow (what a
 * subject token cannot hold becomes "_"). Problems are named by field path from the workflow's root, like
 * the loader's (workflows/load.ts), so it can point at the line.
 */
export function clusterOptions(input: unknown, wf: { name: string; dir: string }): { options?: ClusterOptions; problems: Problem[] } {
  const { value: c, issues } = checkShape(clusterSchema, input, ['cluster']);
  if (issues.length) return { problems: issues.map((i) => ({ path: i.path, reason: i.message })) };
  const problems: Problem[] = [];
  const bad = (path: (string | number)[], reason: string) => problems.push({ path: ['cluster', ...path], reason });
  const ways = (['user', 'token', 'creds'] as const).filter((k) => c[k] !== undefined);
  if (ways.length > 1) bad([ways[1]], `one way to authenticate: ${ways.join(' and ')} are both set`);
  if (c.pass !== undefined && c.user === undefined) bad(['pass'], 'a password needs its user');
  if (c.user !== undefined && c.pass === undefined) bad(['user'], 'a user needs its pass');
  if (c.tls && (c.tls.cert === undefined) !== (c.tls.key === undefined)) bad(['tls', c.tls.cert ? 'key' : 'cert'], 'a client certificate needs its key, and a key its certificate');
  if (problems.length) return { problems };
  const file = (p: string | undefined) => p && resolve(wf.dir, p);
  return {
    problems,
    options: {
      servers: typeof c.nats === 'string' ? [c.nats] : c.nats,
      stream: c.stream ?? (wf.name.replace(/[^A-Za-z0-9_-]/g, '_') || 'geoflux'),
      partitions: c.partitions ?? DEFAULT_PARTITIONS,
      ...(c.maxAge !== undefined && { maxAgeMs: c.maxAge * 1000 }),
      ...(c.maxBytes !== undefined && { maxBytes: c.maxBytes }),
      ...(c.user !== undefined && { user: c.user, pass: c.pass }),
      ...(c.token !== undefined && { token: c.token }),
      ...(c.creds !== undefined && { creds: file(c.creds) }),
      ...(c.tls && { tls: { ca: file(c.tls.ca), cert: file(c.tls.cert), key: file(c.tls.key) } }),
    },
  };
}

/**
 * A NATS connection as the section says (see connect-nats.ts: it never stops reconnecting). The NATS client
 * loads here, not with the section's checks: a workflow without a cluster never loads it.
 */
export const connectCluster = async (o: ClusterOptions, name = 'geoflux', wait: Pick<NatsConnectOptions, 'signal' | 'log' | 'waitOnFirstConnect'> = {}): Promise<NatsConnection> =>
  (await import('./connect-nats.ts')).connectNats({ ...o, ...wait, name });
