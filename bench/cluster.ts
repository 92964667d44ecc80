import { randomBytes } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { encodeGpsBatch } from '../codecs/gps-batch.ts';
import { CheckpointStore } from '../cluster/checkpoint-store.ts';
import { EdgePublisher } from '../cluster/edge-publisher.ts';
import { PartitionLeases } from '../cluster/partition-leases.ts';
import { PartitionReader } from '../cluster/partition-reader.ts';
import { LEASE_TTL_MS, setUpStream } from '../cluster/stream-setup.ts';
import { setLogLevel } from '../log/logger.ts';
import type { HistogramSnapshot } from '../metrics/histogram.ts';
import { fleetBatch } from '../testing/gps-fleet-batch.ts';
import { startNatsServer, type NatsServer } from '../testing/nats-server-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { takeoverWithState, throughWorkers } from './cluster-workers.ts';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * The cluster's building blocks against Debian's nats-server on 127.0.0.1, each part on a fresh server:
 * JetStream's own acked publish rate (the ceiling), the edge publisher's, reading a partition back,
 * lease hand-over and takeover, checkpoint put/get.
 */

const FIXES = Number(process.env.GEOFLUX_BENCH_FIXES ?? 1_000_000);
const P = 8;

async function withServer<T>(f: (s: NatsServer, nc: NatsConnection) => Promise<T>): Promise<T> {
  const s = await startNatsServer();
  const nc = await connect({ servers: s.url });
  try {
    return await f(s, nc);
  } finally {
    await nc.close();
    await s.stop();
  }
}

/** JetStream alone: 256-fix messages (encoded once), `window` publishes awaiting their PubAck at a time */
async function ceiling(window: number) {
  return withServer(async (_, nc) => {
    await setUpStream(nc, { stream: 'bench' });
    const js = jetstream(nc);
    const payload = encodeGpsBatch(fleetBatch(256, 1));
    const messages = Math.ceil(FIXES / 256);
    const lat: number[] = [];
    let next = 0;
    const t0 = now();
    await Promise.all(
      Array.from({ length: window }, async () => {
        for (let i = next++; i < messages; i = next++) {
          const t = now();
          await js.publish(`bench.gps.${i % P}`, payload, { msgID: `m${i}` });
          lat.push(now() - t);
        }
      }),
    );
    const s = (now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    return { fixesPerS: (messages * 256) / s, p50: percentile(lat, 50), p99: percentile(lat, 99) };
  });
}

/** the upper bound of the bucket holding the p-th percentile */
const bucketPercentile = (h: HistogramSnapshot, p: number) => {
  let seen = 0;
  for (let i = 0; i < h.bounds.length; i++) if ((seen += h.counts[i]) >= (p / 100) * h.count) return h.bounds[i];
  return Infinity;
};

/** EdgePublisher: `writers` gateways, each sending frames of `perFrame` fixes (one per vehicle) as fast as it lets them; then one partition read back */
async function edge(writers: number, perFrame: number) {
  return withServer(async (_, nc) => {
    await setUpStream(nc, { stream: 'bench' });
    const pub = new EdgePublisher({ js: jetstream(nc), stream: 'bench', partitions: P });
    const frames = Math.ceil(FIXES / perFrame / writers);
    const batches = Array.from({ length: writers }, (_, w) => fleetBatch(perFrame, 1, `gw${w}-veh`));
    const t0 = now();
    const acked: Promise<void>[] = [];
    for (let f = 1; f <= frames; f++) {
      for (let w = 0; w < writers; w++) {
        if (pub.full) await pub.whenRoom();
        acked.push(pub.publish(`gw-${w}`, f, 'gps', batches[w]));
      }
    }
    await Promise.all(acked);
    const s = (now() - t0) / 1000;
    const st = pub.stats();
    // reading partition 0 back in order, through the reader a worker uses
    let read = 0;
    const r0 = now();
    const reader = await PartitionReader.start(nc, { stream: 'bench', partition: 0, afterSeq: 0, handle: async (m) => void (read += new DataView(m.data.buffer, m.data.byteOffset).getUint32(4, true)) });
    const expected = st.fixes / P;
    await waitFor(() => read >= expected * 0.9, { ms: 120_000, what: 'partition 0 read back' });
    const readS = (now() - r0) / 1000;
    await reader.stop();
    return { fixesPerS: (writers * frames * perFrame) / s, messages: st.pubacks, p50: bucketPercentile(st.pubAckMs, 50), p99: bucketPercentile(st.pubAckMs, 99), retries: st.retries, readPerS: read / readS };
  });
}

/** EdgePublisher's own work, over a stub that acknowledges at once: what it costs the edge's core */
async function edgeAlone(perFrame: number) {
  const js = { publish: async () => ({ stream: 'bench', seq: 1, duplicate: false }) } as unknown as JetStreamClient;
  const pub = new EdgePublisher({ js, stream: 'bench', partitions: P });
  const batch = fleetBatch(perFrame, 1);
  const frames = Math.ceil(FIXES / perFrame);
  const acked: Promise<void>[] = [];
  const t0 = now();
  for (let f = 1; f <= frames; f++) {
    if (pub.full) await pub.whenRoom();
    acked.push(pub.publish('gw-0', f, 'gps', batch));
  }
  await Promise.all(acked);
  return (frames * perFrame) / ((now() - t0) / 1000);
}

/** ms from a holder's crash until the survivor holds every partition, and from a join until the newcomer holds its share */
async function leases(reps: number) {
  return withServer(async (_, nc) => {
    const takeover: number[] = [];
    const handover: number[] = [];
    for (let r = 0; r < reps; r++) {
      const { leases: kv } = await setUpStream(nc, { stream: `leases${r}` });
      const worker = (name: string) => new PartitionLeases({ kv, worker: name, partitions: P, ttlMs: LEASE_TTL_MS, acquired() {}, releasing() {}, lost() {} });
      const a = worker('a');
      await a.start();
      const b = worker('b');
      let t = now();
      await b.start();
      await waitFor(() => b.partitions().length === P / 2, { every: 5, what: 'hand-over' });
      handover.push(now() - t);
      t = now();
      await a.close({ release: false });
      await waitFor(() => b.partitions().length === P, { every: 5, ms: 60_000, what: 'takeover' });
      takeover.push(now() - t);
      await b.close();
    }
    return { handover: handover.sort((x, y) => x - y), takeover: takeover.sort((x, y) => x - y) };
  });
}

/** put and get of one partition's state of `devices` devices at `bytesPerDevice` (random: incompressible) */
async function checkpoints(devices: number, bytesPerDevice: number, reps: number) {
  return withServer(async (_, nc) => {
    const store = new CheckpointStore((await setUpStream(nc, { stream: 'bench' })).checkpoints);
    const state = new Uint8Array(randomBytes(devices * bytesPerDevice));
    const put: number[] = [];
    const get: number[] = [];
    for (let r = 0; r < reps; r++) {
      let t = now();
      await store.put(0, { seq: r, state });
      put.push(now() - t);
      t = now();
      await store.get(0);
      get.push(now() - t);
    }
    put.sort((a, b) => a - b);
    get.sort((a, b) => a - b);
    return { bytes: state.byteLength, put: percentile(put, 50), get: percentile(get, 50) };
  });
}

export async function run(): Promise<void> {
  // a takeover logs its lost leases and resends: the tables say what happened
  setLogLevel('error');
  console.log(`nats-server ${P} partitions, ${fmt(FIXES)} fixes a run, one server per row, 127.0.0.1\n`);
  const rows: (string | number)[][] = [];
  for (const w of [8, 64]) {
    const c = await ceiling(w);
    rows.push([`JetStream acked publish, 256 fixes a message, ${w} awaiting`, fmt(c.fixesPerS), c.p50.toFixed(2), c.p99.toFixed(2), '']);
  }
  for (const [writers, perFrame] of [
    [1, 512],
    [1, 2048],
    [4, 512],
    [4, 2048],
  ] as const) {
    const e = await edge(writers, perFrame);
    rows.push([`EdgePublisher, ${writers} gateway(s) × ${perFrame}-fix frames (${e.messages} msgs)`, fmt(e.fixesPerS), `≤ ${e.p50}`, `≤ ${e.p99}`, fmt(e.readPerS)]);
  }
  for (const perFrame of [512, 2048]) rows.push([`EdgePublisher alone (a stub acks at once), ${perFrame}-fix frames`, fmt(await edgeAlone(perFrame)), '', '', '']);
  console.log(table(['publish path', 'fixes/s', 'PubAck p50 ms', 'p99 ms', 'partition read back, fixes/s'], rows));

  const l = await leases(Number(process.env.GEOFLUX_BENCH_REPS ?? 3));
  console.log(`\nleases (TTL ${LEASE_TTL_MS} ms, renewed every ${LEASE_TTL_MS / 4} ms, ${P} partitions, ${l.takeover.length} runs)\n`);
  console.log(
    table(
      ['event', 'median ms', 'max ms'],
      [
        ['hand-over to a joining worker (its share held)', fmt(percentile(l.handover, 50)), fmt(l.handover.at(-1)!)],
        ['takeover after a holder dies (all held by the survivor)', fmt(percentile(l.takeover, 50)), fmt(l.takeover.at(-1)!)],
      ],
    ),
  );

  const through = await throughWorkers();
  console.log(`\nthe whole path: ${fmt(2_000)} vehicles × 15 s of fixes into an edge, a geofence, its enters to a NATS sink; latency edge-in → alert-out (the sinks' histogram bucket)\n`);
  console.log(table(['path', 'fixes/s (as fast as it goes)', 'events (paced)', 'latency p50 ms (paced, 1 Hz)', 'p99 ms'], through));
  console.log('(on 2 cores: the edge, JetStream and the workers share them; a second worker adds a kernel thread, not a core)');

  const k = await takeoverWithState();
  console.log(`\nkill -9 of one of two worker processes, ${fmt(2_000)} vehicles' geofence state in its 4 partitions, 10 s before any enter\n`);
  console.log(
    table(
      ['takeover (kill → last partition restored) ms', 'checkpoints restored', 'enters (distinct ids / published)', 'lost', 'duplicated'],
      [[fmt(k.takeoverMs), `${fmt(k.checkpointBytes)} B`, `${fmt(k.distinct)} / ${fmt(k.published)}`, fmt(2_000 - k.distinct), fmt(k.published - k.distinct)]],
    ),
  );

  const BYTES_PER_DEVICE = 256;
  const cp = [];
  for (const devices of [1_000, 10_000, 40_000]) {
    const c = await checkpoints(devices, BYTES_PER_DEVICE, 5);
    cp.push([`${fmt(devices)} devices × ${BYTES_PER_DEVICE} B`, `${(c.bytes / 1e6).toFixed(2)} MB`, c.put.toFixed(1), c.get.toFixed(1)]);
  }
  console.log(`\ncheckpoints (object store, synthetic random state of ${BYTES_PER_DEVICE} B a device, median of 5)\n`);
  console.log(table(['partition state', 'size', 'put ms', 'get ms'], cp));
}
