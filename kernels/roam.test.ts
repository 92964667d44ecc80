import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { driveTo, noisyTrack, type Path } from '../testing/noisy-track.ts';
import { createRoam } from './create-kernel.ts';
import type { RoamEvent, RoamKernel, RoamParams } from './roam.ts';

// two vehicles at 1 Hz, σ 10 m as on a city street, their clocks half a second apart; roam at 50 m
const T0 = Date.UTC(2026, 0, 1);
const SIGMA = 10;
const still =
  (x: number, y = 0): Path =>
  () => [x, y];

/** the fixes of several devices in time order, a batch a second, as a stream brings them */
function stream(...tracks: GpsRecord[][]): GpsRecord[][] {
  const all = tracks.flat().sort((a, b) => a.t - b.t);
  const seconds = new Map<number, GpsRecord[]>();
  for (const f of all) (seconds.get(Math.floor(f.t / 1000)) ?? seconds.set(Math.floor(f.t / 1000), []).get(Math.floor(f.t / 1000))!).push(f);
  return [...seconds.values()];
}

async function roam(batches: GpsRecord[][], params: RoamParams = {}, k?: RoamKernel): Promise<{ events: RoamEvent[]; k: RoamKernel }> {
  k ??= await createRoam({ distance: 50, ...params });
  const events = batches.flatMap((b) => k.process(batchFromRecords(b)));
  return { events, k };
}

const at = (e: RoamEvent) => (Date.parse(e.time) - T0) / 1000;
const summary = (es: RoamEvent[]) => es.map((e) => [e.detect, [e.deviceId, e.other.deviceId].sort().join(' ')]);

// car-2 drives west at 10 m/s from 300 m east of car-1 to 20 m east of it (50 m apart at 25 s), stays 2 minutes,
// then drives back east (50 m apart again at 148 s + 3 s = 151 s)
const approachStayPart: Path = (s) => (s < 148 ? driveTo([300, 0], [20, 0], 10)(s) : driveTo([20, 0], [400, 0], 10, 148)(s));
const pair = () => [noisyTrack('car-1', still(0), { seconds: 200, sigma: SIGMA, seed: 1 }), noisyTrack('car-2', approachStayPart, { seconds: 200, sigma: SIGMA, seed: 2, offset: 500 })];

describe('roam: nearby and faraway, debounced', () => {
  it('reports two devices coming near once, at the time they did, and not again while they stay near', async () => {
    const { events } = await roam(stream(...pair().map((t) => t.slice(0, 140))));
    expect(summary(events)).toEqual([['nearby', 'car-1 car-2']]);
    const [e] = events;
    expect(Math.abs(at(e) - 25)).toBeLessThanOrEqual(3);
    const delay = (Date.parse(e.confirmed) - Date.parse(e.time)) / 1000;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(15);
    expect(e.other.distance).toBeLessThan(50);
  });

  it('reports them parting once, at the time they did', async () => {
    const { events } = await roam(stream(...pair()));
    expect(summary(events)).toEqual([['nearby', 'car-1 car-2'], ['faraway', 'car-1 car-2']]);
    expect(Math.abs(at(events[1]) - 151)).toBeLessThanOrEqual(3);
  });

  it('does not flap for two devices jittering about the distance for five minutes', async () => {
    const jitter = stream(noisyTrack('car-1', still(0), { seconds: 300, sigma: SIGMA, seed: 3 }), noisyTrack('car-2', still(50), { seconds: 300, sigma: SIGMA, seed: 4, offset: 500 }));
    // what the noise does undebounced: flap after flap
    expect((await roam(jitter, { evidence: 0, confirm: 0, hysteresis: 0, smoothing: 1 })).events.length).toBeGreaterThan(50);
    // debounced: in five minutes at most one change of mind, never undone within a minute
    const { events } = await roam(jitter);
    expect(events.length).toBeLessThanOrEqual(2);
    for (let i = 1; i < events.length; i++) expect(Date.parse(events[i].confirmed) - Date.parse(events[i - 1].confirmed)).toBeGreaterThan(60_000);
  });

  it('pairs only group A with group B, or only within A', async () => {
    // three vehicles parked 10 m apart, met by none at first: each pair comes near at its first fixes
    const three = () => stream(...['bus-1', 'taxi-1', 'bus-2'].map((id, i) => noisyTrack(id, still(10 * i), { seconds: 30, sigma: 3, seed: 10 + i, offset: 100 * i })));
    expect(summary((await roam(three())).events).sort()).toEqual([['nearby', 'bus-1 bus-2'], ['nearby', 'bus-1 taxi-1'], ['nearby', 'bus-2 taxi-1']]);
    const across = await roam(three(), { a: 'bus-*', b: 'taxi-?' });
    expect(summary(across.events).sort()).toEqual([['nearby', 'bus-1 taxi-1'], ['nearby', 'bus-2 taxi-1']]);
    expect(summary((await roam(three(), { a: 'bus-*' })).events)).toEqual([['nearby', 'bus-1 bus-2']]);
    // taxi-1 is in neither group: counted, not compared
    expect((await roam(three(), { a: 'bus-*' })).k.stats().ungrouped).toBe(30);
  });

  it('makes no event for an outlier fix thrown next to the other device, by the outlier guard alone', async () => {
    // car-2 parked 150 m east; its fix 30 lands 140 m west of where it should, 10 m from car-1
    const far = noisyTrack('car-2', still(150), { seconds: 60, sigma: 3, seed: 6, offset: 500 });
    far[30] = { ...far[30], lon: noisyTrack('x', still(10), { seconds: 1, sigma: 0 })[0].lon };
    const fixes = stream(noisyTrack('car-1', still(0), { seconds: 60, sigma: 3, seed: 5 }), far);
    const guardOnly = { evidence: 0, confirm: 0, hysteresis: 0, smoothing: 1 };
    const guarded = await roam(fixes, guardOnly);
    expect(guarded.events).toEqual([]);
    expect(guarded.k.stats().outliers).toBe(1);
    // without the guard the same fixes come near and part: the outlier is what the guard caught
    expect(summary((await roam(fixes, { ...guardOnly, maxSpeed: 1e6 })).events).map(([d]) => d)).toEqual(['nearby', 'faraway']);
  });

  it('skips a fix older than the device’s last one (out of order): no event, counted in skipped', async () => {
    // car-2 parked 150 m east; a fix from 40 s before, 10 m from car-1, arrives at 30 s
    const far = noisyTrack('car-2', still(150), { seconds: 60, sigma: 3, seed: 6, offset: 500 });
    far[30] = { ...far[30], t: far[30].t - 40_000, lon: noisyTrack('x', still(10), { seconds: 1, sigma: 0 })[0].lon };
    const fixes = stream(noisyTrack('car-1', still(0), { seconds: 60, sigma: 3, seed: 5 }));
    for (const [i, f] of far.entries()) fixes[Math.min(i, fixes.length - 1)].push(f);
    const { events, k } = await roam(fixes, { evidence: 0, confirm: 0, hysteresis: 0, smoothing: 1, maxSpeed: 1e6 });
    expect(events).toEqual([]);
    expect(k.stats().skipped).toBe(1);
  });

  it('carries a change on probation through snapshot and restore', async () => {
    const batches = stream(...pair().map((t) => t.slice(0, 60)));
    const whole = (await roam(batches)).events;
    expect(summary(whole)).toEqual([['nearby', 'car-1 car-2']]);
    // cut after they came within 50 m, before it was confirmed: the pair on probation
    const cut = batches.findIndex((b) => b[0].t >= T0 + 32_000);
    const first = await roam(batches.slice(0, cut));
    expect(first.events).toEqual([]);
    expect(first.k.stats().pairs).toBe(1);
    const restored = await createRoam({ distance: 50 });
    restored.restore(first.k.snapshot());
    expect((await roam(batches.slice(cut), {}, restored)).events).toEqual(whole);
    // a fresh instance sees them near only from the cut on: the restored one had the probation's start
    const fresh = (await roam(batches.slice(cut))).events;
    expect(at(fresh[0])).toBeGreaterThan(at(whole[0]));
  });
});
