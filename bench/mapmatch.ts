import { createMapMatch, type MapMatchFileParams } from '../kernels/create-kernel.ts';
import { readFileSync } from 'node:fs';
import { batchFromRecords, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { loadNetwork } from '../network/load-network.ts';
import { drive, wander } from '../network/noisy-drive.ts';
import type { MapMatchEvent } from '../kernels/mapmatch.ts';
import { parseTrace } from '../simulators/replay/trace-formats.ts';
import { fmt, now, table } from './stats.ts';

const KUBICKA = '../shared/data/mapmatch-kubicka/00000000';
const MONACO = '../shared/data/osm/monaco.osm.pbf';
/** FMM (Yang & Gidófalvi 2018), published single-core throughput with its precomputed UBODT */
const FMM = [25_000, 45_000];

/** Matches `fixes` (time-ordered) in batches of 4096 on a fresh kernel; best of `runs` for the time. */
async function timed(params: MapMatchFileParams, fixes: GpsRecord[], runs = 5): Promise<{ events: MapMatchEvent[]; ms: number }> {
  const batches: GpsBatch[] = [];
  for (let i = 0; i < fixes.length; i += 4096) batches.push(batchFromRecords(fixes.slice(i, i + 4096)));
  let best = Infinity;
  let events: MapMatchEvent[] = [];
  for (let r = 0; r < runs; r++) {
    const k = await createMapMatch(params);
    const out: MapMatchEvent[] = [];
    const t0 = now();
    for (const b of batches) for (const e of k.process(b)) out.push(e);
    for (const e of k.flush()) out.push(e);
    best = Math.min(best, now() - t0);
    events = out;
  }
  return { events, ms: best };
}

const routesOf = (events: MapMatchEvent[]) => {
  const by = new Map<string, number[]>();
  for (const e of events) {
    if (e.detect !== 'traversal') continue;
    const r = by.get(e.deviceId) ?? (by.set(e.deviceId, []), by.get(e.deviceId)!);
    if (r[r.length - 1] !== e.edge) r.push(e.edge);
  }
  return by;
};

/** share of the true edges the match drove, and share of the driven edges that are true */
function routeAccuracy(truth: Map<string, number[]>, events: MapMatchEvent[]): [number, number] {
  const routes = routesOf(events);
  let hit = 0, total = 0, good = 0, driven = 0;
  for (const [d, t] of truth) {
    const r = routes.get(d) ?? [];
    const [inR, inT] = [new Set(r), new Set(t)];
    hit += t.filter((e) => inR.has(e)).length;
    total += t.length;
    good += r.filter((e) => inT.has(e)).length;
    driven += r.length;
  }
  return [hit / total, good / driven];
}

export async function run(): Promise<void> {
  const rows: (string | number)[][] = [];
  const pct = (x: number) => (x * 100).toFixed(1) + ' %';

  const track = parseTrace(readFileSync(`${KUBICKA}.track`, 'utf8'), 'kubicka').records;
  const truth = readFileSync(`${KUBICKA}.route`, 'utf8').trim().split('\n').map(Number);
  let kubickaRate = 0;
  for (const lag of [5, 10]) {
    const { events, ms } = await timed({ network: KUBICKA, lag }, track);
    if (lag === 5) kubickaRate = (track.length / ms) * 1000;
    const [rec, prec] = routeAccuracy(new Map([['kubicka', truth]]), events);
    rows.push([`Kubička 00000000, σ 5 m, lag ${lag}`, track.length, fmt((track.length / ms) * 1000), pct(rec), pct(prec), '—']);
  }

  // a fleet on Monaco: known routes, interleaved in time as a gateway would see them
  const { graph } = await loadNetwork(MONACO);
  const VEHICLES = 200;
  for (const sigma of [5, 10]) {
    const fixes: GpsRecord[] = [];
    const routes = new Map<string, number[]>();
    const edgeAt = new Map<string, number>();
    for (let v = 0; v < VEHICLES; v++) {
      const path = wander(graph, 1000 + v, 60);
      const device = `veh-${v}`;
      const d = drive(graph, path, { sigma, seed: v + 1, speed: 8 + (v % 7), device });
      routes.set(device, path);
      d.fixes.forEach((f, i) => (fixes.push(f), edgeAt.set(`${device}@${f.t}`, d.truth[i])));
    }
    fixes.sort((a, b) => a.t - b.t);
    const { events, ms } = await timed({ network: MONACO, sigma }, fixes, 3);
    const [rec, prec] = routeAccuracy(routes, events);
    const matched = events.filter((e) => e.detect === 'matched');
    const onEdge = matched.filter((e) => e.edge === edgeAt.get(`${e.deviceId}@${e.t}`)).length / fixes.length;
    rows.push([`Monaco, ${VEHICLES} vehicles, noise σ ${sigma} m`, fixes.length, fmt((fixes.length / ms) * 1000), pct(rec), pct(prec), pct(onEdge)]);
  }
  rows.push(['FMM, published (one core, reference)', '—', `${fmt(FMM[0])}–${fmt(FMM[1])}`, '—', '—', '—']);
  console.log('map matching: the mapmatch kernel (online, fixed lag) on one core; Kubička best of 5, Monaco best of 3\n');
  console.log(table(['trace', 'fixes', 'fixes/s', 'true edges found', 'found edges true', 'fixes on true edge'], rows));
  console.log(`\nKubička at lag 5 ÷ FMM's best published figure: ${(kubickaRate / FMM[1]).toFixed(2)}x`);
}
