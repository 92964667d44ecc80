import { batchFromRecords, type GpsBatch } from '../codecs/gps-batch.ts';
import { createRoam } from '../kernels/create-kernel.ts';
import type { RoamParams } from '../kernels/roam.ts';
import { loadNetwork } from '../network/load-network.ts';
import { M_PER_DEG, metresPerDegLon } from '../network/geo.ts';
import type { RoadGraph } from '../network/road-graph.ts';
import { TrafficSim, type TruthRecord } from '../simulators/traffic/traffic-sim.ts';
import { BANDS, heldOnLine, type OffLine } from './border-share.ts';
import { BORDER_HEADERS, borderRow, DEMO, f1, HEADERS, HOLD, known, matched, pct, pool, scoreRow, secs, sum, WITHIN } from './events.ts';
import { TrueTrack } from './true-track.ts';
import type { MapMatchParams } from '../kernels/mapmatch.ts';
import { scoreFenceEvents, type DetectedChange, type EventScore } from './score-fence-events.ts';
import { fmt, table } from './stats.ts';
import { HeldState, type FenceChange } from './true-fence-events.ts';

/**
 * roam's nearby and faraway scored against the simulator's truth (issue 21, item 4), counted as the fences
 * are (bench/events.ts): a true event is a change of a pair's near/far state, from true positions, that holds
 * 10 s; a detection matches one of the same pair and kind within 15 s, one to one. A pair is scored as a
 * "fence" the other vehicle is: (first id, second id) in string order, nearby as enter, faraway as exit.
 * Every vehicle is seen by one instance: no partition, so no pair straddles two (docs/kernels.md).
 */
const MONACO = '../shared/data/osm/monaco.osm.pbf';
const DISTANCE = 50;
/** the goal's fleet, scored with the defaults; the modes are compared on a smaller one (raw makes tens of millions of events at 10,000) */
const BIG = Number(process.env.GEOFLUX_ROAM_VEHICLES ?? 10_000);
const SMALL = 1_000;
const SECONDS = 300;
const TUNING = [1];
const HELD_OUT = [101, 102];
/** GPS noise σ (m) and seconds between fixes */
const GPS: [number, number][] = [[10, 1]];

type Mode = Partial<RoamParams>;
const DEFAULTS: Mode = {};
const MODES: [string, Mode][] = [
  ['raw (no hysteresis, evidence, confirm, outlier guard or smoothing)', { hysteresis: 0, evidence: 0, confirm: 0, maxSpeed: 1e6, smoothing: 1 }],
  ['defaults, without smoothing', { smoothing: 1 }],
  ['defaults, hysteresis 0', { hysteresis: 0 }],
  ['defaults, without extrapolation', { extrapolate: false }],
  ['defaults', DEFAULTS],
];

/** the ceiling (as bench/events.ts's): the kernel fed the true positions, waiting `confirm` s and nothing else */
const EXACT_MODES: [string, Mode][] = [8, 9, 10].map((confirm) => [`true positions: confirm ${confirm} s, nothing else`, { hysteresis: 0, evidence: 0, confirm, maxSpeed: 1e6, smoothing: 1 }]);

type Feed = { batch: GpsBatch; at: number }[];

interface Scenario {
  gps: Feed;
  /** the true positions as fixes */
  exact: Feed;
  truth: FenceChange[];
  /** every vehicle's true position each second: how far from the distance a missed pair truly was */
  track: TrueTrack;
  end: number;
  fixes: number;
  vehicleHours: number;
}

/** The pairs of vehicles truly within DISTANCE at one moment: a grid of DISTANCE cells, each against its neighbours. */
function nearPairs(track: readonly TruthRecord[]): [number, number][] {
  const kx = metresPerDegLon(track[0].lat);
  const cells = new Map<string, number[]>();
  const cell = (p: TruthRecord) => [Math.floor((p.lon * kx) / DISTANCE), Math.floor((p.lat * M_PER_DEG) / DISTANCE)];
  track.forEach((p, i) => {
    const key = cell(p).join();
    (cells.get(key) ?? cells.set(key, []).get(key)!).push(i);
  });
  const pairs: [number, number][] = [];
  track.forEach((p, i) => {
    const [cx, cy] = cell(p);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (const j of cells.get(`${cx + dx},${cy + dy}`) ?? []) {
          if (j <= i) continue;
          const q = track[j];
          if (Math.hypot((q.lon - p.lon) * kx, (q.lat - p.lat) * M_PER_DEG) <= DISTANCE) pairs.push([i, j]);
        }
      }
    }
  });
  return pairs;
}

/**
 * The true pair events of a fleet's true positions, a second at a time: each near pair's state, kept while near
 * or pending. Unlike a vehicle inside a fence at its first fix, a pair near at the first second is an event
 * only if it stays near 10 s: the fleet starts with hundreds of pairs a second apart that part at once.
 */
class TruePairs {
  readonly events: FenceChange[] = [];
  private readonly states = new Map<number, HeldState>();

  add(track: readonly TruthRecord[]): void {
    const n = track.length;
    const t = track[0].t;
    const near = new Set<number>();
    for (const [i, j] of nearPairs(track)) near.add(i * n + j);
    for (const key of near) if (!this.states.has(key)) this.states.set(key, new HeldState(HOLD));
    for (const [key, state] of this.states) {
      const at = state.sample(near.has(key), t);
      if (at !== undefined) {
        const [a, b] = [track[Math.floor(key / n)].deviceId, track[key % n].deviceId].sort();
        this.events.push({ deviceId: a, fence: b, detect: state.held ? 'enter' : 'exit', t: at });
      }
      if (state.idle) this.states.delete(key);
    }
  }
}

/** `withExact`: keep the true positions as a feed too (the ceiling's rows; at 10,000 vehicles they would double the memory) */
export async function scenario(g: RoadGraph, vehicles: number, noise: number, interval: number, seed: number, withExact = false): Promise<Scenario> {
  const sim = new TrafficSim(g, { fleets: [{ name: 'veh', vehicles, gps: { noise, interval } }], seed, start: Date.UTC(2026, 0, 1, 8), truth: true });
  const truth = new TruePairs();
  const track = new TrueTrack();
  const gps: Feed = [];
  const exact: Feed = [];
  let end = 0;
  let fixes = 0;
  for (let s = 0; s < SECONDS; s++) {
    const step = sim.step();
    if (step.fixes.length) gps.push({ batch: batchFromRecords(step.fixes), at: step.track[0].t });
    if (withExact) exact.push({ batch: batchFromRecords(step.track.map(({ deviceId, t, lon, lat, speed, heading }) => ({ deviceId, t, lon, lat, speed, heading }))), at: step.track[0].t });
    fixes += step.fixes.length;
    truth.add(step.track);
    track.add(step.track);
    end = step.track[0].t;
  }
  return { gps, exact, truth: truth.events, track, end, fixes, vehicleHours: (vehicles * SECONDS) / 3600 };
}

interface Run {
  score: EventScore;
  /** fixes the kernel took a second, in this thread */
  fixesPerSecond: number;
  /** distances the kernel computed, per second of fixes */
  checksPerSecond: number;
}

export async function scoreMode(s: Scenario, mode: Mode, feed = s.gps): Promise<Run> {
  const k = await createRoam({ distance: DISTANCE, ...mode });
  const detected: DetectedChange[] = [];
  let ms = 0;
  for (const { batch, at } of feed) {
    const t0 = performance.now();
    const events = k.process(batch);
    ms += performance.now() - t0;
    for (const e of events) {
      const [a, b] = [e.deviceId, e.other.deviceId].sort();
      detected.push({ deviceId: a, fence: b, detect: e.detect === 'nearby' ? 'enter' : 'exit', t: Date.parse(e.time), emitted: at });
    }
  }
  const score = scoreFenceEvents(detected.filter(known(s)), s.truth.filter(known(s)), { within: WITHIN, flapWithin: HOLD, vehicleHours: s.vehicleHours });
  return { score, fixesPerSecond: s.fixes / (ms / 1000), checksPerSecond: k.stats().pairChecks / SECONDS };
}

const allPairs = (n: number) => (n * (n - 1)) / 2;

/** metres from roam's line: how far the pair's true distance is from DISTANCE */
const offDistance: OffLine = (e, at) => {
  const [[x1, y1], [x2, y2]] = [at(e.deviceId), at(e.fence)];
  return Math.abs(Math.hypot((x2 - x1) * metresPerDegLon(y1), (y2 - y1) * M_PER_DEG) - DISTANCE);
};

/**
 * `--matched`: also the defaults fed map-matched positions, as a workflow with a map matcher can feed roam
 * (as the demo's quarters are fed): with the demo's matcher settings at both fleets, and as the matcher
 * holds fixes by default at the smaller one (matching 10,000 vehicles for 300 s takes minutes).
 */
const MATCHED: [string, Partial<Pick<MapMatchParams, 'lagSeconds'>>, number[]][] = [
  [`matched, lagSeconds ${DEMO.matcher.lagSeconds}: defaults`, DEMO.matcher, [BIG, SMALL]],
  ['matched: defaults', {}, [SMALL]],
];

export async function report(): Promise<void> {
  const { graph } = await loadNetwork(MONACO);
  const rows: (string | number)[][] = [];
  const cost: (string | number)[][] = [];
  const border: (string | number)[][] = [];
  const onMatched = process.argv.includes('--matched');
  for (const [vehicles, modes, exactModes] of [[BIG, MODES.slice(-1), []], [SMALL, MODES, EXACT_MODES]] as const) {
    for (const [noise, interval] of GPS) {
      const gps = `${vehicles.toLocaleString('en')} vehicles, σ ${noise} m, ${interval} s`;
      // one scenario at a time: 10,000 vehicles' fixes for 300 s are a few hundred MB
      const runs = new Map<string, { run: Run; onLine?: number[][] }[]>();
      const add = (name: string, run: Run, onLine?: number[][]) => (runs.get(name) ?? runs.set(name, []).get(name)!).push({ run, onLine });
      for (const seed of HELD_OUT) {
        const sc = await scenario(graph, vehicles, noise, interval, seed, exactModes.length > 0);
        // the missed pairs, and all true ones, that kept within a few metres of the distance the whole hold
        const onLine = (r: Run) => [heldOnLine(r.score.missed, sc.track, HOLD, offDistance), heldOnLine(sc.truth.filter(known(sc)), sc.track, HOLD, offDistance)];
        for (const [name, mode] of modes) {
          const r = await scoreMode(sc, mode);
          add(name, r, mode === DEFAULTS ? onLine(r) : undefined);
        }
        for (const [name, mode] of exactModes) add(name, await scoreMode(sc, mode, sc.exact));
        for (const [name, matcher, fleets] of onMatched ? MATCHED : []) {
          if (!fleets.includes(vehicles)) continue;
          const r = await scoreMode(sc, DEFAULTS, await matched(MONACO, sc.gps, matcher));
          add(name, r, onLine(r));
        }
      }
      for (const [name, rs] of runs) {
        const score = pool(rs.map(({ run }) => run.score));
        rows.push(scoreRow(gps, name, score));
        const mean = (f: (r: Run) => number) => rs.reduce((m, { run }) => m + f(run), 0) / rs.length;
        const checks = mean((r) => r.checksPerSecond);
        cost.push([gps, name, fmt(mean((r) => r.fixesPerSecond)), fmt(checks), fmt(allPairs(vehicles)), fmt(allPairs(vehicles) - checks)]);
        if (rs[0].onLine) border.push(borderRow(gps, name, score, sum(rs.map((r) => r.onLine![0])), sum(rs.map((r) => r.onLine![1]))));
      }
    }
  }
  console.log(`\nroam (${DISTANCE} m) against the truth: ${SECONDS} s in Monaco, one instance, held-out seeds ${HELD_OUT.join(', ')} pooled; true change = held ${HOLD / 1000} s, match within ${WITHIN / 1000} s\n`);
  console.log(table(HEADERS, rows));
  console.log(`\nthe true pair changes missed, and of them those whose true distance kept within ${BANDS.join(' or ')} m of ${DISTANCE} m for the whole ${HOLD / 1000} s hold (no σ 10 m fixes tell which side of the distance such a pair is)\n`);
  console.log(table(BORDER_HEADERS, border));
  console.log(`\npair checks (distances computed) against all pairs once a second, and what one instance keeps up with\n`);
  console.log(table(['GPS', 'mode', 'fixes/s (one thread)', 'checks per fix second', 'all pairs n(n-1)/2', 'avoided per second'], cost));
}

/** The debounce params on the tuning seeds: best mean F1, then lowest delay. */
export async function tune(): Promise<void> {
  const { graph } = await loadNetwork(MONACO);
  const scenarios = await Promise.all(TUNING.flatMap((seed) => GPS.map(([noise, interval]) => scenario(graph, SMALL, noise, interval, seed))));
  const grid = process.env.GEOFLUX_ROAM_GRID ? JSON.parse(process.env.GEOFLUX_ROAM_GRID) : { smoothing: [0.2, 0.3, 0.5], hysteresis: [0, 5], evidence: [20, 40], confirm: [4, 8] };
  const rows: { mode: Required<Pick<RoamParams, 'smoothing' | 'hysteresis' | 'evidence' | 'confirm'>>; f1: number; s: EventScore }[] = [];
  for (const smoothing of grid.smoothing) {
    for (const hysteresis of grid.hysteresis) {
      for (const evidence of grid.evidence) {
        for (const confirm of grid.confirm) {
          const mode = { smoothing, hysteresis, evidence, confirm };
          const s = pool(await Promise.all(scenarios.map(async (sc) => (await scoreMode(sc, mode)).score)));
          rows.push({ mode, f1: f1(s), s });
        }
      }
    }
  }
  rows.sort((a, b) => b.f1 - a.f1 || a.s.delay.p50 - b.s.delay.p50);
  console.log(`\nroam debounce params on the tuning seeds ${TUNING.join(', ')} (${SMALL.toLocaleString('en')} vehicles × ${SECONDS} s), best first\n`);
  console.log(table(['smoothing', 'hysteresis m', 'evidence m', 'confirm s', 'F1', 'precision', 'recall', 'time err p50 s', 'delay p50 s', 'flaps/veh-h'], rows.map((r) => [r.mode.smoothing, r.mode.hysteresis, r.mode.evidence, r.mode.confirm, pct(r.f1), pct(r.s.precision), pct(r.s.recall), secs(r.s.timeError.p50), secs(r.s.delay.p50), fmt(r.s.flapsPerVehicleHour, 2)])));
}
