import { createGeofence } from './create-kernel.ts';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { parseTrace } from '../simulators/replay/trace-formats.ts';
import { FenceError } from './fence-compiler.ts';
import type { Detect } from './geofence.ts';

const SEATTLE_FENCES = '../shared/data/fences/seattle-neighborhoods.geojson';
const SEATTLE_TRACE = '../shared/data/traces/seattle-newson-krumm-gps.txt';

// a 0.1° square with a 0.02° square hole, a two-part multipolygon, and a 1 km circle
const square = (x: number, y: number, s: number) => [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]];
const FIXTURE = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', id: 'park', properties: { name: 'Park' }, geometry: { type: 'Polygon', coordinates: [square(0, 0, 0.1), square(0.04, 0.04, 0.02)] } },
    { type: 'Feature', properties: { id: 'depots', name: 'Depots' }, geometry: { type: 'MultiPolygon', coordinates: [[square(1, 0, 0.01)], [square(1, 1, 0.01)]] } },
    { type: 'Feature', properties: { name: 'Stadium', radius: 1000 }, geometry: { type: 'Point', coordinates: [2, 0] } },
  ],
};
const fix = (t: number, lon: number, lat: number, deviceId = 'bus-1'): GpsRecord => ({ deviceId, t: t * 1000, lon, lat });
const run = async (records: GpsRecord[], detect?: Detect[], dwell?: number) => {
  const k = await createGeofence({ fences: FIXTURE, detect, dwell, debounce: false });
  return { k, events: k.process(batchFromRecords(records)).map((e) => `${e.time.slice(17, 19)} ${e.deviceId} ${e.detect} ${e.fence.id}`) };
};

describe('geofence kernel', () => {
  it('agrees with Turf booleanPointInPolygon on every Seattle fix × every Seattle neighbourhood', async () => {
    const geojson = JSON.parse(readFileSync(SEATTLE_FENCES, 'utf8'));
    const fixes = parseTrace(readFileSync(SEATTLE_TRACE, 'utf8')).records;
    const k = await createGeofence({ fences: SEATTLE_FENCES }, { contains: true });
    const ours = k.contains(batchFromRecords(fixes));
    let inside = 0;
    fixes.forEach((f, i) => {
      const turf = geojson.features.flatMap((feat: object, j: number) => (booleanPointInPolygon([f.lon, f.lat], feat as never) ? [j] : []));
      expect(ours[i]).toEqual(turf);
      inside += turf.length;
    });
    expect(fixes.length * geojson.features.length).toBe(7531 * 90);
    expect(inside).toBeGreaterThan(1000); // the drive does cross Seattle
  });

  it('enters and exits a polygon, and treats its hole as outside', async () => {
    const { events } = await run([fix(0, -0.05, 0.05), fix(1, 0.01, 0.05), fix(2, 0.05, 0.05), fix(3, 0.08, 0.05), fix(4, 0.2, 0.05)]);
    expect(events).toEqual(['01 bus-1 enter park', '02 bus-1 exit park', '03 bus-1 enter park', '04 bus-1 exit park']);
  });

  it('counts a point on an edge as inside, the edge of a hole too (as Turf does)', async () => {
    const { events } = await run([fix(0, 0.1, 0.05), fix(1, 0.04, 0.05), fix(2, 0.05, 0.05)], ['enter', 'exit', 'inside']);
    expect(events).toEqual(['00 bus-1 enter park', '01 bus-1 inside park', '02 bus-1 exit park']);
  });

  it('treats a multipolygon as one fence and a Point with a radius as a circle', async () => {
    const { events } = await run([fix(0, 1.005, 0.005), fix(1, 1.005, 1.005), fix(2, 2.005, 0), fix(3, 2.02, 0)], ['enter', 'exit', 'inside']);
    expect(events).toEqual([
      '00 bus-1 enter depots',
      '01 bus-1 inside depots',
      '02 bus-1 exit depots',
      '02 bus-1 enter Stadium',
      '03 bus-1 exit Stadium',
    ]);
  });

  it('reports a crossing when two fixes straddle a fence with neither inside it', async () => {
    const { events } = await run([fix(0, -0.05, 0.01), fix(1, 0.2, 0.01), fix(2, 1.97, -0.02), fix(3, 2.03, 0.02)]);
    expect(events).toEqual(['01 bus-1 cross park', '03 bus-1 cross Stadium']);
  });

  it('fires dwell once per visit, after the dwell time', async () => {
    const inside = (t: number) => fix(t, 0.01, 0.01);
    const { events } = await run([inside(0), inside(30), inside(61), inside(90), fix(100, 0.5, 0.5), inside(110), inside(200)], ['enter', 'exit', 'dwell'], 60);
    expect(events).toEqual(['00 bus-1 enter park', '01 bus-1 dwell park', '40 bus-1 exit park', '50 bus-1 enter park', '20 bus-1 dwell park']);
  });

  it('keeps state per device across batches, and reports outside only when asked', async () => {
    const k = await createGeofence({ fences: FIXTURE, detect: ['enter', 'outside'], debounce: false });
    const first = k.process(batchFromRecords([fix(0, 0.01, 0.01, 'a'), fix(0, 5, 5, 'b')]));
    const second = k.process(batchFromRecords([fix(1, 0.01, 0.01, 'a')]));
    expect(first.map((e) => `${e.deviceId} ${e.detect} ${e.fence.id}`)).toEqual([
      'a enter park', 'a outside depots', 'a outside Stadium', 'b outside park', 'b outside depots', 'b outside Stadium',
    ]);
    expect(second.map((e) => `${e.deviceId} ${e.detect} ${e.fence.id}`)).toEqual(['a outside depots', 'a outside Stadium']);
    expect(k.stats().devices).toBe(2);
  });

  it('writes Tile38-style event JSON', async () => {
    const k = await createGeofence({ fences: FIXTURE, debounce: false });
    expect(k.process(batchFromRecords([fix(0, 0.01, 0.02)]))[0]).toEqual({
      kind: 'geofence', detect: 'enter', fence: { id: 'park', name: 'Park' }, deviceId: 'bus-1', time: '1970-01-01T00:00:00.000Z', point: [0.01, 0.02],
    });
  });

  it('lists the fences a fix is in in fence order where they overlap (the grid cell holds them in that order)', async () => {
    const nested = { type: 'FeatureCollection', features: [0.3, 0.2, 0.1].map((s, i) => ({ type: 'Feature', id: `f${i}`, properties: {}, geometry: { type: 'Polygon', coordinates: [square(0, 0, s)] } })) };
    const k = await createGeofence({ fences: nested, debounce: false, detect: ['enter'] });
    const e = k.process(batchFromRecords([fix(0, 0.05, 0.05)]));
    expect(e.map((x) => x.fence.id)).toEqual(['f0', 'f1', 'f2']);
    const c = await createGeofence({ fences: nested }, { contains: true });
    expect(c.contains(batchFromRecords([fix(0, 0.05, 0.05)]))).toEqual([[0, 1, 2]]);
  });

  it('counts and skips fixes with bad coordinates', async () => {
    const { k, events } = await run([fix(0, NaN, 0), fix(1, 0.01, 95), fix(2, 0.01, 0.01)]);
    expect(events).toEqual(['02 bus-1 enter park']);
    expect(k.stats().skipped).toBe(2);
  });

  it('skips a fix older than the device’s last one (out of order), raw and debounced: no event, counted in skipped', async () => {
    // bus-1 inside from 0 s; a fix from -60 s (outside) arrives late, after its 1 s fix
    const late = [fix(0, 0.01, 0.01), fix(1, 0.01, 0.01), fix(-60, 0.5, 0.5), fix(2, 0.01, 0.01)];
    const raw = await run(late);
    expect(raw.events).toEqual(['00 bus-1 enter park']);
    expect(raw.k.stats().skipped).toBe(1);
    const debounced = await createGeofence({ fences: FIXTURE, detect: ['enter', 'exit'], confirm: 0, hysteresis: 0, evidence: 0 });
    expect(debounced.process(batchFromRecords(late)).map((e) => `${e.detect} ${e.fence.id}`)).toEqual(['enter park']);
    expect(debounced.stats().skipped).toBe(1);
  });

  it('takes a device’s fixes again after two older than one dated far ahead (its clock put right), not never', async () => {
    // bus-1's second fix is dated a year ahead; its next ones are right, so older than that one
    const { k, events } = await run([fix(0, 0.01, 0.01), fix(365 * 86_400, 0.01, 0.01), fix(2, 0.5, 0.5), fix(3, 0.5, 0.5), fix(4, 0.5, 0.5)], ['enter', 'exit']);
    expect(events).toEqual(['00 bus-1 enter park', '04 bus-1 exit park']);
    expect(k.stats().skipped).toBe(2);
  });

  it('loses only the fix whose time no date can hold, not the call (it used to throw Invalid time value)', async () => {
    const { k, events } = await run([fix(0, 0.01, 0.01), { ...fix(1, 0.01, 0.01, 'bus-2'), t: 9e15 }, { ...fix(2, 0.01, 0.01, 'bus-3'), t: -1e20 }, fix(3, 0.01, 0.01, 'bus-4')]);
    expect(events).toEqual(['00 bus-1 enter park', '03 bus-4 enter park']);
    expect(k.stats().badTimes).toBe(2);
  });

  it('fails init on an invalid fence file with the feature and the reason', async () => {
    const broken = { type: 'FeatureCollection', features: [FIXTURE.features[0], { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1]]] } }] };
    await expect(createGeofence({ fences: broken })).rejects.toThrow(new FenceError('fences: feature 1: a polygon ring needs at least 4 positions'));
    const line = { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [[0, 0], [1, 1]] } };
    await expect(createGeofence({ fences: line })).rejects.toThrow('feature 0: unsupported geometry "LineString"');
    await expect(createGeofence({ fences: 'nope.geojson' })).rejects.toThrow(/nope.geojson: no such file/);
    // an OSM PBF is read as a stream: a missing one is an error here too, not an unhandled 'error' event
    await expect(createGeofence({ fences: 'nope.osm.pbf' })).rejects.toThrow(/nope.osm.pbf: no such file/);
  });

  it('names a truncated OSM PBF of fences once', async () => {
    const trunc = join(mkdtempSync(join(tmpdir(), 'geoflux-trunc-')), 'trunc.pbf');
    writeFileSync(trunc, readFileSync('../shared/data/osm/monaco.osm.pbf').subarray(0, 20_000));
    await expect(createGeofence({ fences: trunc })).rejects.toThrow(new FenceError(`${trunc}: not a readable OSM PBF (input format error)`));
  });

  it('hands its per-device state to another instance: the pair reports what one would have', async () => {
    const trip = [fix(0, -0.05, 0.05), fix(1, 0.01, 0.05), fix(2, 0.02, 0.05), fix(70, 0.03, 0.05), fix(80, 0.5, 0.5)];
    const { events: whole } = await run(trip, ['enter', 'exit', 'dwell'], 60);
    const first = await createGeofence({ fences: FIXTURE, detect: ['enter', 'exit', 'dwell'], dwell: 60, debounce: false });
    const second = await createGeofence({ fences: FIXTURE, detect: ['enter', 'exit', 'dwell'], dwell: 60, debounce: false });
    const a = first.process(batchFromRecords(trip.slice(0, 3)));
    second.restore(first.snapshot());
    const b = second.process(batchFromRecords(trip.slice(3)));
    expect([...a, ...b].map((e) => `${e.time.slice(17, 19)} ${e.deviceId} ${e.detect} ${e.fence.id}`)).toEqual(whole);
    expect(() => second.restore({ state: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0]), devices: [] })).toThrow('not a geofence snapshot: it ends early or goes on past its devices');
  });
});

describe('fences that are likely not what was meant', () => {
  it('warns, naming the feature and where, about a ring that crosses itself (a bow tie), and still compiles it', async () => {
    const bowTie = { type: 'Feature', properties: { name: 'Bow tie' }, geometry: { type: 'Polygon', coordinates: [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]] } };
    const fine = { type: 'Feature', properties: { name: 'Square' }, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] } };
    const k = await createGeofence({ fences: { type: 'FeatureCollection', features: [fine, bowTie] } }, { log: { warn: () => {} } as never });
    expect(k.warnings).toEqual(['fences: feature 1 ("Bow tie"): a ring crosses itself near 1.000000,1.000000; inside and outside there follow the even-odd rule']);
    expect(k.fences.length).toBe(2);
  });

  it('finds no crossing in real boundaries that have none: Seattle’s neighbourhoods', async () => {
    const k = await createGeofence({ fences: SEATTLE_FENCES });
    expect(k.warnings).toEqual([]);
  });
});
