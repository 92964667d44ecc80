import { map } from 'rxjs';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import { connectSource, connectStreamFunction } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { loadNetwork } from '../network/load-network.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import { fixLine } from '../simulators/traffic/fix-lines.ts';
import { TrafficSim, type TrafficOptions } from '../simulators/traffic/traffic-sim.ts';
import { Zipper } from '../zipper/zipper.ts';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * The traffic simulator on one core: how many vehicles at 1 Hz it sustains (the goal is 10,000), what
 * writing the fixes costs, and how well map matching recovers its ground truth.
 */
const MONACO = '../shared/data/osm/monaco.osm.pbf';
const START = Date.UTC(2026, 0, 1, 8);
const opts = (vehicles: number, extra: Partial<TrafficOptions> = {}): TrafficOptions => ({ fleets: [{ name: 'veh', vehicles }], seed: 1, start: START, ...extra });

function simulate(g: RoadGraph, vehicles: number, seconds: number, out?: (f: GpsRecord[]) => void) {
  let t0 = now();
  const sim = new TrafficSim(g, opts(vehicles));
  const init = now() - t0;
  const steps: number[] = [];
  let fixes = 0;
  t0 = now();
  for (let s = 0; s < seconds; s++) {
    const t = now();
    const step = sim.step();
    out?.(step.fixes);
    steps.push(now() - t);
    fixes += step.fixes.length;
  }
  const secs = (now() - t0) / 1000;
  steps.sort((a, b) => a - b);
  return { init, perSec: fixes / secs, realtime: seconds / secs, p50: percentile(steps, 50), p99: percentile(steps, 99) };
}

/** the simulator as a source: batches over memory:// into a zipper and a counting function */
async function throughZipper(g: RoadGraph, vehicles: number, seconds: number) {
  const z = await Zipper.start({ name: 'bench-traffic', listen: [], tags: { gps: 16 }, functions: [{ name: 'count', observe: ['gps'], dispatch: { kind: 'partition', key: 'deviceId' } }] });
  let received = 0;
  const sfn = await connectStreamFunction({ name: 'count', observe: ['gps'], zipper: z.memoryUrl });
  sfn.handle((in$) => in$.pipe(map(() => void received++)));
  const src = await connectSource({ name: 'sim', zipper: z.memoryUrl, spool: 1_000_000 });
  const sim = new TrafficSim(g, opts(vehicles));
  const t0 = now();
  let sent = 0;
  for (let s = 0; s < seconds; s++) {
    const { fixes } = sim.step();
    sent += fixes.length;
    if (!src.write('gps', fixes)) await src.flush(5000);
    await new Promise((r) => setImmediate(r));
  }
  while (received < sent && now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 2));
  const secs = (now() - t0) / 1000;
  await src.close(1000);
  await sfn.close();
  await z.close(0);
  return { perSec: received / secs, realtime: seconds / secs };
}

export async function run(): Promise<void> {
  setLogLevel('warn');
  const { graph } = await loadNetwork(MONACO);
  const seconds = Number(process.env.GEOFLUX_BENCH_SIM_SECONDS ?? 300);
  const rows: (string | number)[][] = [];
  for (const n of [500, 2000, 10_000]) {
    const r = simulate(graph, n, seconds);
    rows.push([`${fmt(n)} vehicles`, r.init.toFixed(0), fmt(r.perSec), `${r.realtime.toFixed(1)}x`, r.p50.toFixed(2), r.p99.toFixed(2)]);
  }
  let bytes = 0;
  const csv = simulate(graph, 10_000, seconds, (fs) => void (bytes += fs.reduce((a, f) => a + fixLine(f, 'csv').length + 1, 0)));
  rows.push(['10k vehicles + CSV lines', csv.init.toFixed(0), fmt(csv.perSec), `${csv.realtime.toFixed(1)}x`, csv.p50.toFixed(2), csv.p99.toFixed(2)]);
  const z = await throughZipper(graph, 10_000, Math.min(seconds, 120));
  rows.push(['10k vehicles → memory:// zipper → sfn', '', fmt(z.perSec), `${z.realtime.toFixed(1)}x`, '', '']);
  console.log(`traffic simulator on Monaco (${graph.edgeFrom.length} edges), ${seconds} simulated seconds at 1 Hz, one core\n`);
  console.log(table(['run', 'init ms', 'fixes/s', '× real time', 'step p50 ms', 'step p99 ms'], rows));
  const alone = rows[2][3];
  console.log(`\n10,000 vehicles at 1 Hz: simulated ${alone} faster than real time on one core, ${csv.realtime.toFixed(0)}x while writing CSV (${fmt(((bytes / seconds) * 8) / 1e6, 1)} Mbit/s of text at 1x).`);
  console.log('\n(map matching the simulated fleet against its ground truth: npm run bench -- mapmatch)');
}
