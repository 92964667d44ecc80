import { oneLine } from '../codecs/control-characters.ts';
import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeGpsBatch } from '../codecs/gps-batch.ts';
import { CheckpointStore } from '../cluster/checkpoint-store.ts';
import { connectCluster } from '../cluster/cluster-options.ts';
import { PartitionLeases } from '../cluster/partition-leases.ts';
import { PartitionReader } from '../cluster/partition-reader.ts';
import { LEASE_TTL_MS, setUpStream } from '../cluster/stream-setup.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { logger, type Logger } from '../log/logger.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.ts';
import type { Sink } from '../sinks/sink.ts';
import type { Workflow } from '../workflows/schema.ts';
import { CloudChain } from './cloud-chain.ts';
import { workerMetrics } from './worker-metrics.ts';
import { DEPLOYMENTS_POLL_MS, WorkerDeployments } from './worker-deployments.ts';
import type { WorkerReport } from '../cluster/cluster-deployments.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';

export interface WorkerOptions {
  /** unique among the live workers (default: host, pid and a random suffix) */
  name?: string;
  /** ms between a partition's checkpoints, at most (default 5,000): what a takeover replays */
  checkpointMs?: number;
  /** serve /metrics for Prometheus here (port 0: any free one) */
  metrics?: { host: string; port: number };
  log?: Logger;
  /** gives up waiting for a NATS server that is not there yet (Ctrl-C before the cluster was reached) */
  signal?: AbortSignal;
  /** what times its looks at the cluster's deployments, every DEPLOYMENTS_POLL_MS (default: the system's) */
  clock?: Clock;
}

export interface WorkerStats {
  partitions: number[];
  /** per partition held: its lag (as of the last look, every 2 s), when and how big its last checkpoint was */
  held: { partition: number; lag?: number; checkpointedAt: number; checkpointBytes?: number }[];
  /** partitions taken over: from a checkpoint (or the stream's start) */
  acquired: number;
  /** partitions handed to a worker that joined, after a checkpoint */
  handedOver: number;
  /** partitions whose lease was lost (not renewed in time) */
  lost: number;
  checkpoints: number;
  /** bytes of the last checkpoint, per partition */
  checkpointBytes: Record<number, number>;
  /** messages read again after a takeover whose events had been published already, and were not again */
  muted: number;
  messages: number;
  /** fixes dropped for not being newer than their device's last, by at most a minute (an edge's resend after a crash) */
  repeated: number;
  /** fixes older still, dropped as late: at most 2 in a row for a device, so one from a clock set ahead does not blind it */
  late: number;
  /** checkpoints that could not be restored, whose partitions were replayed from the stream's start instead */
  unreadableCheckpoints: number;
}

export interface RunningWorker {
  readonly name: string;
  stats(): WorkerStats;
  /** where Prometheus scrapes it, when it was given a port */
  readonly metrics?: MetricsServer;
  /** the cloud deployments it runs and refused, as its registration says */
  deployments(): WorkerReport;
  /** the cloud sinks it publishes through */
  readonly sinks: { fn: string; sink: Sink }[];
  /** hands every partition over (checkpointed) and disconnects */
  stop(): Promise<void>;
}

interface Held {
  reader?: PartitionReader;
  /** the last sequence handled */
  seq: number;
  /** events of messages at or before this were published by an earlier owner */
  mute: number;
  checkpointedAt: number;
  /** a checkpoint being taken, which a release waits for */
  busy: Promise<void>;
  lag?: number;
}

const markKey = (p: number) => `p.${p}`;

/**
 * `geoflux worker`: runs a workflow's `where: cloud` functions over the partitions of the cluster's stream
 * that it holds. Workers share the partitions by leases (cluster/partition-leases.ts); for each partition
 * held, the worker restores its devices from the partition's checkpoint and reads the stream from the
 * sequence after it, in order. Every `checkpointMs` while it reads, once the sinks have confirmed every
 * event so far, it marks the partition's sequence as published and checkpoints the devices' state with it;
 * a worker that takes the partition over replays from that checkpoint and publishes none of the events of
 * messages up to the mark. A worker that joins gets its share by hand-over: the owner checkpoints and
 * releases, the newcomer restores.
 */
export async function runWorker(wf: Workflow, o: WorkerOptions = {}): Promise<RunningWorker> {
  const cluster = wf.cluster;
  if (!cluster) throw new Error(`${wf.file}: a worker needs a cluster: section (cluster: { nats: nats://host:4222 })`);
  if (!wf.functions.some((f) => f.where === 'cloud') && !wf.control) throw new Error(`${wf.file}: no function runs where: cloud, and with no control: section none can be deployed, so a worker has nothing to do`);
  const name = o.name ?? `${hostname()}-${process.pid}-${Math.random().toString(16).slice(2, 6)}`;
  const log = o.log ?? logger(`worker ${name}`);
  const every = o.checkpointMs ?? 5_000;
  const stats: WorkerStats = { partitions: [], held: [], acquired: 0, handedOver: 0, lost: 0, checkpoints: 0, checkpointBytes: {}, muted: 0, messages: 0, repeated: 0, late: 0, unreadableCheckpoints: 0 };
  // NATS first: the kernels' threads do not keep the process alive while they start, a connection does
  const nc: NatsConnection = await connectCluster(cluster, `geoflux worker ${name}`, { log, signal: o.signal });
  let opened: CloudChain | undefined;
  try {
    const store = await setUpStream(nc, cluster);
    // two workers of one name would renew each other's leases and share nothing: the second is refused
    if ((await store.leases.get(`workers.${name}`))?.operation === 'PUT') {
      throw new Error(`a worker named ${name} is live on stream "${cluster.stream}" already: give this one another --name (or, if that one died, wait ${LEASE_TTL_MS / 1000} s for its registration to run out)`);
    }
    const chain = (opened = await CloudChain.open(wf, log));
    // the kernels deployed to the cluster run before any partition is taken: a checkpoint holds their state too
    const deployed = new WorkerDeployments(wf, store, chain, log);
    await deployed.poll();
    const checkpoints = new CheckpointStore(store.checkpoints);
    const held = new Map<number, Held>();
    // a sink away (its broker down) postpones every partition's checkpoint every 2 s: said once a window
    const warn = new RateLimitedLog(log);

    const checkpoint = async (p: number, h: Held) => {
      // the mark first: a checkpoint must never cover a message whose events might not have gone out
      if (!(await chain.flushSinks(2_000))) return warn.warn('postponed', `partition ${p}: sinks have not confirmed every event; checkpoint postponed`);
      await store.marks.put(markKey(p), String(h.seq));
      const state = await chain.exportPartition(p);
      await checkpoints.put(p, { seq: h.seq, state });
      h.checkpointedAt = Date.now();
      stats.checkpoints++;
      stats.checkpointBytes[p] = state.byteLength;
    };

    const acquire = async (p: number) => {
      let cp = await checkpoints.get(p);
      if (cp) {
        try {
          await chain.importPartition(p, cp.state);
        } catch (e) {
          // the stream still holds the partition from its start (unless its limits dropped some): replayed whole,
          // with the events up to the mark kept back, it comes to the same state
          log.error(`partition ${p}: its checkpoint at sequence ${cp.seq} cannot be read (${(e as Error).message}); replaying the partition from the stream's start`);
          await chain.dropPartition(p);
          stats.unreadableCheckpoints++;
          cp = undefined;
        }
      }
      const mute = Number((await store.marks.get(markKey(p)))?.string() ?? 0);
      const h: Held = { seq: cp?.seq ?? 0, mute, checkpointedAt: Date.now(), busy: Promise.resolve() };
      held.set(p, h);
      h.reader = await PartitionReader.start(nc, {
        stream: cluster.stream,
        partition: p,
        afterSeq: h.seq,
        handle: async (m) => {
          if (m.seq <= h.mute) stats.muted++;
          await chain.feed(m.tag, decodeGpsBatch(m.data), { stream: cluster.stream, partition: p, seq: m.seq }, h.mute);
          h.seq = m.seq;
          stats.messages++;
          if (Date.now() - h.checkpointedAt >= every) await (h.busy = checkpoint(p, h));
        },
      });
      // a handler that throws (a kernel's traps are handled inside it) stops the partition's reading: said
      h.reader.done.catch((e: Error) => log.error(`partition ${p}: reading stopped at sequence ${h.seq}: ${e.message}`));
      stats.acquired++;
      log.info(`partition ${p}: taken, from ${cp ? `the checkpoint at sequence ${cp.seq} (${cp.state.byteLength} bytes)` : 'the stream\'s start'}${mute > (cp?.seq ?? 0) ? `, events published up to ${mute}` : ''}`);
    };

    const release = async (p: number, handOver: boolean) => {
      const h = held.get(p);
      if (!h) return;
      held.delete(p);
      await h.reader?.stop();
      await h.busy;
      if (handOver) {
        await checkpoint(p, h);
        stats.handedOver++;
      } else stats.lost++;
      await chain.dropPartition(p);
      log.info(`partition ${p}: ${handOver ? 'handed over' : 'lost'} at sequence ${h.seq}`);
    };

    const leases = new PartitionLeases({
      kv: store.leases,
      worker: name,
      partitions: cluster.partitions,
      ttlMs: LEASE_TTL_MS,
      log,
      acquired: acquire,
      releasing: (p) => release(p, true),
      // nobody awaits a loss: what goes wrong in it is said here, never an unhandled rejection that ends the worker
      lost: (p) => void release(p, false).catch((e: Error) => log.error(`partition ${p}: letting it go failed: ${e.message}`)),
      registration: () => deployed.report(),
    });
    await leases.start();
    // lag is a question to the server: asked every 2 s, not at each scrape
    const looking = setInterval(() => {
      for (const h of held.values()) void h.reader?.lag().then((n) => (h.lag = n), () => undefined);
    }, 2_000).unref();
    const clock = o.clock ?? systemClock;
    let deploying: unknown;
    let stopping = false;
    const lookLater = () => {
      deploying = clock.setTimeout(() => void deployed.poll().then(() => stopping || lookLater()), DEPLOYMENTS_POLL_MS);
    };
    lookLater();
    const figures = () => ({
      ...stats,
      repeated: chain.repeated,
      late: chain.late,
      partitions: leases.partitions(),
      held: [...held].map(([partition, h]) => ({ partition, lag: h.lag, checkpointedAt: h.checkpointedAt, checkpointBytes: stats.checkpointBytes[partition] })),
    });
    const metrics = o.metrics && (await startMetricsServer(workerMetrics({ stats: figures, leases: () => leases.stats(), sinks: () => chain.sinks, kernels: () => chain.kernelFigures() }), o.metrics));
    log.info(`worker ${name}: ${wf.functions.filter((f) => f.where === 'cloud').map((f) => f.name).join(', ')} on stream "${cluster.stream}", holding partitions ${leases.partitions().join(', ') || 'none yet'} of ${cluster.partitions}; deployed: ${oneLine(deployed.describe())}`);
    return {
      name,
      metrics,
      sinks: chain.sinks,
      stats: figures,
      deployments: () => deployed.current(),
      async stop() {
        clearInterval(looking);
        stopping = true;
        clock.clearTimeout(deploying);
        await deployed.close();
        await leases.close({ release: true });
        await metrics?.close();
        await chain.close(2_000);
        warn.flush();
        await nc.close();
      },
    };
  } catch (e) {
    await opened?.close(0);
    await nc.close();
    throw e;
  }
}

