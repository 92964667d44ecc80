import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { haversine } from '../network/geo.ts';
import { ringCrossing } from '../kernels/ring-crossings.ts';
import { GeoJsonError, readShape, type BBox } from './geojson.ts';
import { FleetIndex } from './fleet-index.ts';

type Car = { id: string; lon: number; lat: number; status: string };

/**
 * a fleet around a place anywhere but near the poles and the antimeridian, spread over up to ~±50 km; on a
 * lattice (binary fractions of an integer degree, exact in doubles) when a test needs points either on a
 * polygon's edge or clearly off it
 */
const fleetArb = (lattice = false) => {
  const place = lattice
    ? fc.record({ lon0: fc.integer({ min: -170, max: 170 }), lat0: fc.integer({ min: -70, max: 70 }), spread: fc.integer({ min: 1, max: 9 }).map((e) => 2 ** -e) })
    : fc.record({ lon0: fc.double({ min: -170, max: 170, noNaN: true }), lat0: fc.double({ min: -70, max: 70, noNaN: true }), spread: fc.double({ min: 0.001, max: 0.5, noNaN: true }) });
  const offset = lattice ? fc.integer({ min: -128, max: 128 }).map((i) => i / 128) : fc.double({ min: -1, max: 1, noNaN: true });
  const car = fc.record({ dx: offset, dy: offset, status: fc.constantFrom('free', 'busy') });
  return fc.record({ place, cell: fc.integer({ min: 20, max: 5000 }), cars: fc.array(car, { maxLength: 300 }) }).map(({ place: { lon0, lat0, spread }, cell, cars }) => ({
    cell,
    lon0,
    lat0,
    spread,
    cars: cars.map((c, i): Car => ({ id: `v${i}`, lon: lon0 + c.dx * spread, lat: lat0 + c.dy * spread, status: c.status })),
  }));
};

function indexOf(cars: Car[], cell: number): FleetIndex {
  const index = new FleetIndex({ cell });
  for (const c of cars) {
    index.position(c.id, { t: 1, lon: c.lon, lat: c.lat });
    index.setFields(c.id, { status: c.status });
  }
  return index;
}

const unit = fc.double({ min: -1.5, max: 1.5, noNaN: true });

describe('FleetIndex against a brute-force oracle (haversine over every vehicle)', () => {
  it('nearby: the k nearest within the radius and with the field, nearest first, at their distances', () => {
    fc.assert(
      fc.property(fleetArb(), unit, unit, fc.integer({ min: 1, max: 20 }), fc.option(fc.double({ min: 1, max: 80_000, noNaN: true })), fc.boolean(), (f, qx, qy, k, radius, free) => {
        const index = indexOf(f.cars, f.cell);
        const q = { lon: f.lon0 + qx * f.spread, lat: f.lat0 + qy * f.spread };
        const oracle = f.cars
          .filter((c) => !free || c.status === 'free')
          .map((c) => ({ id: c.id, d: haversine(q.lon, q.lat, c.lon, c.lat) }))
          .filter((c) => radius === null || c.d <= radius)
          .sort((a, b) => a.d - b.d)
          .slice(0, k);
        const got = index.nearby({ ...q, k, radius: radius ?? undefined, where: free ? { status: 'free' } : undefined });
        // ties (two vehicles at one spot) may come in either order: the distances must match one for one
        expect(got.map((h) => h.distance)).toEqual(oracle.map((o) => o.d));
        for (const h of got) expect(haversine(q.lon, q.lat, h.lon, h.lat)).toBe(h.distance);
        if (free) for (const h of got) expect(h.fields.status).toBe('free');
      }),
      { numRuns: 300 },
    );
  });

  it('within a box: exactly the vehicles inside it', () => {
    fc.assert(
      fc.property(fleetArb(), unit, unit, unit, unit, (f, a, b, c, d) => {
        const index = indexOf(f.cars, f.cell);
        const box: BBox = [f.lon0 + Math.min(a, b) * f.spread, f.lat0 + Math.min(c, d) * f.spread, f.lon0 + Math.max(a, b) * f.spread, f.lat0 + Math.max(c, d) * f.spread];
        const oracle = f.cars.filter((v) => v.lon >= box[0] && v.lon <= box[2] && v.lat >= box[1] && v.lat <= box[3]).map((v) => v.id);
        expect(index.withinBox(box).map((v) => v.deviceId)).toEqual(oracle.sort());
      }),
      { numRuns: 300 },
    );
  });

  it('within a polygon: exactly the vehicles turf puts inside it', () => {
    const vertex = fc.integer({ min: -192, max: 192 }).map((i) => i / 128);
    const anyRing = fc.array(fc.tuple(vertex, vertex), { minLength: 3, maxLength: 8 });
    // star-shaped: vertices in order of their angle around the centre, so the ring seldom crosses itself
    const starRing = fc
      .uniqueArray(fc.integer({ min: 0, max: 63 }), { minLength: 3, maxLength: 8 })
      .chain((angles) => fc.tuple(fc.constant(angles.sort((a, b) => a - b)), fc.array(fc.integer({ min: 8, max: 192 }), { minLength: angles.length, maxLength: angles.length })))
      .map(([angles, radii]) => angles.map((a, i) => [Math.round(radii[i] * Math.cos((a * Math.PI) / 32)) / 128, Math.round(radii[i] * Math.sin((a * Math.PI) / 32)) / 128] as [number, number]));
    fc.assert(
      fc.property(fleetArb(true), fc.oneof(anyRing, starRing), (f, pts) => {
        const index = indexOf(f.cars, f.cell);
        const ring = pts.map(([x, y]) => [f.lon0 + x * f.spread, f.lat0 + y * f.spread]);
        const polygon = { type: 'Polygon' as const, coordinates: [[...ring, ring[0]]] };
        // a ring that crosses itself (most random ones) has no inside to compare: refused, saying so
        if (ringCrossing(polygon.coordinates[0].flat(), 0, ring.length + 1)) return void expect(() => readShape(polygon, true)).toThrow(GeoJsonError);
        const oracle = f.cars.filter((v) => booleanPointInPolygon([v.lon, v.lat], polygon, { ignoreBoundary: true })).map((v) => v.id);
        expect(index.within(readShape(polygon, true)).map((v) => v.deviceId)).toEqual(oracle.sort());
      }),
      { numRuns: 300 },
    );
  });
});

describe('FleetIndex', () => {
  it('takes the newest position, a map-matched point over the fix it snaps, and keeps the matched edge', () => {
    const index = new FleetIndex();
    index.position('a', { t: 1000, lon: 7.42, lat: 43.73, speed: 5, heading: 90 });
    index.position('a', { t: 1000, lon: 7.4201, lat: 43.7301, speed: 5, edge: 12, wayId: 34 });
    expect(index.get('a')).toMatchObject({ lon: 7.4201, lat: 43.7301, matched: true, edge: 12, wayId: 34, heading: 90 });
    index.position('a', { t: 2000, lon: 7.43, lat: 43.74, speed: 6 });
    // an old fix arriving late does not move it back
    index.position('a', { t: 1500, lon: 7.0, lat: 43.0 });
    expect(index.get('a')).toMatchObject({ lon: 7.43, lat: 43.74, t: 2000, matched: false, edge: 12, speed: 6 });
    expect(index.nearby({ lon: 7.43, lat: 43.74, k: 1 })[0].deviceId).toBe('a');
    expect(index.withinBox([6.9, 42.9, 7.1, 43.1])).toEqual([]);
  });

  it('forgets a vehicle not heard from for its TTL, and counts it', () => {
    let now = 0;
    const index = new FleetIndex({ ttl: 10, now: () => now });
    index.position('a', { t: 1, lon: 7.42, lat: 43.73 });
    now = 5000;
    index.position('b', { t: 1, lon: 7.42, lat: 43.73 });
    now = 9000;
    index.position('a', { t: 2, lon: 7.42, lat: 43.73 });
    now = 15_000;
    expect(index.nearby({ lon: 7.42, lat: 43.73, k: 5 }).map((h) => h.deviceId)).toEqual(['a']);
    expect(index.expired).toBe(1);
    now = 19_000;
    expect(index.size).toBe(0);
    expect(index.expired).toBe(2);
  });

  it('holds a vehicle whose clock once ran a year ahead for two late fixes, as the kernels do: the third moves it', () => {
    const index = new FleetIndex();
    const year = 365 * 86_400_000;
    expect(index.position('phone', { t: 1000, lon: 7.42, lat: 43.73 })).toBe(true);
    expect(index.position('phone', { t: 1000 + year, lon: 7.42, lat: 43.73 })).toBe(true);
    const taken = [2000, 3000, 4000, 5000].map((t) => index.position('phone', { t, lon: 7.43, lat: 43.74 }));
    expect(taken).toEqual([false, false, true, true]);
    expect(index.get('phone')).toMatchObject({ t: 5000, lon: 7.43, lat: 43.74 });
    expect(index.nearby({ lon: 7.43, lat: 43.74, k: 1 })[0].deviceId).toBe('phone');
  });

  it('skips a match that lags the fixes without counting it late, and a late fix keeps nothing alive', () => {
    let now = 0;
    const index = new FleetIndex({ ttl: 10, now: () => now });
    index.position('a', { t: 5000, lon: 7.42, lat: 43.73 });
    // a matcher emits three points at once for fixes the index has passed: none moves it back
    expect([1000, 2000, 3000].map((t) => index.position('a', { t, lon: 7.0, lat: 43.0, edge: 1 }))).toEqual([true, true, true]);
    expect(index.get('a')).toMatchObject({ t: 5000, lon: 7.42 });
    now = 9000;
    expect(index.position('a', { t: 4000, lon: 7.0, lat: 43.0 })).toBe(false);
    now = 11_000;
    expect(index.get('a')).toBeUndefined();
  });

  it('keeps the fences a vehicle is in, and user fields a null removes', () => {
    const index = new FleetIndex();
    index.position('a', { t: 1, lon: 7.42, lat: 43.73 });
    index.fence('a', 'Monte-Carlo', true);
    index.fence('a', 'La Condamine', true);
    index.fence('a', 'Monte-Carlo', false);
    expect(index.setFields('a', { status: 'free', driver: 'Ann' })).toBe(true);
    expect(index.setFields('a', { driver: null })).toBe(true);
    expect(index.setFields('nobody', { status: 'free' })).toBe(false);
    expect(index.get('a')).toMatchObject({ fences: ['La Condamine'], fields: { status: 'free' } });
    expect(index.nearby({ lon: 7.42, lat: 43.73, k: 1, where: { status: 'busy' } })).toEqual([]);
  });

  it('compares where with a number or true/false field by its JSON text, and never with an object, array or null field', () => {
    const index = new FleetIndex();
    index.position('a', { t: 1, lon: 7.42, lat: 43.73 });
    index.setFields('a', { seats: 4, ev: true, tags: { night: 1 }, stops: ['x'], gone: undefined, toString: 'me' });
    const ids = (where: Record<string, string>) => index.withinBox([7, 43, 8, 44], where).map((v) => v.deviceId);
    expect(ids({ seats: '4', ev: 'true' })).toEqual(['a']);
    expect(ids({ tags: '[object Object]' })).toEqual([]);
    expect(ids({ stops: 'x' })).toEqual([]);
    expect(ids({ toString: 'me' })).toEqual(['a']);
    // a name every object inherits is no field of the vehicle's
    expect(ids({ valueOf: String(Object.prototype.valueOf) })).toEqual([]);
  });
});
