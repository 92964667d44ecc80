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
import { waitFor } from '../testing/wait-for.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { fmt, now } from './stats.ts';

/**
 * The whole path, edge in to alert out, for one workflow (a geofence over the five squares of
 * testing/fence-squares.ts, events to a NATS sink): in one process; as an edge → JetStream → 1 worker; → 2
 * workers (in this process: each worker's kernel in a thread of its own); and the time a worker's kill takes
 * to be covered. Fixes are stamped with the wall clock, so a sink's latency histogram is edge-in → alert-out.
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
