import { batchFromRecords, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { createGeofence, createMapMatch } from '../kernels/create-kernel.ts';
import type { GeofenceParams } from '../kernels/geofence.ts';
import type { MapMatchParams } from '../kernels/mapmatch.ts';
import { loadNetwork } from '../network/load-network.ts';
import { areasFromOsm } from '../network/osm-areas.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import { TrafficSim } from '../simulators/traffic/traffic-sim.ts';
import { scoreFenceEvents, type DetectedChange, type EventScore } from './score-fence-events.ts';
import { fmt, table } from './stats.ts';
import { trueFenceEvents, type FenceChange, type TrueSample } from './true-fence-events.ts';
import { TrueTrack } from './true-track.ts';
import { BANDS, heldOnLine, type OffLine } from './border-share.ts';
import { boundaryDistance, type FenceFeature } from './fence-boundary.ts';

/**
 * `npm run bench -- events`: geofence enters and exits scored against the simulator's truth (issue 21).
 * A true event is a change of membership that holds 10 s; a detection matches one of the same vehicle, fence
 * and kind within 15 s, one to one. `-- events --tune` searches the debounce params on the tuning seeds;
 * the table quotes the held-out seeds, never looked at while choosing. Then the same for roam's pairs
 * (bench/roam-events.ts); `-- events --roam` runs those alone, `-- events --fences` the fences alone.
 */
const MONACO = '../shared/data/osm/monaco.osm.pbf';
export const HOLD = 10_000;
export const WITHIN = 15_000;
const FLEET = { vehicles: 100, seconds: 900 };
const TUNING = [1, 2];
const HELD_OUT = [101, 102];
/** GPS noise σ (m) and seconds between fixes */
const GPS: [number, number][] = [[5, 1], [10, 1], [15, 1], [10, 5]];

type Fences = { type: 'FeatureCollection'; features: object[] };
type Mode = Partial<GeofenceParams>;

/** The kernel's defaults before issue 21's look at them: the wait counted by the run, no band, 8 s, dated at the first fix. */
const BEFORE: Mode = { confirmRun: true, hysteresis: 0, evidence: 20, confirm: 8, crossing: false };

/**
 * What the bench picks for map-matched positions (`--tune --matched`), which a workflow feeding the geofence
 * `matched` sets: no noise restarts the wait there, and a probation outliving the run fires on short visits.
 */
export const FOR_MATCHED: Mode = { confirmRun: true, hysteresis: 0, confirm: 9 };

/** Every mode the kernel has, each alone and together: `maxSpeed: 1e6` turns the outlier guard off. */
export const MODES: [string, Mode][] = [
  ['today: raw (debounce: false)', { debounce: false }],
  ['outlier guard only', { ...BEFORE, evidence: 0, confirm: 0 }],
  ['hysteresis 10 m only', { ...BEFORE, hysteresis: 10, evidence: 0, confirm: 0, maxSpeed: 1e6 }],
  ['evidence 20 m only', { ...BEFORE, confirm: 0, maxSpeed: 1e6 }],
  ['confirm 8 s only', { ...BEFORE, evidence: 0, maxSpeed: 1e6 }],
  ['before (confirmRun true, no band, confirm 8 s)', BEFORE],
  ['the matched settings (confirmRun true, no band, confirm 9 s)', FOR_MATCHED],
  ['defaults with confirm 8 s', { confirm: 8 }],
  ['defaults + accuracy ×1', { accuracy: 1 }],
  ['defaults dated at the first fix on the new side (crossing false, the defaults before the crossing estimate)', { crossing: false }],
  ['defaults (confirmRun false, crossing, hysteresis 3 m, evidence 20 m, confirm 9 s, outlier guard)', {}],
];

/** 50 m circles at junctions (nodes where three or more streets meet), every 40th of them */
function junctionCircles(g: RoadGraph): Fences {
  const streets = new Map<number, Set<number>>();
  const link = (a: number, b: number) => (streets.get(a) ?? streets.set(a, new Set()).get(a)!).add(b);
  g.edgeFrom.forEach((a, e) => (link(a, g.edgeTo[e]), link(g.edgeTo[e], a)));
  const junctions = [...streets].filter(([, s]) => s.size >= 3).map(([n]) => n).sort((a, b) => a - b);
  const features = junctions.filter((_, i) => i % 40 === 0).map((n) => ({ type: 'Feature', id: `junction-${n}`, properties: { name: `junction ${n}`, radius: 50 }, geometry: { type: 'Point', coordinates: [g.nodeLon[n], g.nodeLat[n]] } }));
  return { type: 'FeatureCollection', features };
}

/** what the geofence is fed a second at a time, and the stream time at which each batch is there */
type Feed = { batch: GpsBatch; at: number }[];

interface Scenario {
  gps: Feed;
  /** the true positions as fixes: what a detector with perfect GPS and no map matcher would see */
  exact: Feed;
  truth: FenceChange[];
  /** every vehicle's true position each second: where a missed change truly was (the border share) */
  track: TrueTrack;
  end: number;
  vehicleHours: number;
}

/** A simulated fleet's fixes, one batch a second, and the true fence events of its true positions */
export async function scenario(g: RoadGraph, fences: Fences, noise: number, interval: number, seed: number): Promise<Scenario> {
  const sim = new TrafficSim(g, { fleets: [{ name: 'veh', vehicles: FLEET.vehicles, gps: { noise, interval } }], seed, start: Date.UTC(2026, 0, 1, 8), truth: true });
  const membership = await createGeofence({ fences }, { contains: true });
  const gps: Feed = [];
  const exact: Feed = [];
  const samples: TrueSample[] = [];
  const track = new TrueTrack();
  let end = 0;
  for (let s = 0; s < FLEET.seconds; s++) {
    const step = sim.step();
    track.add(step.track);
    if (step.fixes.length) gps.push({ batch: batchFromRecords(step.fixes), at: step.track[0].t });
    exact.push({ batch: batchFromRecords(step.track.map(({ deviceId, t, lon, lat, speed, heading }) => ({ deviceId, t, lon, lat, speed, heading }))), at: step.track[0].t });
    const inside = membership.contains(step.track);
    step.track.forEach((p, i) => samples.push({ deviceId: p.deviceId, t: p.t, fences: inside[i].map((f) => membership.fences[f].id) }));
    end = step.track[0].t;
  }
  return { gps, exact, truth: trueFenceEvents(samples, HOLD), track, end, vehicleHours: (FLEET.vehicles * FLEET.seconds) / 3600 };
}

/**
 * The fixes as the map-matching kernel puts them on the road, each batch there when the matcher lets it out
 * (it holds a fix until every live path agrees on it, or, with `lagSeconds`, until it is that much older than
 * the newest fix): what a workflow's geofence or roam observing `matched` sees, speed and all.
 */
export async function matched(network: string, gps: Feed, params: Partial<Pick<MapMatchParams, 'lagSeconds'>> = {}): Promise<Feed> {
  // one matcher for the whole fleet, where a workflow would partition it: 10,000 devices' lattices outgrow a
  // kernel's default 64 MB (it traps), so 1 GB
  const matcher = await createMapMatch({ network, ...params }, { maxPages: 16_384 });
  const feed: Feed = [];
  for (const { batch, at } of gps) {
    const fixes: GpsRecord[] = [];
    for (const e of matcher.process(batch)) if (e.detect === 'matched') fixes.push({ deviceId: e.deviceId, t: e.t, lon: e.lon, lat: e.lat, ...(e.speed === null ? {} : { speed: e.speed }) });
    if (fixes.length) feed.push({ batch: batchFromRecords(fixes), at });
  }
  return feed;
}

/** The kernel in one mode over a feed, scored; changes too near the end for the truth to know are left out. */
async function scoreMode(s: Scenario, feed: Feed, fences: Fences, mode: Mode): Promise<EventScore> {
  const k = await createGeofence({ fences, detect: ['enter', 'exit'], ...mode });
  const detected: DetectedChange[] = [];
  for (const { batch, at } of feed) {
    for (const e of k.process(batch)) detected.push({ deviceId: e.deviceId, fence: e.fence.id, detect: e.detect as 'enter' | 'exit', t: Date.parse(e.time), emitted: at });
  }
  return scoreFenceEvents(detected.filter(known(s)), s.truth.filter(known(s)), { within: WITHIN, flapWithin: HOLD, vehicleHours: s.vehicleHours });
}

/** changes too near the end of a run for the truth to know whether they held */
export const known = (s: { end: number }) => (e: FenceChange) => e.t <= s.end - HOLD - WITHIN;

/** pools the scores of several seeds: counts add up, percentiles are of the seeds' (a mean of them) */
export function pool(scores: EventScore[]): EventScore {
  const mean = (f: (s: EventScore) => number) => scores.reduce((m, s) => m + f(s), 0) / scores.length;
  const matched = scores.reduce((m, s) => m + s.precision * s.detected, 0);
  const detected = scores.reduce((m, s) => m + s.detected, 0);
  const truth = scores.reduce((m, s) => m + s.truth, 0);
  return {
    detected,
    truth,
    precision: detected ? matched / detected : 1,
    recall: truth ? matched / truth : 1,
    timeError: { p50: mean((s) => s.timeError.p50), p95: mean((s) => s.timeError.p95) },
    delay: { p50: mean((s) => s.delay.p50), p95: mean((s) => s.delay.p95) },
    flapsPerVehicleHour: mean((s) => s.flapsPerVehicleHour),
    trueVisitFlapsPerVehicleHour: mean((s) => s.trueVisitFlapsPerVehicleHour),
    missed: scores.flatMap((s) => s.missed),
  };
}

export const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
export const secs = (ms: number) => (ms / 1000).toFixed(1);
export const f1 = (s: EventScore) => (2 * s.precision * s.recall) / (s.precision + s.recall || 1);

export async function fenceSets(): Promise<{ g: RoadGraph; sets: [string, Fences][] }> {
  const { graph } = await loadNetwork(MONACO);
  return { g: graph, sets: [['quarters (9)', await areasFromOsm(MONACO)], ['50 m circles at junctions', junctionCircles(graph)]] };
}

async function report(): Promise<void> {
  const { g, sets } = await fenceSets();
  console.log(`geofence events against the truth: ${FLEET.vehicles} vehicles × ${FLEET.seconds} s, held-out seeds ${HELD_OUT.join(', ')} pooled; true change = held ${HOLD / 1000} s, match within ${WITHIN / 1000} s\n`);
  for (const [fenceName, fences] of sets) {
    const rows: (string | number)[][] = [];
    for (const [noise, interval] of GPS) {
      const scenarios = await Promise.all(HELD_OUT.map((seed) => scenario(g, fences, noise, interval, seed)));
      for (const [name, mode] of MODES) {
        const s = pool(await Promise.all(scenarios.map((sc) => scoreMode(sc, sc.gps, fences, mode))));
        rows.push(scoreRow(`σ ${noise} m, ${interval} s`, name, s));
      }
    }
    console.log(`${fenceName}\n`);
    console.log(table(HEADERS, rows));
    console.log('');
  }
  await gpsOrMatched(g, sets[0][1]);
}

export const HEADERS = ['GPS', 'mode', 'events', 'true', 'precision', 'recall', 'time err p50 s', 'p95 s', 'delay p50 s', 'p95 s', 'flaps/veh-h', 'of them true visits'];
export const scoreRow = (gps: string, mode: string, s: EventScore) => [gps, mode, s.detected, s.truth, pct(s.precision), pct(s.recall), secs(s.timeError.p50), secs(s.timeError.p95), secs(s.delay.p50), secs(s.delay.p95), fmt(s.flapsPerVehicleHour, 2), fmt(s.trueVisitFlapsPerVehicleHour, 2)];

/**
 * The ceiling: the kernel fed the true positions themselves, waiting `confirm` s. A true change is one that
 * holds 10 s, so a detector that decides sooner also fires on changes that undo themselves before then,
 * however good its positions; and positions on a border line (a street that is the border) cannot be told
 * in from out by any distance past it.
 */
const EXACT_MODES: [string, Mode][] = [8, 9, 10].map((confirm) => [`confirm ${confirm} s, nothing else`, { hysteresis: 0, evidence: 0, confirm, confirmRun: true, maxSpeed: 1e6 }]);

/**
 * What the demo (workflow.yaml) feeds its quarters: the matcher commits a fix once it is `lagSeconds` older
 * than the newest (it held fixes up to 30 s while its paths disagreed, so an enter could come out late and
 * its exit on time: two true events out 8 s apart, counted as a flap), and the geofence takes the settings
 * for matched positions (on road, a visit of 8 or 9 s is seen as it is, and is no true change).
 */
export const DEMO: { matcher: Pick<MapMatchParams, 'lagSeconds'>; mode: Mode } = { matcher: { lagSeconds: 1.5 }, mode: FOR_MATCHED };
const DEMO_FEED = `matched, lagSeconds ${DEMO.matcher.lagSeconds}`;

/** The quarters fed the raw fixes or the map-matched ones (issue 21, part 3): which a workflow should observe. */
async function gpsOrMatched(g: RoadGraph, quarters: Fences): Promise<void> {
  const rows: (string | number)[][] = [];
  const border: (string | number)[][] = [];
  const fence = new Map((quarters.features as FenceFeature[]).map((f) => [String(f.id), f]));
  const offBorder: OffLine = (e, at) => boundaryDistance(fence.get(e.fence)!, ...at(e.deviceId));
  const defaults = MODES[MODES.length - 1];
  for (const [noise, interval] of GPS) {
    const scenarios = await Promise.all(HELD_OUT.map((seed) => scenario(g, quarters, noise, interval, seed)));
    const feeds: Record<string, Feed[]> = {
      gps: scenarios.map((s) => s.gps),
      matched: await Promise.all(scenarios.map((s) => matched(MONACO, s.gps))),
      [DEMO_FEED]: await Promise.all(scenarios.map((s) => matched(MONACO, s.gps, DEMO.matcher))),
      exact: scenarios.map((s) => s.exact),
    };
    const before = MODES.find(([, m]) => m === BEFORE)!;
    const atFix = MODES[MODES.length - 2];
    const demoAtFix: [string, Mode] = ['the matched settings dated at the first fix (the demo before the crossing estimate)', { ...DEMO.mode, crossing: false }];
    const runs: [string, [string, Mode][]][] = [['gps', [MODES[0], before, atFix, defaults]], ['matched', [MODES[0], before, defaults]], [DEMO_FEED, [before, defaults, demoAtFix, ['the matched settings (the demo)', DEMO.mode]]]];
    // the true positions do not depend on the noise: once is enough
    if (noise === GPS[0][0] && interval === GPS[0][1]) runs.push(['exact', EXACT_MODES]);
    const gps = `σ ${noise} m, ${interval} s`;
    for (const [source, modes] of runs) {
      for (const [name, mode] of modes) {
        const scores = await Promise.all(scenarios.map((sc, i) => scoreMode(sc, feeds[source][i], quarters, mode)));
        rows.push(scoreRow(source === 'exact' ? 'true positions' : gps, `${source}: ${name}`, pool(scores)));
        if (mode === MODES[0][1] || source === 'exact') continue;
        const onLine = (changes: (s: EventScore, i: number) => FenceChange[]) => sum(scores.map((s, i) => heldOnLine(changes(s, i), scenarios[i].track, HOLD, offBorder)));
        border.push(borderRow(gps, `${source}: ${name}`, pool(scores), onLine((s) => s.missed), onLine((_, i) => scenarios[i].truth.filter(known(scenarios[i])))));
      }
    }
  }
  console.log('quarters, fed raw gps, matched positions, or the true positions (the delay counts the matcher holding fixes back)\n');
  console.log(table(HEADERS, rows));
  console.log(`\nthe true changes missed, and of them those whose true position kept within ${BANDS.join(' or ')} m of the border for the whole ${HOLD / 1000} s hold (a vehicle on a border street's centreline: no σ 10 m fix tells its side)\n`);
  console.log(table(BORDER_HEADERS, border));
}

/** adds up, band by band, counts of several seeds */
export const sum = (counts: number[][]) => counts.reduce((a, c) => a.map((x, i) => x + c[i]));

export const BORDER_HEADERS = ['GPS', 'mode', 'true', 'missed', ...BANDS.map((b) => `missed, ≤ ${b} m all hold`), ...BANDS.map((b) => `all true, ≤ ${b} m all hold`)];
export const borderRow = (gps: string, mode: string, s: EventScore, missed: number[], all: number[]) => [gps, mode, s.truth, s.missed.length, ...missed.map((n) => `${n} (${pct(n / (s.missed.length || 1))})`), ...all.map((n) => `${n} (${pct(n / (s.truth || 1))})`)];

/** The grid the defaults were picked from, on the tuning seeds: best mean F1 over every scenario, then lowest delay. */
async function tune(): Promise<void> {
  const { g, sets } = await fenceSets();
  // --matched: the quarters fed map-matched positions
  const onMatched = process.argv.includes('--matched');
  if (onMatched) sets.length = 1;
  const scenarios: { fences: Fences; s: Scenario; feed: Feed }[] = [];
  for (const [, fences] of sets) {
    for (const [noise, interval] of GPS) {
      for (const seed of TUNING) {
        const s = await scenario(g, fences, noise, interval, seed);
        scenarios.push({ fences, s, feed: onMatched ? await matched(MONACO, s.gps) : s.gps });
      }
    }
  }
  const rows: { mode: Mode; f1: number; worst: number; delay: number; bySet: string[] }[] = [];
  // every combination of the grid's values, each key a param of the kernel; a grid that leaves confirmRun out
  // searches the wait counted by the run, as it always has
  const given = process.env.GEOFLUX_EVENTS_GRID ? JSON.parse(process.env.GEOFLUX_EVENTS_GRID) : { hysteresis: [0, 5, 10, 15], evidence: [20, 40, 80, 120], confirm: [0, 3, 6], accuracy: [0] };
  const grid: Record<string, unknown[]> = { confirmRun: [true], ...given };
  const modes = Object.entries(grid).reduce<Mode[]>((ms, [param, values]) => ms.flatMap((m) => values.map((v) => ({ ...m, [param]: v }))), [{}]);
  for (const mode of modes) {
    const scores = await Promise.all(scenarios.map(({ fences, s, feed }) => scoreMode(s, feed, fences, mode)));
    const bySet = sets.map(([, fences]) => pool(scores.filter((_, i) => scenarios[i].fences === fences))).map((s) => `${pct(s.precision)} / ${pct(s.recall)}`);
    rows.push({ mode, f1: scores.reduce((m, s) => m + f1(s), 0) / scores.length, worst: Math.min(...scores.map(f1)), delay: scores.reduce((m, s) => m + s.delay.p50, 0) / scores.length, bySet });
  }
  rows.sort((a, b) => b.f1 - a.f1 || a.delay - b.delay);
  console.log(`debounce params on the tuning seeds ${TUNING.join(', ')} (${scenarios.length} scenarios${onMatched ? ', matched positions' : ''}), best first\n`);
  const perSet = sets.map(([name]) => `${name}: precision / recall`);
  const params = Object.keys(grid) as (keyof Mode)[];
  console.log(table([...params, 'mean F1', 'worst F1', 'delay p50 s', ...perSet], rows.slice(0, 15).map((r) => [...params.map((p) => String(r.mode[p])), pct(r.f1), pct(r.worst), secs(r.delay), ...r.bySet])));
}

export async function run(): Promise<void> {
  const tuning = process.argv.includes('--tune');
  // --roam: only the roam kernel's pairs (bench/roam-events.ts); --fences: only the fences; neither: both
  if (!process.argv.includes('--roam')) await (tuning ? tune() : report());
  if (process.argv.includes('--fences')) return;
  const roam = await import('./roam-events.ts');
  await (tuning ? roam.tune() : roam.report());
}
