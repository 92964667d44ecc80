import { describe, expect, it, beforeAll } from 'vitest';
import { adjacency } from '../../network/adjacency.ts';
import { loadNetwork } from '../../network/load-network.ts';
import { bboxOf, type RoadGraph } from '../../network/road-graph.ts';
import { parseTrace } from '../replay/trace-formats.ts';
import { CSV_HEADER, fixLine } from './fix-lines.ts';
import { parseIncident } from './incidents.ts';
import { parseScenario } from './scenario.ts';
import { TrafficSim, type Fleet, type SimStep, type TrafficOptions } from './traffic-sim.ts';
import { M_PER_DEG, metresFrom } from '../../network/geo.ts';

const START = Date.UTC(2026, 0, 1, 8);
let g: RoadGraph;

beforeAll(async () => {
  g = (await loadNetwork('../shared/data/osm/monaco.osm.pbf')).graph;
});

const fleet = (vehicles: number, gps: Fleet['gps'] = {}): Fleet[] => [{ name: 'veh', vehicles, gps }];
function run(opts: Partial<TrafficOptions> & { fleets: Fleet[] }, seconds: number): SimStep[] {
  const sim = new TrafficSim(g, { seed: 1, start: START, truth: true, ...opts });
  return Array.from({ length: seconds }, () => sim.step());
}
const all = <K extends 'fixes' | 'truth'>(steps: SimStep[], k: K) => steps.flatMap((s) => s[k]) as SimStep[K];

describe('traffic simulator', () => {
  it('is deterministic: the same seed and start give the same fixes, another seed others', () => {
    const a = all(run({ fleets: fleet(50) }, 120), 'fixes');
    const b = all(run({ fleets: fleet(50) }, 120), 'fixes');
    const c = all(run({ fleets: fleet(50), seed: 2 }, 120), 'fixes');
    expect(a.length).toBeGreaterThan(5000);
    expect(b).toEqual(a);
    expect(c.slice(0, 50)).not.toEqual(a.slice(0, 50));
  });

  it('keeps every vehicle on the network: true positions inside its bbox, fixes within noise and outliers of it', () => {
    const steps = run({ fleets: fleet(200, { outlierRate: 0.01 }) }, 300);
    const [w, s, e, n] = bboxOf(g);
    for (const t of all(steps, 'truth')) expect(t.lon >= w && t.lon <= e && t.lat >= s && t.lat <= n, `${t.deviceId} at ${t.lon},${t.lat}`).toBe(true);
    const pad = (6 * 5 + 200) / M_PER_DEG; // 6σ of noise plus the largest outlier
    for (const f of all(steps, 'fixes')) expect(f.lon >= w - 2 * pad && f.lon <= e + 2 * pad && f.lat >= s - pad && f.lat <= n + pad).toBe(true);
  });

  it.each([5, 10])('adds Gaussian noise of σ = %i m: mean ≈ 0, standard deviation within 10 %%', (sigma) => {
    const steps = run({ fleets: fleet(100, { noise: sigma, outlierRate: 0 }) }, 200);
    const fixes = all(steps, 'fixes');
    const truth = all(steps, 'truth');
    const dx: number[] = [];
    const dy: number[] = [];
    fixes.forEach((f, i) => {
      const [x, y] = metresFrom(truth[i].lon, truth[i].lat, f.lon, f.lat);
      dx.push(x);
      dy.push(y);
    });
    for (const d of [dx, dy]) {
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
      expect(Math.abs(mean)).toBeLessThan(0.05 * sigma);
      expect(Math.abs(std / sigma - 1)).toBeLessThan(0.1);
    }
  });

  it('drives connected roads: each true edge follows the last one in the graph', () => {
    const out = adjacency(g, 'out');
    // the edges reachable from edge a within `budget` metres of intermediate road (short edges pass in under a second)
    const reaches = (a: number, b: number, budget: number): boolean => {
      const n = g.edgeTo[a];
      for (let j = out.start[n]; j < out.start[n + 1]; j++) {
        const e = out.edges[j];
        if (e === b || (g.edgeLength[e] < budget && reaches(e, b, budget - g.edgeLength[e]))) return true;
      }
      return false;
    };
    const truth = all(run({ fleets: fleet(100, { dropoutRate: 0 }) }, 300), 'truth');
    const last = new Map<string, number>();
    let hops = 0;
    for (const t of truth) {
      const prev = last.get(t.deviceId);
      if (prev !== undefined && prev !== t.edge) {
        expect(reaches(prev, t.edge, 60), `${t.deviceId}: edge ${prev} → ${t.edge}`).toBe(true);
        hops++;
      }
      last.set(t.deviceId, t.edge);
    }
    expect(hops).toBeGreaterThan(1000);
  });

  it("keeps each device's timestamps in order despite clock jitter, and drops fixes in dropouts", () => {
    const fixes = all(run({ fleets: fleet(100, { clockJitter: 0.2, clockOffset: 2, dropoutRate: 0.01 }) }, 300), 'fixes');
    const last = new Map<string, number>();
    let gaps = 0;
    for (const f of fixes) {
      const prev = last.get(f.deviceId);
      if (prev !== undefined) {
        expect(f.t).toBeGreaterThan(prev);
        if (f.t - prev > 4000) gaps++;
      }
      last.set(f.deviceId, f.t);
    }
    expect(fixes.length).toBeLessThan(100 * 300 * 0.95);
    expect(gaps).toBeGreaterThan(50);
  });

  it('slows vehicles inside an incident, and only while it lasts', () => {
    const incident = parseIncident('7.4260,43.7398,250,120,600,0.8');
    const inside = (steps: SimStep[], from: number, to: number) =>
      all(steps, 'truth').filter((t) => {
        const s = (t.t - START) / 1000;
        const [dx, dy] = metresFrom(incident.lon, incident.lat, t.lon, t.lat);
        return s >= from && s < to && dx * dx + dy * dy < incident.radius ** 2;
      });
    const mean = (xs: { speed: number }[]) => xs.reduce((a, t) => a + t.speed, 0) / xs.length;
    const calm = run({ fleets: fleet(400) }, 720);
    const jam = run({ fleets: fleet(400), incidents: [incident] }, 720);
    // from a minute in, vehicles inside have braked; before the incident starts both runs are the same
    const during = [inside(calm, 180, 720), inside(jam, 180, 720)];
    expect(during[1].length).toBeGreaterThan(200);
    expect(mean(during[1])).toBeLessThan(0.35 * mean(during[0]));
    expect(inside(jam, 0, 120)).toEqual(inside(calm, 0, 120));
  });

  it('writes CSV that the trace reader reads back, record for record', () => {
    const fixes = all(run({ fleets: fleet(10) }, 60), 'fixes');
    const trace = parseTrace([CSV_HEADER, ...fixes.map((f) => fixLine(f, 'csv'))].join('\n'));
    expect(trace).toMatchObject({ format: 'csv', bad: 0 });
    expect(trace.records.length).toBe(fixes.length);
    expect(trace.records[7]).toMatchObject({ deviceId: fixes[7].deviceId, t: fixes[7].t });
    expect(trace.records[7].lon).toBeCloseTo(fixes[7].lon, 6);
  });
});

describe('scenario files and incidents', () => {
  it('combines fleets and incidents', () => {
    const s = parseScenario(
      [
        'network: ../osm/monaco.osm.pbf',
        'seed: 7',
        'start: 2026-01-01T08:00:00Z',
        'fleets:',
        '  - { name: car, vehicles: 30 }',
        '  - { name: bus, vehicles: 4, speedFactor: 0.8, interval: 5, noise: 10 }',
        'incidents:',
        '  - "7.4236,43.7376,150,60,1800,0.8"',
        '  - { lon: 7.41, lat: 43.73, radius: 100, duration: 600, slowdown: 0.5 }',
      ].join('\n'),
      '/data/scenarios/rush.yaml',
    );
    expect(s).toMatchObject({ network: '/data/osm/monaco.osm.pbf', seed: 7, start: START });
    expect(s.fleets.map((f) => [f.name, f.vehicles, f.gps?.interval, f.gps?.noise])).toEqual([['car', 30, 1, 5], ['bus', 4, 5, 10]]);
    expect(s.incidents[1]).toEqual({ lon: 7.41, lat: 43.73, radius: 100, start: 0, duration: 600, slowdown: 0.5 });
    const sim = new TrafficSim(g, { fleets: s.fleets, seed: 7, start: START });
    expect(sim.vehicles.map((v) => v.id).filter((id) => id.startsWith('bus-'))).toEqual(['bus-001', 'bus-002', 'bus-003', 'bus-004']);
  });

  it.each([
    ['fleets:\n  - { name: car, vehicles: 0 }\n', 'f.yaml:2:28 fleets[0].vehicles: Too small: expected number to be >=1'],
    ['fleets:\n  - { name: car, vehicles: 3, nois: 5 }\n', 'f.yaml:2:5 fleets[0]: Unrecognized key: "nois"'],
    ['fleets:\n  - { name: car, vehicles: 3 }\nincidents:\n  - "7.4,43.7,100,0,60"\n', 'f.yaml:4:5 incidents[0]: incident "7.4,43.7,100,0,60": expected lon,lat,radius_m,start,duration,slowdown (6 numbers), got 5'],
    ['fleets:\n  - { name: car, vehicles: 3, dropoutSeconds: [9, 2] }\n', 'f.yaml:2:5 fleets[0]: fleet "car": dropoutSeconds must be [min, max] seconds with 0 ≤ min ≤ max (got [9,2])'],
  ])('reports a bad scenario by file, line and field: %j', (text, message) => {
    expect(() => parseScenario(text, 'f.yaml')).toThrow(message);
  });

  it('rejects incidents that say nothing sensible', () => {
    expect(() => parseIncident('7.4,43.7,100,0,60,1.5')).toThrow(/slowdown is the share of speed lost, between 0 and 1/);
    expect(() => parseIncident('7.4,43.7,abc,0,60,0.5')).toThrow(/radius_m "abc" is not a number/);
  });
});
