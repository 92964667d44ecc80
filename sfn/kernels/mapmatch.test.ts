import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchFromRecords } from '../../codecs/gps-batch.ts';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import { loadNetwork } from '../../network/load-network.ts';
import { drive } from '../../network/noisy-drive.ts';
import { GraphBuilder, type RoadGraph } from '../../network/road-graph.ts';
import { buildSegmentIndex } from '../../network/segment-index.ts';
import { parseTrace } from '../../simulators/replay/trace-formats.ts';
import { fleetWithTruth } from '../../simulators/traffic/fleet-with-truth.ts';
import { MapMatchKernel, type MapMatchEvent, type MapMatchParams, type MatchedFix } from './mapmatch.ts';

const KUBICKA = '../shared/data/mapmatch-kubicka/00000000';
const MONACO = '../shared/data/osm/monaco.osm.pbf';

// hand-made graphs in metres east/north of a point in Monaco
const O = [7.42, 43.73];
const at = (x: number, y: number): [number, number] => [O[0] + x / (111_320 * Math.cos((O[1] * Math.PI) / 180)), O[1] + y / 111_320];

function graphOf(ways: { from: string; to: string; shape: [number, number][]; oneway?: boolean }[]) {
  const b = new GraphBuilder();
  const named: Record<string, number> = {};
  let e = 0;
  ways.forEach((w, i) => {
    const pts = w.shape.map(([x, y]) => at(x, y));
    const [a, z] = [b.node(w.from, ...pts[0]), b.node(w.to, ...pts[pts.length - 1])];
    b.edge(a, z, pts, i + 1, 0, 14);
    named[`${w.from}>${w.to}`] = e++;
    if (!w.oneway) {
      b.edge(z, a, [...pts].reverse(), i + 1, 0, 14);
      named[`${w.to}>${w.from}`] = e++;
    }
  });
  const graph = b.build();
  return { network: { graph, index: buildSegmentIndex(graph) }, named };
}

async function match(params: MapMatchParams, fixes: GpsRecord[], batch = 256): Promise<MapMatchEvent[]> {
  const k = await MapMatchKernel.create(params);
  const events: MapMatchEvent[] = [];
  for (let i = 0; i < fixes.length; i += batch) events.push(...k.process(batchFromRecords(fixes.slice(i, i + batch))));
  events.push(...k.flush());
  return events;
}

/** the edges driven, in order: what `geoflux match --route` prints */
const routeOf = (events: MapMatchEvent[]) =>
  events.filter((e) => e.detect === 'traversal').reduce<number[]>((r, e) => (r[r.length - 1] === e.edge ? r : [...r, e.edge]), []);
const matched = (events: MapMatchEvent[]) => events.filter((e): e is MatchedFix => e.detect === 'matched');

describe('map matching on hand-made graphs', () => {
  it('turns at a T-junction', async () => {
    const { network, named } = graphOf([
      { from: 'A', to: 'B', shape: [[0, 0], [200, 0]] },
      { from: 'B', to: 'C', shape: [[200, 0], [400, 0]] },
      { from: 'B', to: 'D', shape: [[200, 0], [200, -200]] },
    ]);
    const { fixes } = drive(network.graph, [named['A>B'], named['B>D']], { sigma: 4 });
    const events = await match({ network }, fixes);
    expect(routeOf(events)).toEqual([named['A>B'], named['B>D']]);
    expect(matched(events)).toHaveLength(fixes.length);
  });

  it('keeps to the one-way carriageway going the right way, even when the fixes sit between the two', async () => {
    const { network, named } = graphOf([
      { from: 'W1', to: 'E1', shape: [[0, 8], [400, 8]], oneway: true },
      { from: 'E2', to: 'W2', shape: [[400, -8], [0, -8]], oneway: true },
    ]);
    // the car drives east down the middle: both carriageways are 8 m away
    const fixes = Array.from({ length: 30 }, (_, i) => {
      const [lon, lat] = at(10 + i * 12, 0);
      return { deviceId: 'car', t: Date.UTC(2026, 0, 1) + i * 1000, lon, lat };
    });
    const events = matched(await match({ network }, fixes));
    expect(events.every((e) => e.edge === named['W1>E1'])).toBe(true);
  });

  it('goes round a roundabout the way it turns', async () => {
    const R = 30;
    const arc = (a0: number, a1: number): [number, number][] =>
      Array.from({ length: 7 }, (_, i) => {
        const a = ((a0 + ((a1 - a0) * i) / 6) * Math.PI) / 180;
        return [R * Math.cos(a), R * Math.sin(a)];
      });
    const { network, named } = graphOf([
      // counter-clockwise, as in right-hand traffic
      { from: 'E', to: 'N', shape: arc(0, 90), oneway: true },
      { from: 'N', to: 'W', shape: arc(90, 180), oneway: true },
      { from: 'W', to: 'S', shape: arc(180, 270), oneway: true },
      { from: 'S', to: 'E', shape: arc(270, 360), oneway: true },
      { from: 'Ex', to: 'E', shape: [[180, 0], [R, 0]] },
      { from: 'Nx', to: 'N', shape: [[0, 180], [0, R]] },
      { from: 'Wx', to: 'W', shape: [[-180, 0], [-R, 0]] },
      { from: 'Sx', to: 'S', shape: [[0, -180], [0, -R]] },
    ]);
    const path = [named['Ex>E'], named['E>N'], named['N>W'], named['W>Wx']];
    const { fixes } = drive(network.graph, path, { sigma: 3, speed: 8 });
    expect(routeOf(await match({ network }, fixes))).toEqual(path);
  });

  it('drops fixes that go back in time, counts them, and does not match far-off fixes to a road', async () => {
    const { network, named } = graphOf([{ from: 'A', to: 'B', shape: [[0, 0], [600, 0]] }]);
    const { fixes } = drive(network.graph, [named['A>B']], { speed: 10 });
    const late = { ...fixes[5], t: fixes[5].t - 3000 };
    const far = { ...fixes[20], t: fixes[20].t + 1, lat: fixes[20].lat + 500 / 111_320 };
    const bad = { ...fixes[30], t: fixes[30].t + 1, lon: NaN };
    const input = [...fixes.slice(0, 10), late, ...fixes.slice(10, 21), far, ...fixes.slice(21, 31), bad, ...fixes.slice(31)];
    const k = await MapMatchKernel.create({ network });
    const events = [...k.process(batchFromRecords(input)), ...k.flush()];
    expect(k.stats()).toMatchObject({ outOfOrder: 1, skipped: 1 });
    const unmatched = events.filter((e) => e.detect === 'unmatched');
    expect(unmatched).toHaveLength(1);
    expect(unmatched[0].t).toBe(far.t);
    expect(matched(events)).toHaveLength(fixes.length);
    // matched fixes come out in time order, and the match goes on across the far fix
    const times = events.filter((e) => e.detect !== 'traversal').map((e) => e.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(routeOf(events)).toEqual([named['A>B']]);
  });

  it('restarts after a gap too long to bridge, and holds at most `lag` fixes per device', async () => {
    const { network, named } = graphOf([
      { from: 'A', to: 'B', shape: [[0, 0], [300, 0]] },
      { from: 'C', to: 'D', shape: [[0, 300], [300, 300]] },
    ]);
    const a = drive(network.graph, [named['A>B']], { speed: 10 }).fixes;
    const c = drive(network.graph, [named['C>D']], { speed: 10, t0: a[a.length - 1].t + 1000 }).fixes;
    const k = await MapMatchKernel.create({ network, lag: 3 });
    const first = k.process(batchFromRecords([...a, ...c]));
    // at most three fixes wait: a straight road converges at once, so fewer may
    expect(matched(first).length).toBeGreaterThanOrEqual(a.length + c.length - 3);
    const all = [...first, ...k.flush()];
    // no road joins A-B to C-D: two chains, each edge a partial traversal
    expect(all.filter((e) => e.detect === 'traversal').map((e) => [e.edge, e.complete])).toEqual([
      [named['A>B'], false],
      [named['C>D'], false],
    ]);
  });

  it('refuses a graph file that is cut short, with a clear error', async () => {
    const { network } = graphOf([{ from: 'A', to: 'B', shape: [[0, 0], [300, 0]] }]);
    const broken = { graph: { ...network.graph, pointLon: network.graph.pointLon.subarray(0, 1), pointLat: network.graph.pointLat.subarray(0, 1) }, index: network.index };
    await expect(MapMatchKernel.create({ network: broken })).rejects.toThrow(/road graph: (shape points out of range|edge 0 has a bad shape|bad segment index|file cut short)/);
    await expect(MapMatchKernel.create({ network, sigma: -1 })).rejects.toThrow('sigma must be a positive number of metres');
  });
});

describe('map matching on real networks', () => {
  it('recovers the Kubička benchmark track 00000000', async () => {
    const fixes = parseTrace(readFileSync(`${KUBICKA}.track`, 'utf8'), 'kubicka').records;
    const truth = readFileSync(`${KUBICKA}.route`, 'utf8').trim().split('\n').map(Number);
    const route = routeOf(await match({ network: KUBICKA }, fixes));
    const inRoute = new Set(route);
    const inTruth = new Set(truth);
    const recovered = truth.filter((a) => inRoute.has(a)).length / truth.length;
    const precision = route.filter((a) => inTruth.has(a)).length / route.length;
    expect(recovered).toBeGreaterThanOrEqual(0.97);
    expect(precision).toBeGreaterThanOrEqual(0.97);
  });

  describe("Monaco, a simulated fleet scored against the simulator's ground truth", () => {
    let g: RoadGraph;
    beforeAll(async () => {
      ({ graph: g } = await loadNetwork(MONACO));
    });

    for (const sigma of [5, 10]) {
      it(`σ = ${sigma} m (outliers, dropouts and clock jitter on)`, async () => {
        const { fixes, trueEdge } = fleetWithTruth(g, { vehicles: 20, seconds: 300, noise: sigma, seed: sigma });
        const m = matched(await match({ network: MONACO, sigma }, fixes));
        const exact = m.filter((e) => trueEdge(e.deviceId, e.t) === e.edge).length / m.length;
        // on the true edge, or on one that meets it (a fix at a junction, or one held back by the
        // stationary filter, sits on the edge before)
        const near =
          m.filter((e) => {
            const t = trueEdge(e.deviceId, e.t)!;
            return e.edge === t || g.edgeTo[e.edge] === g.edgeFrom[t] || g.edgeFrom[e.edge] === g.edgeTo[t];
          }).length / m.length;
        // measured: σ 5 → 99.9 % matched, 91.8 % on the true edge, 97.6 % on it or next to it;
        // σ 10 → 99.97 %, 80.3 %, 91.3 % (Monaco's edges average 30 m)
        expect(m.length / fixes.length).toBeGreaterThanOrEqual(0.99);
        expect(exact).toBeGreaterThanOrEqual(sigma === 5 ? 0.88 : 0.75);
        expect(near).toBeGreaterThanOrEqual(sigma === 5 ? 0.95 : 0.88);
      });
    }
  });
});
