import type { NatsConnection } from '@nats-io/transport-node';
import { cloudDeployments, workerReports, type CloudDeployment, type WorkerReport } from './cluster-deployments.ts';
import type { ClusterOptions } from './cluster-options.ts';
import { liveKeys } from './live-keys.ts';
import { LEASE_TTL_MS, setUpStream } from './stream-setup.ts';

export interface PartitionView {
  partition: number;
  /** the worker holding its lease, if any */
  owner?: string;
  /** messages in the stream after the owner's position (its reader's pending count) */
  lag?: number;
  /** the last checkpoint: the sequence it covers, its size, its age in ms */
  checkpoint?: { seq: number; bytes: number; ageMs: number };
}

export interface ClusterView {
  stream: string;
  /** messages and bytes in the stream, and its last sequence */
  messages: number;
  bytes: number;
  lastSeq: number;
  /** live workers (registered within the lease TTL) */
  workers: string[];
  /** the live edges publishing to it (registered within the lease TTL, as workers are): `<workflow> at <listener> (<host>-<pid>)` */
  edges: string[];
  partitions: PartitionView[];
  /** the kernels deployed to the workers (`geoflux deploy --where cloud`), and what each live worker says it runs and refused */
  deployed: Map<string, CloudDeployment>;
  reports: Map<string, WorkerReport>;
}

/**
 * The cluster as NATS knows it, for `geoflux status`: the stream, the workers' registrations and leases, the
 * readers' pending counts and the checkpoints. Read-only but for creating the stream and buckets if they are
 * not there yet (what every edge and worker does at start).
 */
export async function clusterView(nc: NatsConnection, o: ClusterOptions, now = Date.now()): Promise<ClusterView> {
  const store = await setUpStream(nc, o);
  const info = await store.jsm.streams.info(o.stream);
  const keys = [...(await liveKeys(store.leases, 'workers.', LEASE_TTL_MS)), ...(await liveKeys(store.leases, 'partitions.', LEASE_TTL_MS)), ...(await liveKeys(store.leases, 'edges.', LEASE_TTL_MS))];
  const value = async (k: string) => (await store.leases.get(k))?.string();
  const workers = keys.filter((k) => k.startsWith('workers.')).map((k) => k.slice('workers.'.length)).sort();
  const owners = new Map<number, string>();
  for (const k of keys.filter((x) => x.startsWith('partitions.'))) {
    const owner = await value(k);
    if (owner) owners.set(Number(k.slice('partitions.'.length)), owner);
  }
  // a dead owner's reader lingers until its inactivity threshold, its pending count growing: the lag is the
  // newest reader's, the one its partition's owner made when it took it
  const readers = new Map<number, { created: number; lag: number }>();
  for await (const c of store.jsm.consumers.list(o.stream)) {
    const p = /-p(\d+)-[^-]+$/.exec(c.name)?.[1];
    const created = Date.parse(c.created);
    if (p !== undefined && !(created < (readers.get(Number(p))?.created ?? -Infinity))) readers.set(Number(p), { created, lag: c.num_pending + c.num_ack_pending });
  }
  const lag = new Map([...readers].map(([p, r]) => [p, r.lag]));
  const checkpoints = new Map<number, PartitionView['checkpoint']>();
  for (const i of await store.checkpoints.list()) {
    const p = /^partition-(\d+)$/.exec(i.name)?.[1];
    if (p !== undefined) checkpoints.set(Number(p), { seq: Number(i.metadata?.seq ?? 0), bytes: i.size, ageMs: Math.max(0, now - Date.parse(i.mtime)) });
  }
  return {
    stream: o.stream,
    messages: info.state.messages,
    bytes: info.state.bytes,
    lastSeq: info.state.last_seq,
    workers,
    edges: (await Promise.all(keys.filter((k) => k.startsWith('edges.')).map(async (k) => `${(await value(k)) ?? '?'} (${k.slice('edges.'.length)})`))).sort(),
    partitions: Array.from({ length: o.partitions }, (_, p) => ({ partition: p, owner: owners.get(p), lag: lag.get(p), checkpoint: checkpoints.get(p) })),
    deployed: await cloudDeployments(store),
    reports: await workerReports(store),
  };
}
