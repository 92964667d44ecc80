import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type Bucket, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { nanos, type NatsConnection } from '@nats-io/transport-node';

/** How long JetStream remembers a Nats-Msg-Id: an edge that restarts within it resends as a no-op. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** A lease's life without renewal: a dead worker's partitions are free this long after its last renewal. */
export const LEASE_TTL_MS = 3_000;

export interface ClusterStore {
  stream: string;
  jsm: JetStreamManager;
  /** `<stream>_leases`: worker registrations and partition leases, each key living LEASE_TTL_MS past its last write */
  leases: Bucket;
  /** `<stream>_checkpoints`: one object per partition, its state and the stream sequence it covers */
  checkpoints: ObjectStore;
  /** `<stream>_marks`: per partition, the last sequence whose events every sink has confirmed (no TTL) */
  marks: KV;
  /** `<stream>_deployments`: the kernels deployed to the workers at run time, by function name (no TTL) */
  deployments: KV;
  /** `<stream>_kernels`: their modules, each under its SHA-256 */
  kernels: ObjectStore;
}

export interface StreamSetupOptions {
  stream: string;
  /** ms a Nats-Msg-Id is remembered (default DUPLICATE_WINDOW_MS) */
  duplicateWindowMs?: number;
  /** ms a fix is kept (default: until the limits below; 0 keeps it forever) */
  maxAgeMs?: number;
  /** bytes the stream keeps before dropping its oldest (default: no limit) */
  maxBytes?: number;
  /** copies in a JetStream cluster (1 on a single server) */
  replicas?: number;
  leaseTtlMs?: number;
}

/**
 * The stream the edges publish on (`<stream>.<tag>.<partition>`, file storage, deduplicated by Nats-Msg-Id)
 * and the two buckets workers coordinate through. Idempotent: every edge and worker calls it at start, and
 * the first one creates; a stream that exists is left as its operator set it but for the limits given here.
 */
export async function setUpStream(nc: NatsConnection, o: StreamSetupOptions): Promise<ClusterStore> {
  const jsm = await jetstreamManager(nc);
  const config = {
    name: o.stream,
    subjects: [`${o.stream}.>`],
    storage: StorageType.File,
    duplicate_window: nanos(o.duplicateWindowMs ?? DUPLICATE_WINDOW_MS),
    max_age: nanos(o.maxAgeMs ?? 0),
    max_bytes: o.maxBytes ?? -1,
    num_replicas: o.replicas ?? 1,
  };
  let existing;
  try {
    existing = (await jsm.streams.info(o.stream)).config;
  } catch {
    await jsm.streams.add(config);
  }
  // limits a workflow names are the stream's, also for a stream made before it named them
  if (existing && ((o.maxAgeMs !== undefined && existing.max_age !== config.max_age) || (o.maxBytes !== undefined && existing.max_bytes !== config.max_bytes))) {
    await jsm.streams.update(o.stream, { ...existing, ...(o.maxAgeMs !== undefined && { max_age: config.max_age }), ...(o.maxBytes !== undefined && { max_bytes: config.max_bytes }) });
  }
  const replicas = o.replicas ?? 1;
  // a Bucket, not the KV interface: live-keys.ts lists through its stream
  const leases = (await new Kvm(nc).create(`${o.stream}_leases`, { history: 1, ttl: o.leaseTtlMs ?? LEASE_TTL_MS, storage: StorageType.File, replicas })) as Bucket;
  const checkpoints = await new Objm(nc).create(`${o.stream}_checkpoints`, { storage: StorageType.File, replicas });
  const marks = await new Kvm(nc).create(`${o.stream}_marks`, { history: 1, storage: StorageType.File, replicas });
  const deployments = await new Kvm(nc).create(`${o.stream}_deployments`, { history: 1, storage: StorageType.File, replicas });
  const kernels = await new Objm(nc).create(`${o.stream}_kernels`, { storage: StorageType.File, replicas });
  return { stream: o.stream, jsm, leases, checkpoints, marks, deployments, kernels };
}
