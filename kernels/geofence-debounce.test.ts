import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { offsetBy } from '../network/geo.ts';
import { noisyWalk } from '../testing/noisy-walk.ts';
import { wobblingCrossing } from '../testing/wobbling-crossing.ts';
import { createGeofence, kernelFiles } from './create-kernel.ts';
import type { GeofenceEvent, GeofenceParams } from './geofence.ts';
import { kernelSchema } from './host/kernel-instance.ts';

// a 0.01° square (1.1 km) with its west border on the meridian; vehicles at 1 Hz with σ 10 m, as on a city street
const SQUARE = { type: 'Feature', id: 'square', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]]] } };
const T0 = Date.UTC(2026, 0, 1);
const westOf = (m: number, lat: number): [number, number] => offsetBy(0, lat, -m, 0);

async function events(fixes: GpsRecord[], params: Partial<GeofenceParams> = {}) {
  const k = await createGeofence({ fences: SQUARE, detect: ['enter', 'exit'], ...params });
  // a batch a second, as a stream brings them
  const out = fixes.flatMap((f) => k.process(batchFromRecords([f])));
  return { out, stats: k.stats() as { outliers?: number } };
}

describe('debounced enter and exit (the default)', () => {
  it('makes no event for a vehicle crawling along a border for five minutes', async () => {
    // from 100 m west, onto the border, 1.5 m/s along it, and away west again
    const crawl = noisyWalk([westOf(100, 0.002), [0, 0.002], [0, 0.0045], westOf(100, 0.0045)], { speed: 1.5, sigma: 10, seed: 7 });
    expect(crawl.length).toBeGreaterThan(300);
    const raw = await events(crawl, { debounce: false });
    expect(raw.out.length).toBeGreaterThan(50); // what it does to the raw stream: flap after flap
    expect((await events(crawl)).out).toEqual([]);
  });

  it('reports a real crossing once, at the time of the crossing, confirmed a few seconds later', async () => {
    // east at 10 m/s from 200 m west of the border: truly across at 20 s
    const drive = noisyWalk([westOf(200, 0.005), [0.003, 0.005]], { speed: 10, sigma: 10, seed: 3 });
    const { out } = await events(drive);
    expect(out.map((e) => e.detect)).toEqual(['enter']);
    const [enter] = out;
    expect(Math.abs(Date.parse(enter.time) - (T0 + 20_000))).toBeLessThanOrEqual(2000);
    const delay = Date.parse(enter.confirmed!) - Date.parse(enter.time);
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(10_000);
  });

  it('makes no event for an outlier fix thrown into the fence, by the outlier guard alone', async () => {
    // crawling 60 m west of the border; fix 30 lands 150 m east of where it should, 90 m inside
    const fixes = noisyWalk([westOf(60, 0.005), westOf(60, 0.006)], { speed: 1, sigma: 3, seed: 5 });
    const [lon, lat] = offsetBy(fixes[30].lon, fixes[30].lat, 150, 0);
    fixes[30] = { ...fixes[30], lon, lat };
    const guardOnly = { hysteresis: 0, evidence: 0, confirm: 0 };
    const guarded = await events(fixes, guardOnly);
    expect(guarded.out).toEqual([]);
    expect(guarded.stats.outliers).toBe(1);
    expect((await events(fixes)).out).toEqual([]);
    // without the guard the same fixes enter and exit: the outlier is what the guard caught
    expect((await events(fixes, { ...guardOnly, maxSpeed: 1e6 })).out.map((e) => e.detect)).toEqual(['enter', 'exit']);
  });

  it('dates an enter at the crossing between the last fix outside and the first inside, not at that first fix', async () => {
    // east at 10 m/s, a fix every 5 s, no noise: 20 m out at 20 s, 30 m in at 25 s, so across at 22 s
    const drive = Array.from({ length: 12 }, (_, i) => {
      const [lon, lat] = westOf(220 - 50 * i, 0.005);
      return { deviceId: 'v', t: T0 + 5000 * i, lon, lat };
    });
    expect((await events(drive)).out.map(times)).toEqual([['enter', 22, 35]]);
    expect((await events(drive, { crossing: false })).out.map(times)).toEqual([['enter', 25, 35]]);
  });

  it('keeps each vehicle’s fences its own: one entering puts no other inside (vehicles outside every fence share empty state)', async () => {
    const drive = (v: string, lat: number) => noisyWalk([westOf(200, lat), [0.003, lat]], { speed: 10, sigma: 0 }).map((f) => ({ ...f, deviceId: v }));
    const [a, b] = [drive('a', 0.004), drive('b', 0.006)];
    // b waits outside (its fixes from a minute later) while a enters; then b drives in too
    const fixes = [...a.map((f, i) => [f, { ...b[0], t: f.t }]).flat(), ...b.map((f) => ({ ...f, t: f.t + 60_000 }))];
    expect((await events(fixes)).out.map((e) => `${e.deviceId} ${e.detect}`)).toEqual(['a enter', 'b enter']);
  });

  it('gives today’s raw events with debounce: false', async () => {
    const drive = noisyWalk([westOf(200, 0.005), [0.003, 0.005]], { speed: 10, sigma: 0 });
    const { out } = await events(drive, { debounce: false });
    expect(out.map((e) => [e.detect, Date.parse(e.time) - T0, e.confirmed])).toEqual([['enter', 20_000, undefined]]);
  });

  it('with confirmRun: false, a fix falling back across the boundary within the noise does not restart the wait', async () => {
    const seen = async (params: Partial<GeofenceParams>) => (await events(wobblingIn(), params)).out.map(times);
    const mechanics = { hysteresis: 0, confirm: 8 };
    // by the run, the wait starts again at every fix outside: no run of 8 s ever holds
    expect(await seen({ ...mechanics, confirmRun: true })).toEqual([]);
    // by the probation, the evidence (6 + 6 − 2 m every three fixes) never falls to 0: confirmed 8 s after the
    // first fix inside (10 s), dated at the crossing between it and the fix before (6 m out at 9 s, 6 m in at 10 s)
    expect(await seen({ ...mechanics, confirmRun: false })).toEqual([['enter', 9.5, 18]]);
  });
});

describe('the defaults: what `npm run bench -- events` picks for raw gps (issue 21)', () => {
  it('declares confirmRun false, crossing true, hysteresis 3 m, evidence 20 m, confirm 9 s (what --describe and every workflow get)', async () => {
    const { setup } = await kernelFiles('geofence', { fences: SQUARE });
    const defaults = Object.fromEntries(kernelSchema(setup.module, setup).params.map((p) => [p.name, p.default]));
    expect(defaults).toMatchObject({ debounce: true, confirmRun: false, crossing: true, hysteresis: 3, evidence: 20, confirm: 9, accuracy: 0, maxSpeed: 60 });
  });

  it('enter a vehicle whose fixes the noise puts back across the boundary now and then, 9 s after the crossing', async () => {
    // 10 m inside: past the 3 m band, 7 + 7 − 5 m every three fixes never falls to 0, so the wait holds from the
    // crossing (dated between 6 m out at 9 s and 10 m in at 10 s); the defaults before (the wait counted by the
    // run, 8 s) never entered it
    expect((await events(wobblingIn(10))).out.map(times)).toEqual([['enter', 9.375, 19]]);
  });
});

/** across the border (the square's west side) at 10 s, then along it `inside` m past it, every third fix 2 m back */
const wobblingIn = (inside = 6) => wobblingCrossing([0, 0.005], inside, T0);

/** an event as what it is, its time and when it was confirmed, in seconds from the start */
const times = (e: GeofenceEvent) => [e.detect, (Date.parse(e.time) - T0) / 1000, (Date.parse(e.confirmed!) - T0) / 1000];
