import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { CLOUD_BRIDGE, connectCluster, type ClusterOptions } from '../cluster/cluster-options.ts';
import { EdgePublisher, type EdgePublisherStats } from '../cluster/edge-publisher.ts';
import { LEASE_TTL_MS, setUpStream } from '../cluster/stream-setup.ts';
import { logger, type Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { Histogram, MS_BUCKETS } from '../metrics/histogram.ts';
import { connectStreamFunction, type StreamFunctionStats } from '../sfn/connect-stream-function.ts';
import type { Workflow } from '../workflows/schema.ts';
import { cloudInputTags } from './cloud-input-tags.ts';

/** ms between two tries to reach a cluster that refused the edge */
const RELINK_MS = 5_000;

const NOT_YET: EdgePublisherStats = { published: 0, fixes: 0, pubacks: 0, duplicates: 0, retries: 0, pending: 0, batching: 0, framesInFlight: 0, bytesInFlight: 0, refused: 0, pubAckMs: new Histogram(MS_BUCKETS).snapshot() };

/** The edge's function that carries fixes bound for cloud functions into the cluster's stream. */
export interface CloudBridge {
  /** the publisher's figures: zeros until NATS was reached; `handled`: the bridge's as a function of the zipper (records received, acked) */
  stats(): { connected: boolean; publisher: EdgePublisherStats; handled: StreamFunctionStats };
  /** hands on what it holds (at most `timeout` ms), then disconnects */
  close(timeout: number): Promise<void>;
}

/**
 * Joins the zipper as the function `jetstream`, observing the cloud-bound tags. Each frame goes to
 * `<stream>.<tag>.<partition>` and is acknowledged to the zipper (and so to its source) only once JetStream
 * has acknowledged every message holding its fixes: an edge that dies loses nothing its sources still
 * spool. Until NATS is reached, and while it is away, frames wait in hand (1,024 at most, then the zipper
 * and the sources are pushed back on): held back, never dropped.
 */
export async function startCloudBridge(wf: Workflow & { cluster: ClusterOptions }, conn: { zipper: string; token?: string }, log: Logger = logger('cluster')): Promise<CloudBridge> {
  const cluster = wf.cluster;
  let nc: NatsConnection | undefined;
  let publisher: EdgePublisher | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // a close ends the wait for a server not there yet: frames waiting on it are left unacknowledged, to the spools
  const stopping = new AbortController();
  const edgeKey = `edges.${hostname().replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}`;
  const link = async () => {
    nc = await connectCluster(cluster, `geoflux edge ${wf.name}`, { log, signal: stopping.signal });
    const store = await setUpStream(nc, cluster);
    // seen by `geoflux status` as long as it is renewed, like a worker's registration
    const register = () => void store.leases.put(edgeKey, `${wf.name} at ${wf.listen[0]}`).catch(() => {});
    register();
    heartbeat = setInterval(register, LEASE_TTL_MS / 4).unref();
    publisher = new EdgePublisher({ js: jetstream(nc), stream: cluster.stream, partitions: cluster.partitions, log });
    log.info(`publishing ${cloudInputTags(wf).join(', ')} to JetStream stream "${cluster.stream}" (${cluster.partitions} partitions) at ${nc.getServer()}`);
    return publisher;
  };
  const warn = new RateLimitedLog(log);
  // a server that refuses (no JetStream, a login it does not take) is asked again until it takes the edge:
  // meanwhile frames wait in hand, unacknowledged, and the sources behind them are pushed back on
  const ready = (async () => {
    for (;;) {
      try {
        return await link();
      } catch (e) {
        // a failed handler would be acknowledged as skipped: at a close, frames waiting here wait for ever,
        // unacknowledged, and the zipper hands them to the next edge from the sources' spools
        if (stopping.signal.aborted) return new Promise<never>(() => {});
        warn.warn('link', `cannot publish to the cluster at ${cluster.servers.join(', ')}: ${(e as Error).message}; trying again every ${RELINK_MS / 1000} s, frames wait unacknowledged`);
        await nc?.close().catch(() => {});
        await sleep(RELINK_MS, undefined, { signal: stopping.signal }).catch(() => {});
      }
    }
  })();
  ready.catch(() => {});
  const sfn = await connectStreamFunction({ name: CLOUD_BRIDGE, observe: cloudInputTags(wf), zipper: conn.zipper, token: conn.token, log });
  sfn.handleFrames(async ({ tag, origin, batch }) => {
    const pub = await ready;
    await pub.whenRoom();
    await pub.publish(origin.sid, origin.seq, tag, batch);
  });
  let closed$: Promise<void> | undefined;
  return {
    stats: () => ({ connected: Boolean(nc && !nc.isClosed() && publisher), publisher: publisher?.stats() ?? NOT_YET, handled: sfn.stats() }),
    close: (timeout) => (closed$ ??= close(timeout)),
  };

  async function close(timeout: number): Promise<void> {
    stopping.abort();
    clearInterval(heartbeat);
    await sfn.close(publisher ? timeout : 0);
    if (publisher) await Promise.race([publisher.flush(), new Promise((r) => setTimeout(r, timeout).unref())]);
    await nc?.close();
  }
}
