import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSource, type Source } from '../source/connect-source.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { haversine } from '../network/geo.ts';
import { startServe, type ServeProcess } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { queryFleet, type FleetClient } from './query-client.ts';

/**
 * The query API as its users reach it: a real `geoflux serve` (the compiled command) with a fleet function,
 * fixes written with the SDK over QUIC, and questions asked over HTTP, from the SDK and from the CLI.
 */
setLogLevel('silent');
const run = promisify(execFile);

// 60 vehicles on a 0.002° lattice around the Casino; every third one free (a field written on its fix)
const CENTRE = { lon: 7.4267, lat: 43.7396 };
const cars = Array.from({ length: 60 }, (_, i) => ({
  deviceId: `car-${i}`,
  t: Date.parse('2026-01-01T08:00:00Z'),
  lon: CENTRE.lon + ((i % 8) - 4) * 0.002,
  lat: CENTRE.lat + (Math.floor(i / 8) - 4) * 0.002,
  speed: 8,
  heading: 90,
  status: i % 3 === 0 ? 'free' : 'busy',
}));

let serve: ServeProcess;
let source: Source;
let fleet: FleetClient;

beforeAll(async () => {
  serve = await startServe('query/testdata/fleet.yaml');
  fleet = queryFleet(serve.dashboardUrl!);
  source = await connectSource({ name: 'cars', zipper: serve.url, certHash: serve.certHash });
  source.write('gps', cars);
  expect(await source.flush(20_000)).toBe(true);
  await waitFor(async () => (await fleet.within({ bbox: [-180, -90, 180, 90] })).count === cars.length, { what: 'every car in the index' });
}, 90_000);

afterAll(async () => {
  await source?.close(1000);
  expect(await serve?.stop()).toBe(0);
});

const oracle = (lon: number, lat: number, keep: (c: (typeof cars)[number]) => boolean) =>
  cars
    .filter(keep)
    .map((c) => ({ id: c.deviceId, d: haversine(lon, lat, c.lon, c.lat) }))
    .sort((a, b) => a.d - b.d);

describe('GET /v1/nearby', () => {
  it('answers the k nearest free vehicles, nearest first, each with deviceId, distance and what the fleet knows', async () => {
    const q = { lon: CENTRE.lon + 0.0011, lat: CENTRE.lat - 0.0007 };
    const answer = await fleet.nearby({ ...q, k: 5, where: { status: 'free' } });
    expect(answer.count).toBe(5);
    // to the centimetre
    expect(answer.items.map((h) => h.distance)).toEqual(oracle(q.lon, q.lat, (c) => c.status === 'free').slice(0, 5).map((o) => Math.round(o.d * 100) / 100));
    expect(answer.items[0]).toMatchObject({ deviceId: expect.stringMatching(/^car-/), speed: 8, heading: 90, matched: false, fences: [], fields: { status: 'free' } });
  });

  it('keeps to the radius', async () => {
    const answer = await fleet.nearby({ ...CENTRE, k: 100, radius: 300 });
    expect(answer.items.map((h) => h.deviceId).sort()).toEqual(oracle(CENTRE.lon, CENTRE.lat, () => true).filter((o) => o.d <= 300).map((o) => o.id).sort());
  });

  it('answers 400 with the reason for a bad parameter', async () => {
    const bad = async (query: string) => {
      const res = await fetch(new URL(`v1/nearby?${query}`, serve.dashboardUrl));
      return [res.status, ((await res.json()) as { error: string }).error];
    };
    expect(await bad('lat=43.7')).toEqual([400, 'lon is required (a longitude in [-180, 180])']);
    expect(await bad('lon=7.4&lat=95')).toEqual([400, 'lat must be a latitude in [-90, 90] (got "95")']);
    expect(await bad('lon=7.4&lat=43.7&k=0')).toEqual([400, 'k must be a whole number from 1 to 1000 (got "0")']);
    expect(await bad('lon=7.4&lat=43.7&where=free')).toEqual([400, 'where takes field:value pairs, comma-separated (got "free")']);
    expect(await bad('lon=7.4&lat=43.7&k=5&k=7')).toEqual([400, 'k is given twice (k=5 and k=7): give it once']);
    expect(await bad('lon=7.4&lat=43.7&where=a:b:c')).toEqual([400, 'where takes field:value pairs, one \':\' each (got "a:b:c")']);
    // a misspelt parameter is refused, not answered as if it were not asked
    expect(await bad('lon=7.4&lat=43.7&k=1&radus=10')).toEqual([400, '/v1/nearby takes no radus (did you mean "radius"?) (it takes lon, lat, k, radius, where, output)']);
    expect(await bad('lon=7.4&lat=0x2b')).toEqual([400, 'lat must be a latitude in [-90, 90] (got "0x2b")']);
    const typo = await fetch(new URL('v1/nearbye', serve.dashboardUrl));
    expect(typo.status).toBe(404);
    expect(await typo.text()).toContain('did you mean \\"/v1/nearby\\"');
    // counted at the server, by endpoint and reason (the log line is query-refusals.test.ts's)
    const metrics = parseExposition(await (await fetch(serve.metricsUrl!)).text());
    expect(total(metrics, 'geoflux_query_refused_total', { endpoint: '/v1/nearby', reason: 'bad_param' })).toBe(8);
    expect(total(metrics, 'geoflux_query_refused_total', { endpoint: 'other', reason: 'no_route' })).toBe(1);
  });
});

describe('what an answer holds', () => {
  it('positions to 1e-7° (about a centimetre), not a float’s noise', async () => {
    const res = await fetch(new URL(`v1/within?bbox=${CENTRE.lon - 0.01},${CENTRE.lat - 0.01},${CENTRE.lon + 0.01},${CENTRE.lat + 0.01}`, serve.dashboardUrl));
    const text = await res.text();
    // the lattice's positions are sums like 7.4267 - 4 * 0.002 = 7.418699999999999 as doubles
    expect(cars.some((c) => String(c.lon).length > 12)).toBe(true);
    expect(text).not.toMatch(/"(lon|lat)":-?\d+\.\d{8,}/);
    const byId = new Map(cars.map((c) => [c.deviceId, c]));
    for (const v of (JSON.parse(text) as { items: { deviceId: string; lon: number; lat: number }[] }).items) {
      expect(v.lon).toBeCloseTo(byId.get(v.deviceId)!.lon, 7);
      expect(v.lat).toBeCloseTo(byId.get(v.deviceId)!.lat, 7);
    }
  });
});

describe('output=points', () => {
  it('gives each vehicle as its id and position (and distance), what Redis WITHCOORD and Tile38 POINTS answer; a misspelt output is a 400', async () => {
    const ask = async (q: string) => (await fetch(new URL(`v1/${q}`, serve.dashboardUrl))).json() as Promise<{ items: Record<string, unknown>[]; error?: string }>;
    const near = await ask(`nearby?lon=${CENTRE.lon}&lat=${CENTRE.lat}&k=3&output=points`);
    expect(near.items).toHaveLength(3);
    for (const v of near.items) expect(Object.keys(v).sort()).toEqual(['deviceId', 'distance', 'lat', 'lon']);
    const full = await ask(`nearby?lon=${CENTRE.lon}&lat=${CENTRE.lat}&k=3`);
    expect(near.items).toEqual(full.items.map((v) => ({ deviceId: v.deviceId, lon: v.lon, lat: v.lat, distance: v.distance })));
    const box = await ask(`within?bbox=${CENTRE.lon - 0.003},${CENTRE.lat - 0.003},${CENTRE.lon + 0.003},${CENTRE.lat + 0.003}&output=points`);
    expect(box.items.length).toBeGreaterThan(4);
    for (const v of box.items) expect(Object.keys(v).sort()).toEqual(['deviceId', 'lat', 'lon']);
    expect((await ask(`within?bbox=7,43,8,44&output=pionts`)).error).toBe('output is objects or points (got "pionts") (did you mean "points"?)');
  });
});

describe('within and intersects', () => {
  it('GET /v1/within?bbox= answers the vehicles in the box, by deviceId', async () => {
    const box = [CENTRE.lon - 0.003, CENTRE.lat - 0.003, CENTRE.lon + 0.003, CENTRE.lat + 0.003] as const;
    const inside = cars.filter((c) => c.lon >= box[0] && c.lon <= box[2] && c.lat >= box[1] && c.lat <= box[3]).map((c) => c.deviceId).sort();
    expect(inside.length).toBeGreaterThan(4);
    expect((await fleet.within({ bbox: [...box] })).items.map((v) => v.deviceId)).toEqual(inside);
    const res = await fetch(new URL('v1/within?bbox=7.5,43,7.4,44', serve.dashboardUrl));
    expect([res.status, await res.json()]).toEqual([400, { error: 'bbox runs west,south,east,north: west ≤ east and south ≤ north (got "7.5,43,7.4,44")' }]);
  });

  it('POST /v1/within takes a GeoJSON polygon; /v1/intersects any geometry, boundary included', async () => {
    // a triangle from car-0's position, its diagonal through car-9's and car-18's: those are on its boundary,
    // so they intersect it but are not within it
    const c0 = cars[0];
    const triangle = { type: 'Polygon', coordinates: [[[c0.lon, c0.lat], [c0.lon + 0.0045, c0.lat - 0.0001], [c0.lon + 0.0045, c0.lat + 0.0045], [c0.lon, c0.lat]]] };
    const within = (await fleet.within({ geometry: triangle })).items.map((v) => v.deviceId);
    const touching = (await fleet.intersects({ type: 'Feature', properties: {}, geometry: triangle })).items.map((v) => v.deviceId);
    expect(within).not.toContain('car-0');
    expect(touching).toContain('car-0');
    expect(within.length).toBeGreaterThan(0);
    expect([...touching].sort()).toEqual([...within, 'car-0', 'car-9', 'car-18'].sort());
    const line = await fleet.intersects({ type: 'LineString', coordinates: [[cars[1].lon, cars[1].lat], [cars[2].lon, cars[2].lat]] });
    expect(line.items.map((v) => v.deviceId)).toEqual(['car-1', 'car-2']);
    await expect(fleet.within({ geometry: { type: 'LineString', coordinates: [[0, 0], [1, 1]] } })).rejects.toThrow('400 within takes a Polygon or MultiPolygon (got LineString)');
    const bowTie = { type: 'Polygon', coordinates: [[[7.42, 43.73], [7.43, 43.74], [7.43, 43.73], [7.42, 43.74], [7.42, 43.73]]] };
    await expect(fleet.within({ geometry: bowTie })).rejects.toThrow('400 a polygon ring crosses itself near 7.4250000,43.7350000');
  });

  it('answers 413 to a body past 1 MiB', async () => {
    const huge = { type: 'Polygon', coordinates: [[[7.42, 43.73], [7.43, 43.73], [7.43, 43.74], [7.42, 43.73]]], pad: 'x'.repeat(1 << 20) };
    await expect(fleet.intersects(huge)).rejects.toMatchObject({ status: 413, message: expect.stringContaining('the body is over 1048576 bytes') });
  });
});

describe('POST /v1/fields', () => {
  it('sets a user field a where filter then sees, and answers 404 for a vehicle it does not know', async () => {
    expect(await fleet.setFields('car-1', { status: 'free', driver: 'Ann' })).toMatchObject({ deviceId: 'car-1', fields: { status: 'free', driver: 'Ann' } });
    const free = await fleet.nearby({ lon: cars[1].lon, lat: cars[1].lat, k: 1, where: { driver: 'Ann' } });
    expect(free.items.map((h) => [h.deviceId, h.distance])).toEqual([['car-1', 0]]);
    await expect(fleet.setFields('nobody', { status: 'free' })).rejects.toThrow('404 no vehicle "nobody"');
    // a number matches its text; an object no where at all
    await fleet.setFields('car-2', { seats: 4, route: { stops: 3 } });
    expect((await fleet.nearby({ lon: cars[2].lon, lat: cars[2].lat, k: 1, where: { seats: '4' } })).items.map((h) => h.deviceId)).toEqual(['car-2']);
    expect((await fleet.nearby({ lon: cars[2].lon, lat: cars[2].lat, k: 1, where: { route: '[object Object]' } })).count).toBe(0);
  });
});

describe('geoflux query', () => {
  it('nearby prints one JSON line per vehicle, nearest first', async () => {
    const { stdout, stderr } = await run(process.execPath, ['bin/geoflux.js', 'query', 'nearby', '--lon', String(CENTRE.lon), '--lat', String(CENTRE.lat), '-k', '3', '--url', serve.dashboardUrl!]);
    const ids = stdout.trim().split('\n').map((l) => (JSON.parse(l) as { deviceId: string }).deviceId);
    expect(ids).toEqual(oracle(CENTRE.lon, CENTRE.lat, () => true).slice(0, 3).map((o) => o.id));
    expect(stderr).toBe('3 vehicles\n');
  });

  it('within --bbox, and a bad name or parameter is said', async () => {
    const { stdout } = await run(process.execPath, ['bin/geoflux.js', 'query', 'within', '--bbox', `${cars[0].lon - 1e-6},${cars[0].lat - 1e-6},${cars[0].lon + 1e-6},${cars[0].lat + 1e-6}`, '--url', serve.dashboardUrl!]);
    expect(JSON.parse(stdout).deviceId).toBe('car-0');
    await expect(run(process.execPath, ['bin/geoflux.js', 'query', 'nearbi', '--url', serve.dashboardUrl!])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown query "nearbi" (did you mean "nearby"?)') });
    // not a number: said by the command, not sent on as NaN
    await expect(run(process.execPath, ['bin/geoflux.js', 'query', 'nearby', '--lon', '7.4', '--lat', '43.7', '-k', 'x', '--url', serve.dashboardUrl!])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--k: "x" is not a number'),
    });
    // a number out of range: said by the server
    await expect(run(process.execPath, ['bin/geoflux.js', 'query', 'nearby', '--lon', '7.4', '--lat', '43.7', '-k', '0', '--url', serve.dashboardUrl!])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('/v1/nearby: 400 k must be a whole number from 1 to 1000 (got "0")'),
    });
  });
});
