import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { Bucket, KV } from '@nats-io/kv';
import { sha256, type Deployment } from '../serve/deployment-store.ts';
import { liveKeys } from './live-keys.ts';
import { LEASE_TTL_MS, type ClusterStore } from './stream-setup.ts';

/**
 * Kernels deployed to a cluster's workers at run time (`geoflux deploy --where cloud`): each deployment is a
 * key of `<stream>_deployments` (its name → the record), its module an object of `<stream>_kernels` under
 * its SHA-256. Both live in JetStream, so every worker, one that starts later too, runs the same set, pinned
 * by hash; and each worker says in its registration (`workers.<name>`, renewed with its leases) which
 * versions it runs and which it refused, so the edge that took the deploy can answer once they all run it.
 */

/** a cloud deployment: a start with empty state instead of refusing, when its devices' state cannot be taken */
export type CloudDeployment = Omit<Deployment, 'min' | 'max' | 'idle' | 'version'> & { freshState?: boolean };

/** What a worker runs of the deployments, as its registration says. */
export interface WorkerReport {
  /** deployment name → the version it runs (versionOf) */
  kernels: Record<string, string>;
  /** deployment name → the version it would not take, and why */
  refused: Record<string, { version: string; error: string }>;
  /**
   * the deployments bucket's last sequence as of the worker's last look: what it reports is in line with
   * the bucket up to there (a worker in the middle of taking a version may not yet say it runs it)
   */
  seq: number;
}

/** A deployment's version: its module and everything else about it (params, tags), as a short digest. */
export const versionOf = (d: CloudDeployment): string => sha256(new TextEncoder().encode(JSON.stringify(d))).slice(0, 16);

const EMPTY: WorkerReport = { kernels: {}, refused: {}, seq: 0 };

/** A deploy through another edge wrote the record since this one read it (JetStream's compare-and-set said no). */
export class DeploymentConflict extends Error {}

/** a deployment's record as read, with its revision in the bucket (0: none ever; a delete's: undeployed) */
export interface DeploymentRecord {
  d?: CloudDeployment;
  revision: number;
}

export async function cloudDeployment(store: ClusterStore, name: string): Promise<DeploymentRecord> {
  const e = await store.deployments.get(name);
  return { d: e?.operation === 'PUT' ? e.json<CloudDeployment>() : undefined, revision: e?.revision ?? 0 };
}

/**
 * Stores the module (once per hash) and then the record, over the revision `over` only: a record written
 * since (another edge's deploy) is a DeploymentConflict, and the module goes unless a deployment runs it.
 * The record's new revision.
 */
export async function putCloudDeployment(store: ClusterStore, d: CloudDeployment, wasm: Uint8Array, over: number): Promise<number> {
  // a deleted object keeps its info (marked deleted): a module deployed again after its last user went is put again
  if (!(await moduleStored(store, d.hash))) await store.kernels.putBlob({ name: d.hash }, wasm);
  let revision = 0;
  try {
    await compareAndSet(d.name, async () => (revision = over ? await store.deployments.update(d.name, JSON.stringify(d), over) : await store.deployments.create(d.name, JSON.stringify(d))));
  } catch (e) {
    if (e instanceof DeploymentConflict) await dropUnusedModule(store, d.hash, await cloudDeployments(store));
    throw e;
  }
  return revision;
}

/**
 * Puts a record back as it was read (or deletes it, when there was none) in place of `mine`, over the
 * revision `over` only; `mine`'s module goes unless a deployment runs it.
 */
export async function restoreCloudDeployment(store: ClusterStore, mine: CloudDeployment, was: DeploymentRecord, over: number): Promise<void> {
  await compareAndSet(mine.name, () => (was.d ? store.deployments.update(mine.name, JSON.stringify(was.d), over) : store.deployments.delete(mine.name, { previousSeq: over })));
  await dropUnusedModule(store, mine.hash, await cloudDeployments(store));
}

async function compareAndSet(name: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (e) {
    if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamWrongLastSequence) throw new DeploymentConflict(`the deployment "${name}" was written through another edge meanwhile`);
    throw e;
  }
}

/**
 * Deletes the record, and its module unless another deployment runs the same one. The deployments as they
 * were read: without `name`, there was no such deployment and nothing changed.
 */
export async function removeCloudDeployment(store: ClusterStore, name: string): Promise<Map<string, CloudDeployment>> {
  const all = await cloudDeployments(store);
  const d = all.get(name);
  if (!d) return all;
  await store.deployments.delete(name);
  await dropUnusedModule(store, d.hash, new Map([...all].filter(([n]) => n !== name)));
  return all;
}

export const moduleStored = async (store: ClusterStore, hash: string): Promise<boolean> => (await store.kernels.info(hash))?.deleted === false;

/** `all`: the deployments left */
async function dropUnusedModule(store: ClusterStore, hash: string, all: Map<string, CloudDeployment>): Promise<void> {
  if (![...all.values()].some((o) => o.hash === hash)) await store.kernels.delete(hash);
}

/** The deployments, by name. */
export async function cloudDeployments(store: ClusterStore): Promise<Map<string, CloudDeployment>> {
  const kv = store.deployments as Bucket;
  const out = new Map<string, CloudDeployment>();
  for (const name of await liveKeys(kv, '', LEASE_TTL_MS)) {
    const e = await kv.get(name);
    if (e?.operation === 'PUT') out.set(name, e.json<CloudDeployment>());
  }
  return out;
}

/** A change to the deployments since `seq` (the bucket's last sequence, which a poll compares). */
export async function deploymentsSeq(kv: KV): Promise<number> {
  const b = kv as Bucket;
  return (await b.jsm.streams.info(b.stream)).state.last_seq;
}

/** A deployment's module, once its bytes are checked against the hash it is pinned by. */
export async function cloudModule(store: ClusterStore, hash: string): Promise<Uint8Array> {
  const bytes = await store.kernels.getBlob(hash);
  if (!bytes) throw new Error(`its module ${hash} is not in the cluster's object store`);
  if (sha256(bytes) !== hash) throw new Error(`its module in the object store no longer has the hash it was deployed with (${hash})`);
  return bytes;
}

export const encodeReport = (r: WorkerReport): string => JSON.stringify(r);

/** `zones@a90d2d518d9b`: a deployment's name and its module's hash prefix */
export const deploymentLabel = (d: CloudDeployment): string => `${d.name}@${d.hash.slice(0, 12)}`;

/**
 * What a worker runs and refused, for a person: each deployment as `name@` its module's hash prefix where the
 * version is the deployment's (`zones@a90d2d518d9b · refused lanes@415f165f0119: why`).
 */
export function describeReport(r: WorkerReport, deployed: Map<string, CloudDeployment>): string {
  const label = (name: string, version: string) => {
    const d = deployed.get(name);
    return d && versionOf(d) === version ? deploymentLabel(d) : `${name} (a version no longer deployed)`;
  };
  const runs = Object.entries(r.kernels).map(([name, v]) => label(name, v));
  const refused = Object.entries(r.refused).map(([name, x]) => `${label(name, x.version)}: ${x.error}`);
  return `${runs.join(', ') || 'no deployed kernel'}${refused.length ? ` · refused ${refused.join('; ')}` : ''}`;
}

/** Every live worker's report, by worker name (a worker that reports nothing runs no deployment). */
export async function workerReports(store: ClusterStore): Promise<Map<string, WorkerReport>> {
  const out = new Map<string, WorkerReport>();
  for (const key of await liveKeys(store.leases, 'workers.', LEASE_TTL_MS)) {
    const e = await store.leases.get(key);
    let r: WorkerReport = EMPTY;
    try {
      const v = e?.json<Partial<WorkerReport>>();
      if (v && typeof v === 'object') r = { kernels: v.kernels ?? {}, refused: v.refused ?? {}, seq: v.seq ?? 0 };
    } catch {
      // a worker of an earlier release registers a time only
    }
    out.set(key.slice('workers.'.length), r);
  }
  return out;
}
