import { createHotspot } from './create-kernel.ts';
import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { KernelError, KernelParamError } from './host/kernel-error.ts';
import { offsetBy } from '../network/geo.ts';

// PySAL esda's G_Local docstring (binary distance band 15), as quoted in ../shared/data/README.md
const POINTS: [number, number][] = [[10, 10], [20, 10], [40, 10], [15, 20], [30, 20], [30, 30]];
const Y = [2, 3, 3.2, 5, 8, 7];
const GI_STAR = [-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331];
const GI = [-1.0136729, -0.04361589, 1.31558703, -0.31412676, 1.15373986, 1.77833941];

const LON0 = 7.42;
const LAT0 = 43.73;
/** a fix in the middle of grid cell (cx, cy) of `size` metres around (LON0, LAT0) */
const at = (cx: number, cy: number, t: number, size = 100): GpsRecord => {
  const [lon, lat] = offsetBy(LON0, LAT0, (cx + 0.5) * size, (cy + 0.5) * size);
  return { deviceId: `v${cx}:${cy}`, t, lon, lat };
};
/** 40 fixes spread over the grid, and 30 in two cells side by side: the cluster Gi* finds against them */
const background = (t: number) => Array.from({ length: 40 }, (_, i) => at((i * 5) % 16 - 8, Math.floor(i / 3) % 16 - 8, t));
const cluster = (t: number) => Array.from({ length: 30 }, (_, i) => at(2 + (i % 2), 3, t));
const grid = { cellSize: 100, band: 100, gridWidth: 16, gridHeight: 16, originLon: LON0, originLat: LAT0, window: 60, slide: 30, minCount: 3 };

describe('hotspot kernel', () => {
  it('reproduces esda G_Local z-scores for Gi* and Gi to 1e-6', async () => {
    const k = await createHotspot();
    k.giPoints(POINTS, Y, 15, true).forEach((z, i) => expect(z).toBeCloseTo(GI_STAR[i], 6));
    k.giPoints(POINTS, Y, 15, false).forEach((z, i) => expect(z).toBeCloseTo(GI[i], 6));
  });

  it('scores the grid with summed-area sums equal to the brute-force neighbourhood sums', async () => {
    const k = await createHotspot({ ...grid, zThreshold: -100, minCount: 1, band: 200 });
    const counts = new Map<string, number>();
    const fixes: GpsRecord[] = [];
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 400; i++) {
      const cx = Math.floor(rand() * 6) - 3 + (rand() < 0.5 ? 0 : 4);
      const cy = Math.floor(rand() * 6) - 3;
      fixes.push(at(cx, cy, 1000));
      counts.set(`${cx}:${cy}`, (counts.get(`${cx}:${cy}`) ?? 0) + 1);
    }
    k.process(batchFromRecords(fixes));
    const events = k.flush();
    // reference: Gi* over the 16×16 lattice, square band of 2 cells, computed here the slow way
    const n = 256;
    const val = (x: number, y: number) => counts.get(`${x}:${y}`) ?? 0;
    let sum = 0;
    let sumSq = 0;
    for (let y = -8; y < 8; y++) for (let x = -8; x < 8; x++) (sum += val(x, y)), (sumSq += val(x, y) ** 2);
    expect(events.length).toBe(counts.size);
    for (const e of events) {
      const [, xs, ys] = e.cell.id.split(':');
      const cx = Number(xs);
      const cy = Number(ys);
      let lag = 0;
      let card = 0;
      for (let y = Math.max(-8, cy - 2); y <= Math.min(7, cy + 2); y++)
        for (let x = Math.max(-8, cx - 2); x <= Math.min(7, cx + 2); x++) (lag += val(x, y)), card++;
      const mean = sum / n;
      const variance = sumSq / n - mean * mean;
      const v = ((card * (n - card)) / (n - 1) / (n * n)) * (variance / (mean * mean));
      expect(e.z).toBeCloseTo((lag / sum - card / n) / Math.sqrt(v), 9);
      expect(e.count).toBe(val(cx, cy));
    }
  });

  // the same minutes ten minutes before 1970 too: a clock that is off gives negative times, and slides
  it.each([0, -600_000])('finds a cluster when its slide closes, and reports it cooled once the window has passed it (times from %i ms)', async (o) => {
    const k = await createHotspot(grid);
    // slide 0 (0–30 s): background + a cluster; nothing is reported until the slide closes
    expect(k.process(batchFromRecords([...background(o + 1_000), ...cluster(o + 2_000)]))).toEqual([]);
    // a fix at 31 s closes slide 0: the cluster's cells are hot
    const hot = k.process(batchFromRecords(background(o + 31_000)));
    expect(hot.length).toBeGreaterThan(0);
    expect(hot.every((e) => e.detect === 'hot' && e.z >= 2.58 && e.count >= 3)).toBe(true);
    expect(new Set(hot.map((e) => e.cell.id))).toEqual(new Set(['100m:2:3', '100m:3:3']));
    expect(hot[0].window).toEqual({ start: new Date(o + 30_000 - 60_000).toISOString(), end: new Date(o + 30_000).toISOString() });
    // 61 s closes slide 1: the window (0–60 s) still holds the cluster
    expect(k.process(batchFromRecords(background(o + 61_000))).filter((e) => e.detect === 'hot').length).toBe(hot.length);
    // 91 s closes slide 2: the window (30–90 s) no longer holds it, so its cells cool, once
    const later = k.process(batchFromRecords(background(o + 91_000)));
    expect(later.filter((e) => e.detect === 'cooled').map((e) => e.cell.id).sort()).toEqual(['100m:2:3', '100m:3:3']);
    expect(k.process(batchFromRecords(background(o + 121_000))).filter((e) => e.detect === 'cooled')).toEqual([]);
  });

  it('dates the window a flush scores from its oldest slide to its last fix, not to the end of the slide no fix has reached', async () => {
    const k = await createHotspot(grid);
    // slide 1 (30–60 s): the background and a cluster, the last fix at 44 s, then the end of input (serve's stop)
    expect(k.process(batchFromRecords([...background(31_000), ...cluster(40_000), ...background(44_000)]))).toEqual([]);
    const window = { start: '1970-01-01T00:00:00.000Z', end: '1970-01-01T00:00:44.000Z' };
    expect(k.flush().map((e) => ({ detect: e.detect, cell: e.cell.id, count: e.count, window: e.window }))).toEqual([
      // the cluster's 15 there, and one of each background's
      { detect: 'hot', cell: '100m:2:3', count: 17, window },
      { detect: 'hot', cell: '100m:3:3', count: 15, window },
    ]);
    // nothing binned since: a second flush has nothing to say
    expect(k.flush()).toEqual([]);
    // a fix off the grid at 50 s shows the stream got that far: the window ends there
    const off = await createHotspot(grid);
    off.process(batchFromRecords([...background(31_000), ...cluster(40_000), at(100, 100, 50_000)]));
    expect(off.flush().map((e) => e.window.end)).toEqual(['1970-01-01T00:00:50.000Z', '1970-01-01T00:00:50.000Z']);
  });

  it('restores a snapshot taken before the last fix’s time was kept: its flush dates the window by the slide’s end, as then', async () => {
    const k = await createHotspot(grid);
    k.process(batchFromRecords([...background(31_000), ...cluster(40_000), ...background(44_000)]));
    const { state, devices } = k.snapshot();
    // the earlier format: the same, without the time at its end
    const earlier = await createHotspot(grid);
    earlier.restore({ state: state.subarray(0, state.length - 8), devices });
    expect(earlier.flush().map((e) => e.window.end)).toEqual(['1970-01-01T00:01:00.000Z', '1970-01-01T00:01:00.000Z']);
    const now = await createHotspot(grid);
    now.restore({ state, devices });
    expect(now.flush().map((e) => e.window.end)).toEqual(['1970-01-01T00:00:44.000Z', '1970-01-01T00:00:44.000Z']);
  });

  it('dates a window that is no whole number of slides by the slides it holds', async () => {
    // window 45 s of 30 s slides: two slides are kept, so the window scored spans 60 s
    const k = await createHotspot({ ...grid, window: 45 });
    k.process(batchFromRecords([...background(1_000), ...cluster(2_000)]));
    const hot = k.process(batchFromRecords(background(31_000)));
    expect(hot[0].window).toEqual({ start: '1969-12-31T23:59:30.000Z', end: '1970-01-01T00:00:30.000Z' });
  });

  it('takes a fix from years ahead in one step: the cluster cools once, and the slides between are skipped, not scored', async () => {
    const k = await createHotspot({ ...grid, gridWidth: 512, gridHeight: 512 });
    const cluster = Array.from({ length: 30 }, (_, i) => at(2 + (i % 2), 3, 1_000));
    k.process(batchFromRecords(cluster));
    // ten years of 30 s slides is 10.5 million full-grid scorings, which would not end within the test's time
    const later = k.process(batchFromRecords([at(0, 0, 10 * 365 * 86_400_000)]));
    // hot at the two slides whose window holds it, then cooled, once
    const cells = (detect: string) => later.filter((e) => e.detect === detect).map((e) => e.cell.id).sort();
    expect(cells('hot')).toEqual(['100m:2:3', '100m:2:3', '100m:3:3', '100m:3:3']);
    expect(cells('cooled')).toEqual(['100m:2:3', '100m:3:3']);
    expect(k.stats()).toMatchObject({ skipped: 0 });
  });

  it('counts and skips bad fixes and fixes off the grid', async () => {
    const k = await createHotspot(grid);
    k.process(batchFromRecords([{ deviceId: 'a', t: 1, lon: NaN, lat: 1 }, { deviceId: 'a', t: 1, lon: 200, lat: 1 }, at(100, 100, 1), at(0, 0, 1)]));
    expect(k.stats()).toMatchObject({ skipped: 2, outside: 1 });
  });

  it('takes weightBySpeed as the boolean it is: true weighs fixes by speed (one without a speed is skipped), false counts them', async () => {
    const fixes = batchFromRecords([at(0, 0, 1), at(1, 0, 1), { ...at(2, 0, 1), speed: 12 }]);
    const bySpeed = await createHotspot({ ...grid, weightBySpeed: true });
    bySpeed.process(fixes);
    expect(bySpeed.stats().skipped).toBe(2);
    const counting = await createHotspot({ ...grid, weightBySpeed: false });
    counting.process(fixes);
    expect(counting.stats().skipped).toBe(0);
    await expect(createHotspot({ ...grid, weightBySpeed: 1 as never })).rejects.toThrow('kernel hotspot: params.weightBySpeed: expected true or false, got number 1');
  });

  it('refuses bad params: the schema’s ranges before init, what only the kernel knows with its own message', async () => {
    await expect(createHotspot({ cellSize: 0 })).rejects.toThrow(new KernelParamError('hotspot', [{ path: ['cellSize'], reason: 'must be more than 0', at: 'value' }]));
    await expect(createHotspot({ window: 10, slide: 60 })).rejects.toThrow(new KernelError('need 0 < slide <= window (seconds)'));
  });
});
