import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { createGeofence } from '../kernels/create-kernel.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { offsetBy } from '../network/geo.ts';
import { connectSource, type Source } from '../source/connect-source.ts';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { noisyWalk } from '../testing/noisy-walk.ts';
import { freePort } from '../testing/free-port.ts';
import { startGeoflux, startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { CheckpointStore } from '../cluster/checkpoint-store.ts';
import { setUpStream } from '../cluster/stream-setup.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { runWorker } from './run-worker.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');
const nats = natsServerForFile();

const T0 = Date.UTC(2026, 0, 1);
const SQUARE = { type: 'FeatureCollection', features: [{ type: 'Feature', id: 'yard', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]] } }] };

/** 40 vehicles at 1 Hz, σ 10 m, each driving east through the square (in, then out), starting 0–27 s apart; a frame a second */
function fleet(): GpsRecord[][] {
  const frames: GpsRecord[][] = [];
  for (let v = 0; v < 40; v++) {
    const lat = 0.001 + v * 0.0002;
    const walk = noisyWalk([offsetBy(0, lat, -150, 0), offsetBy(0.01, lat, 150, 0)], { speed: 12, sigma: 10, seed: v + 1, deviceId: `v${v}`, t0: T0 + (v % 10) * 3000 });
    for (const f of walk) (frames[(f.t - T0) / 1000] ??= []).push(f);
  }
  return frames;
}

const key = (e: Record<string, any>) => `${e.deviceId} ${e.fence.id} ${e.detect} ${e.time}`;

/** what one process makes of the same frames: the geofence kernel, with no cluster */
async function singleProcess(frames: GpsRecord[][]): Promise<string[]> {
  const k = await createGeofence({ fences: SQUARE, detect: ['enter', 'exit'] } as never);
  return frames.flatMap((f) => k.process(batchFromRecords(f)).map((e) => key(e as Record<string, any>))).sort();
}

/** the workflow every test runs; `jetstream` makes the sink wait for PubAcks into a stream the test reads whole */
function workflowFile(name: string, listen = 'quic://127.0.0.1:0', sink: { jetstream?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-worker-'));
  writeFileSync(join(dir, 'yard.geojson'), JSON.stringify(SQUARE));
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      `listen: [${listen}]`,
      `cluster: { nats: "${nats().url}", partitions: 8 }`,
      'tags: { gps: 16, fences: 17 }',
      'functions:',
      '  - { name: yard, observe: [gps], emit: fences, where: cloud, kernel: geofence, params: { fences: yard.geojson, detect: [enter, exit] } }',
      `  - { name: out, observe: [fences], where: cloud, sink: nats, params: { url: "${nats().url}", subject: "alerts-${name}.{detect}.{deviceId}"${sink.jetstream ? ', jetstream: true' : ''} } }`,
    ].join('\n'),
  );
  return file;
}

/** every event on the workflow's alert subjects: all of them, and by id (what a subscriber that drops repeats keeps) */
async function subscribe(name: string): Promise<{ nc: NatsConnection; all: Record<string, any>[]; byId: Map<string, Record<string, any>> }> {
  const nc = await connect({ servers: nats().url });
  const all: Record<string, any>[] = [];
  const byId = new Map<string, Record<string, any>>();
  const sub = nc.subscribe(`alerts-${name}.>`);
  void (async () => {
    for await (const m of sub) {
      const e = m.json<Record<string, any>>();
      all.push(e);
      byId.set(e.id, e);
    }
  })();
  await nc.flush();
  return { nc, all, byId };
}

const worker = (file: string, name: string, ...more: string[]) => startGeoflux(['worker', file, '--name', name, '--checkpoint-every', '300', ...more], /holding partitions/, { GEOFLUX_LOG: 'info' });

async function writeFrames(src: Source, frames: GpsRecord[][]) {
  for (const f of frames) src.write('gps', f);
  expect(await src.flush(30_000)).toBe(true);
}

describe('geoflux worker', { timeout: 120_000 }, () => {
  it('a device whose clock once ran a year ahead: two late fixes dropped, counted and said, the third taken; it enters the yard', async () => {
    const file = workflowFile('ahead');
    const edge = await serveWorkflow(await loadWorkflow(file));
    const alerts = await subscribe('ahead');
    const w1 = await worker(file, 'w1', '--metrics', '0');
    try {
      const src = await connectSource({ name: 'gw', zipper: edge.zipper.listeners[0].url, certHash: edge.zipper.tls.certHash });
      // west of the yard, then one fix dated a year on, then east at 12 m/s into it and through
      const at = (s: number, t = T0 + s * 1000): GpsRecord => {
        const [lon, lat] = offsetBy(0, 0.005, -100 + s * 12, 0);
        return { deviceId: 'ahead', t, lon, lat, speed: 12 };
      };
      await writeFrames(src, [[at(0)], [at(1, T0 + 365 * 86_400_000)], ...Array.from({ length: 40 }, (_, s) => [at(s + 1)])]);
      await waitFor(() => [...alerts.byId.values()].some((e) => e.deviceId === 'ahead' && e.detect === 'enter'), { ms: 30_000, what: () => `the device to enter the yard:\n${w1.out.stderr}` });
      const m = parseExposition(await (await fetch(w1.out.stderr.match(/metrics: (http:\S+)/)![1])).text());
      expect(total(m, 'geoflux_worker_late_fixes_total')).toBe(2);
      expect(total(m, 'geoflux_worker_repeated_fixes_total')).toBe(0);
      expect(w1.out.stderr).toMatch(/fixes more than 60 s older than their device's last dropped as late \(sequence \d+, the last of device "ahead"\)/);
      await src.close();
    } finally {
      await w1.stop();
      await edge.stop();
      await alerts.nc.close();
    }
  });

  it('a worker killed -9 mid-run: the other takes its partitions with their state; the events equal one process\'s', async () => {
    const frames = fleet();
    const half = 70;
    const [early, all] = [await singleProcess(frames.slice(0, half)), await singleProcess(frames)];
    expect(all.length).toBe(80);
    const file = workflowFile('killed');
    const edge = await serveWorkflow(await loadWorkflow(file));
    const alerts = await subscribe('killed');
    const w1 = await worker(file, 'w1');
    const w2 = await worker(file, 'w2');
    try {
      await waitFor(() => /handed over/.test(w1.out.stderr), { what: () => `w1 to hand w2 its share:\n${w1.out.stderr}` });
      const src = await connectSource({ name: 'gw', zipper: edge.zipper.listeners[0].url, certHash: edge.zipper.tls.certHash });
      await writeFrames(src, frames.slice(0, half));
      await waitFor(() => alerts.byId.size >= early.length, { what: () => `the first ${early.length} events (have ${alerts.byId.size})` });
      w1.child.kill('SIGKILL');
      await w1.exited;
      await writeFrames(src, frames.slice(half));
      await waitFor(() => alerts.byId.size >= all.length, { ms: 60_000, what: () => `all ${all.length} events (have ${alerts.byId.size}); w2:\n${w2.out.stderr}` });
      // w2 took w1's partitions over after the lease ran out, from their checkpoints: the exits need the state
      expect(w2.out.stderr).toMatch(/partition \d+: taken, from the checkpoint/);
      expect([...alerts.byId.values()].map(key).sort()).toEqual(all);
      await src.close();
    } finally {
      w1.child.kill('SIGKILL');
      await w2.stop();
      await edge.stop();
      await alerts.nc.close();
    }
  });

  it('a worker that joins mid-run gets its share by hand-over: no event lost or repeated', async () => {
    const frames = fleet();
    const half = 70;
    const [early, all] = [await singleProcess(frames.slice(0, half)), await singleProcess(frames)];
    const file = workflowFile('joined');
    const edge = await serveWorkflow(await loadWorkflow(file));
    const alerts = await subscribe('joined');
    const w1 = await worker(file, 'w1', '--metrics', '0');
    let w2: Awaited<ReturnType<typeof worker>> | undefined;
    try {
      const src = await connectSource({ name: 'gw', zipper: edge.zipper.listeners[0].url, certHash: edge.zipper.tls.certHash });
      await writeFrames(src, frames.slice(0, half));
      await waitFor(() => alerts.byId.size >= early.length, { what: () => `the first ${early.length} events (have ${alerts.byId.size})` });
      w2 = await worker(file, 'w2');
      await waitFor(() => (w1.out.stderr.match(/handed over/g) ?? []).length === 4, { what: () => `w1 to hand over 4 partitions:\n${w1.out.stderr}` });
      await writeFrames(src, frames.slice(half));
      await waitFor(() => alerts.all.length >= all.length, { ms: 60_000, what: () => `all ${all.length} events (have ${alerts.all.length})` });
      expect(alerts.all.map(key).sort()).toEqual(all);
      // what w1's /metrics says of it: half the partitions, checkpointed, nothing behind
      const m = parseExposition(await (await fetch(w1.out.stderr.match(/metrics: (http:\S+)/)![1])).text());
      expect(total(m, 'geoflux_cluster_partitions_held')).toBe(4);
      expect(total(m, 'geoflux_cluster_partitions_released_total')).toBe(4);
      expect(total(m, 'geoflux_worker_checkpoints_total')).toBeGreaterThan(4);
      expect(total(m, 'geoflux_sink_published_total', { sink: 'out', kind: 'nats' })).toBeGreaterThan(0);
      expect(m.filter((x) => x.name === 'geoflux_worker_checkpoint_bytes')).toHaveLength(4);
      // a service manager's stop: the same clean hand-over as Ctrl-C, said as SIGTERM's
      w2.child.kill('SIGTERM');
      expect(await w2.exited).toBe(0);
      expect(w2.out.stderr).toMatch(/stopping on SIGTERM: handing the partitions over \(send SIGTERM again, or Ctrl-C, to stop at once\)\n/);
      await src.close();
    } finally {
      await w1.stop();
      await w2?.stop();
      await edge.stop();
      await alerts.nc.close();
    }
  });

  it('an edge killed -9 and restarted: its source resends what was not acknowledged, and the events equal one process\'s', async () => {
    const frames = fleet();
    const all = await singleProcess(frames);
    const file = workflowFile('edgekill', `quic://127.0.0.1:${await freePort()}`);
    const alerts = await subscribe('edgekill');
    const w1 = await worker(file, 'w1', '--metrics', '0');
    let edge = await startServe(file);
    try {
      const src = await connectSource({ name: 'gw', zipper: edge.url, certHash: edge.certHash });
      for (const f of frames.slice(0, 70)) src.write('gps', f);
      // some frames are in the stream, some on their way, none acknowledged to the source yet, maybe
      await waitFor(() => alerts.all.length > 0, { what: () => 'the first events' });
      edge.child.kill('SIGKILL');
      await edge.exited;
      edge = await startServe(file);
      await writeFrames(src, frames.slice(70));
      await waitFor(() => alerts.all.length >= all.length, { ms: 60_000, what: () => `all ${all.length} events (have ${alerts.all.length})` });
      expect(alerts.all.map(key).sort()).toEqual(all);
      const m = parseExposition(await (await fetch(w1.out.stderr.match(/metrics: (http:\S+)/)![1])).text());
      expect(total(m, 'geoflux_worker_messages_total')).toBeGreaterThan(0);
      await src.close();
    } finally {
      await w1.stop();
      await edge.stop();
      await alerts.nc.close();
    }
  });

  it('a checkpoint that cannot be read: its partition is replayed from the stream\'s start, and the events equal one process\'s', async () => {
    const frames = fleet();
    const all = await singleProcess(frames);
    const file = workflowFile('junk');
    const nc = await connect({ servers: nats().url });
    const store = await setUpStream(nc, { stream: 'junk' });
    // every partition's checkpoint is three bytes of junk that claims to cover the stream's first 5 messages
    for (let p = 0; p < 8; p++) await new CheckpointStore(store.checkpoints).put(p, { seq: 5, state: new Uint8Array([1, 2, 3]) });
    await nc.close();
    const edge = await serveWorkflow(await loadWorkflow(file));
    const alerts = await subscribe('junk');
    const src = await connectSource({ name: 'gw', zipper: edge.zipper.listeners[0].url, certHash: edge.zipper.tls.certHash });
    await writeFrames(src, frames);
    const w1 = await worker(file, 'w1');
    try {
      await waitFor(() => alerts.all.length >= all.length, { ms: 60_000, what: () => `all ${all.length} events (have ${alerts.all.length}):\n${w1.out.stderr}` });
      expect(alerts.all.map(key).sort()).toEqual(all);
      expect(w1.out.stderr).toMatch(/partition 0: its checkpoint at sequence 5 cannot be read \(.+\); replaying the partition from the stream's start/);
      await src.close();
    } finally {
      await w1.stop();
      await edge.stop();
      await alerts.nc.close();
    }
  });

  it('refuses a second worker of a live one\'s name', async () => {
    const file = workflowFile('twins');
    const w1 = await worker(file, 'twin');
    try {
      await expect(runWorker(await loadWorkflow(file), { name: 'twin' })).rejects.toThrow('a worker named twin is live on stream "twins" already: give this one another --name');
    } finally {
      await w1.stop();
    }
  });

  it('nats-server killed for 5 s and restarted: the edge holds back, the workers go on, and the events equal one process\'s', async () => {
    const frames = fleet();
    const all = await singleProcess(frames);
    const file = workflowFile('outage', undefined, { jetstream: true });
    const nc = await connect({ servers: nats().url });
    // the alerts are kept in a stream of their own: a subscriber away with the server would miss some
    await (await jetstreamManager(nc)).streams.add({ name: 'ALERTS_OUTAGE', subjects: ['alerts-outage.>'] });
    await nc.close();
    const edge = await serveWorkflow(await loadWorkflow(file));
    const w1 = await worker(file, 'w1');
    const w2 = await worker(file, 'w2');
    try {
      await waitFor(() => /handed over/.test(w1.out.stderr), { what: () => `w1 to hand w2 its share:\n${w1.out.stderr}` });
      const src = await connectSource({ name: 'gw', zipper: edge.zipper.listeners[0].url, certHash: edge.zipper.tls.certHash });
      await writeFrames(src, frames.slice(0, 40));
      await nats().kill();
      for (const f of frames.slice(40, 70)) src.write('gps', f);
      await new Promise((r) => setTimeout(r, 5_000));
      await nats().restart();
      await writeFrames(src, frames.slice(70));
      const events = async () => {
        const c = await connect({ servers: nats().url });
        try {
          return await storedJson(c, 'ALERTS_OUTAGE');
        } finally {
          await c.close();
        }
      };
      let got: Record<string, any>[] = [];
      await waitFor(async () => new Map((got = await events()).map((e) => [e.id, e])).size >= all.length, { ms: 60_000, what: () => `all ${all.length} events (have ${got.length}):\n${w1.out.stderr}\n${w2.out.stderr}` });
      // a lease that ran out with the server away is taken again from its checkpoint: what was published after
      // the partition's mark comes again, with its id (geoflux alerts prints each id once)
      expect([...new Map(got.map((e) => [e.id, e])).values()].map(key).sort()).toEqual(all);
      await src.close();
    } finally {
      await w1.stop();
      await w2.stop();
      await edge.stop();
    }
  });
});

/** every message of a stream, as JSON */
async function storedJson(nc: NatsConnection, stream: string): Promise<Record<string, any>[]> {
  const jsm = await jetstreamManager(nc);
  const out: Record<string, any>[] = [];
  for (let seq = 1; seq <= (await jsm.streams.info(stream)).state.last_seq; seq++) out.push((await jsm.streams.getMessage(stream, { seq }))!.json());
  return out;
}
