import { describe, expect, it } from 'vitest';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { VirtualClock } from './clock.ts';
import { describeTrace, loadTraces, replaySlices } from './replay.ts';

const DATA = '../shared/data';
const FILES: [string, number, string, string][] = [
  ['traces/seattle-newson-krumm-gps.txt', 7531, '2009-01-17T20:27:37Z', '2009-01-17T22:34:28Z'],
  ['traces/liverpool-bus-route14-outbound.csv', 1533, '2026-01-26T15:55:12Z', '2026-01-26T18:19:36Z'],
  ['traces/geolife-small.csv', 5908, '2008-12-11T04:42:14Z', '2009-06-29T11:13:12Z'],
  ['mapmatch-kubicka/00000000.track', 2503, '1970-01-01T00:00:01Z', '1970-01-01T00:41:44Z'],
];

const collect = async (records: GpsRecord[], opts: Parameters<typeof replaySlices>[1]) => {
  const got: GpsRecord[] = [];
  for await (const slice of replaySlices(records, opts)) got.push(...slice);
  return { got, sent: got.length };
};

describe('replay', () => {
  it.each(FILES)('plays %s: every fix, in time order, with its recorded time', async (file, n, first, last) => {
    const { traces, records } = await loadTraces([`${DATA}/${file}`]);
    expect(traces[0].bad).toBe(0);
    const { got, sent } = await collect(records, { speed: Infinity });
    expect(sent).toBe(n);
    expect(got[0].t).toBe(Date.parse(first));
    expect(got[n - 1].t).toBe(Date.parse(last));
    for (let i = 1; i < n; i++) expect(got[i].t).toBeGreaterThanOrEqual(got[i - 1].t);
  });

  it('makes many files many devices, merged in time order', async () => {
    const { records } = await loadTraces(FILES.map(([f]) => `${DATA}/${f}`));
    expect(records.length).toBe(FILES.reduce((a, [, n]) => a + n, 0));
    const devices = new Set(records.map((r) => r.deviceId));
    expect(devices).toContain('seattle-newson-krumm-gps');
    expect(devices).toContain('00000000');
    expect(devices.size).toBe(15); // Liverpool names 8 buses, GeoLife 5 trajectories
  });

  it('paces by recorded time: at 10x a fix is due a tenth of its recorded offset later, and what is due together goes together', async () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ deviceId: 'a', t: 1000 * Math.floor(i / 10), lon: 0, lat: 0 }));
    const clock = new VirtualClock(5_000);
    const slices: [number, number][] = [];
    for await (const slice of replaySlices(records, { speed: 10, clock })) slices.push([clock.now() - 5_000, slice.length]);
    expect(slices).toEqual([
      [0, 10],
      [100, 10],
      [200, 10],
      [300, 10],
      [400, 10],
    ]);
  });

  it('loops with time moved on, so a device never goes back in time', async () => {
    const records = [0, 1000, 2000].map((t) => ({ deviceId: 'a', t, lon: 0, lat: 0 }));
    const stop = new AbortController();
    const got: number[] = [];
    for await (const slice of replaySlices(records, { speed: Infinity, loop: true, signal: stop.signal })) {
      got.push(...slice.map((r) => r.t));
      if (got.length >= 9) stop.abort();
    }
    expect(got.slice(0, 9)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
  });

  it('reports a file it cannot read by name', async () => {
    await expect(loadTraces(['no/such/trace.csv'])).rejects.toThrow('cannot read no/such/trace.csv: ENOENT');
  });
});

describe('a trace described', () => {
  it('says its span however many fixes it has (300,000: more than a call takes as arguments)', () => {
    const records = Array.from({ length: 300_000 }, (_, i) => ({ deviceId: `v${i % 10}`, t: Date.UTC(2026, 0, 1) + (300_000 - i) * 1000, lon: 7.42, lat: 43.73 }));
    expect(describeTrace({ file: 'big.csv', format: 'csv', records, bad: 0, badSamples: [] })).toBe('big.csv: 300000 fixes (csv), 10 devices, 2026-01-01T00:00:01.000Z → 2026-01-04T11:20:00.000Z');
  });
});
