import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { HistogramSnapshot } from '../metrics/histogram.ts';
import { runWorker, type RunningWorker } from '../serve/run-worker.ts';
import { serveWorkflow } from '../serve/serve-workflow.ts';
import { connectSource } from '../source/connect-source.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { startNatsServer } from '../testing/nats-server-process.ts';
import { startGeoflux } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { fmt, now } from './stats.ts';

/**
 * The whole path, edge in to alert out, for one workflow (a geofence over the five squares of
 * testing/fence-squares.ts, events to a NATS sink): in one process; as an edge → JetStream → 1 worker; → 2
 * workers (in this process: each worker's kernel in a thread of its own); and the time a worker's kill -9 takes
 * to be covered, with the vehicles' geofence state in its checkpoints (two worker processes). Fixes are stamped with the wall clock, so a sink's latency histogram is edge-in → alert-out.
 */

const VEHICLES = 2_000;

/** second `s` of `VEHICLES` vehicles crossing into f0 (at 11 s), stamped `t` */
const frame = (s: number, t: number): GpsRecord[] => Array.from({ length: VEHICLES }, (_, v) => ({ ...crossingFix(v % 40, s), deviceId: `v${v}`, t }));

function workflow(dir: string, nats: string, cloud: boolean): string {
  writeFileSync(join(dir, 'squares.geojson'), JSON.stringify(SQUARES));
  const file = join(dir, `${cloud ? 'cloud' : 'local'}.yaml`);
  const where = cloud ? 'where: cloud' : 'host: local';
  writeFileSync(
    file,
    [
      `name: ${cloud ? 'bench' : 'single'}`,
      'listen: [quic://127.0.0.1:0]',
      ...(cloud ? [`cluster: { nats: "${nats}", partitions: 8 }`] : []),
      'tags: { gps: 16, fences: 17 }',
      'functions:',
      `  - { name: yard, observe: [gps], emit: fences, ${where}, kernel: geofence, params: { fences: squares.geojson, detect: [enter, exit], debounce: false } }`,
      `  - { name: out, observe: [fences], ${cloud ? 'where: cloud, ' : ''}sink: nats, params: { url: "${nats}", subject: "alerts.{detect}.{deviceId}" } }`,
    ].join('\n'),
  );
  return file;
}

const quantile = (h: HistogramSnapshot, q: number): number => {
  const n = h.counts.reduce((a, b) => a + b, 0);
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) if ((seen += h.counts[i]) >= q * n) return h.bounds[i] ?? Infinity;
  return Infinity;
};

interface WorkerRow {
  what: string;
  fixesPerS: number;
  events: number;
  /** ≤ this many ms (the latency histogram's bucket bound) */
  p50: number;
  p99: number;
}

/**
 * one run: the edge (or the single process) takes `seconds` of the fleet until every event was published —
 * as fast as it goes (for fixes/s), or `paced`, a frame a second stamped with the wall clock (for latency)
 */
async function once(what: string, workers: number, seconds: number, paced: boolean): Promise<WorkerRow> {
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-bench-workers-'));
  const running: RunningWorker[] = [];
  const counter = await connect({ servers: nats.url });
  let events = 0;
  const sub = counter.subscribe('alerts.>', {
    callback: () => {
      events++;
    },
  });
  try {
    const cloud = workers > 0;
    const wf = await loadWorkflow(workflow(dir, nats.url, cloud), {});
    const edge = await serveWorkflow(wf);
    for (let w = 0; w < workers; w++) running.push(await runWorker(wf, { name: `w${w}`, checkpointMs: 5_000 }));
    if (cloud) await waitFor(() => running.every((w) => w.stats().partitions.length === 8 / workers), { ms: 30_000, what: 'the partitions shared' });
    // each vehicle enters f0 once, at 11 s
    const expected = VEHICLES;
    const src = await connectSource({ name: 'bench', zipper: edge.zipper.listeners[0].url, certHash: edge.zipper.tls.certHash });
    const start = now();
    const t0 = Date.now();
    for (let sec = 0; sec < seconds; sec++) {
      if (paced) await new Promise((r) => setTimeout(r, Math.max(0, t0 + sec * 1000 - Date.now())));
      src.write('gps', frame(sec, paced ? Date.now() : t0 + sec * 1000));
    }
    await src.flush(120_000);
    await waitFor(() => events >= expected, { ms: 120_000, every: 20, what: () => `${expected} events (have ${events})` });
    const ms = now() - start;
    const sinks = (cloud ? running.flatMap((w) => w.sinks) : edge.sinks).map((s) => s.sink.latency.snapshot());
    const h = sinks.reduce((a, b) => ({ ...a, counts: a.counts.map((c, i) => c + b.counts[i]) }));
    await src.close();
    for (const w of running) await w.stop();
    await edge.stop();
    return { what, fixesPerS: (seconds * VEHICLES) / (ms / 1000), events, p50: quantile(h, 0.5) * 1000, p99: quantile(h, 0.99) * 1000 };
  } finally {
    sub.unsubscribe();
    await counter.close();
    await nats.stop();
  }
}

/** each path twice: as fast as it goes (fixes/s), and paced at 1 Hz with wall-clock fixes (latency) */
export async function throughWorkers(seconds = 15): Promise<(string | number)[][]> {
  const rows: (string | number)[][] = [];
  for (const [what, workers] of [
    ['one process (no cluster)', 0],
    ['edge → JetStream → 1 worker', 1],
    ['edge → JetStream → 2 workers', 2],
  ] as const) {
    const fast = await once(what, workers, seconds, false);
    const paced = await once(what, workers, seconds, true);
    rows.push([what, fmt(fast.fixesPerS), fmt(paced.events), `≤ ${fmt(paced.p50)}`, `≤ ${fmt(paced.p99)}`]);
  }
  return rows;
}

export interface TakeoverRow {
  /** kill -9 → the last of its partitions taken by the survivor, its state restored (from the survivor's log) */
  takeoverMs: number;
  /** the dead worker's partitions' checkpoints, as restored */
  checkpointBytes: number;
  /** enters published (one a vehicle is right), distinct by id and in all */
  distinct: number;
  published: number;
}

/**
 * Two worker processes share the fleet's partitions; ten seconds in, before any vehicle has entered, one is
 * killed -9. The survivor takes its partitions over from their checkpoints (the devices' outside state in
 * them) and must publish each vehicle's enter exactly once.
 */
export async function takeoverWithState(): Promise<TakeoverRow> {
  const nats = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-bench-takeover-'));
  const counter = await connect({ servers: nats.url });
  const ids = new Set<string>();
  let published = 0;
  const sub = counter.subscribe('alerts.>', {
    callback: (_, m) => {
      published++;
      ids.add(m.json<{ id: string }>().id);
    },
  });
  const file = workflow(dir, nats.url, true);
  const edge = await serveWorkflow(await loadWorkflow(file, {}));
  const worker = (name: string) => startGeoflux(['worker', file, '--name', name, '--checkpoint-every', '1000'], /holding partitions/);
  const [w0, w1] = [await worker('w0'), await worker('w1')];
  try {
    await waitFor(() => (w1.out.stderr.match(/: taken/g) ?? []).length === 4, { ms: 30_000, what: 'the partitions shared' });
    const src = await connectSource({ name: 'bench', zipper: edge.zipper.listeners[0].url, certHash: edge.zipper.tls.certHash });
    for (let sec = 0; sec < 10; sec++) src.write('gps', frame(sec, sec * 1000));
    await src.flush(60_000);
    // a checkpoint is taken as messages come, at most a second apart: the last ones may not be in it (replayed)
    await new Promise((r) => setTimeout(r, 1_500));
    const killedAt = Date.now();
    w0.child.kill('SIGKILL');
    for (let sec = 10; sec < 16; sec++) src.write('gps', frame(sec, sec * 1000));
    await src.flush(60_000);
    await waitFor(() => ids.size >= VEHICLES, { ms: 60_000, every: 20, what: () => `${VEHICLES} enters (have ${ids.size})` });
    await counter.flush();
    const taken = w1.out.stderr.split('\n').filter((l) => / taken, from the checkpoint/.test(l) && Date.parse(l.slice(0, 24)) > killedAt);
    await src.close();
    return {
      takeoverMs: Math.max(...taken.map((l) => Date.parse(l.slice(0, 24)))) - killedAt,
      checkpointBytes: taken.reduce((n, l) => n + Number(/\((\d+) bytes\)/.exec(l)?.[1] ?? 0), 0),
      distinct: ids.size,
      published,
    };
  } finally {
    w0.child.kill('SIGKILL');
    await w1.stop();
    await edge.stop();
    sub.unsubscribe();
    await counter.close();
    await nats.stop();
  }
}
