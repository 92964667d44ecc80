import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import { breathe, later, QUIC, TOKEN, TRANSPORTS, testConfig } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from './zipper.ts';

const [, listen, urlOf] = process.env.ROUTING_MEMORY ? TRANSPORTS[0] : QUIC;

async function setup(functions: Parameters<typeof testConfig>[1]) {
  const z = later(await Zipper.start(testConfig(listen, functions)));
  return { z, opts: { zipper: urlOf(z), token: TOKEN, certHash: z.tls.certHash } };
}

/** An sfn instance that records which records reached it. */
async function instance(name: string, opts: { zipper: string; token: string; certHash: string }, observe = ['gps']) {
  const got: GpsRecord[] = [];
  const sfn = later(await connectStreamFunction({ name, observe, ...opts }));
  sfn.handle((in$) => in$.pipe(map((r: GpsRecord) => got.push(r))));
  return got;
}

const fix = (i: number, devices = 10): GpsRecord => ({ deviceId: `veh-${i % devices}`, t: i, lon: 7.4 + i * 1e-5, lat: 43.7 });

describe('routing', () => {
  it('fans a tag out to every function name that observes it', async () => {
    const { opts } = await setup([
      { name: 'geofence', observe: ['gps'], dispatch: { kind: 'balance' } },
      { name: 'archive', observe: ['gps'], dispatch: { kind: 'balance' } },
    ]);
    const a = await instance('geofence', opts);
    const b = await instance('archive', opts);
    const src = later(await connectSource({ name: 'gw', ...opts }));
    for (let i = 0; i < 500; i++) src.write('gps', fix(i));
    await waitFor(() => a.length === 500 && b.length === 500, { what: () => `500 + 500 (have ${a.length} + ${b.length})` });
    expect(a.map((r) => r.t)).toEqual(b.map((r) => r.t));
  });

  it('rotates frames round robin among three instances of one name', async () => {
    const { opts } = await setup([{ name: 'archive', observe: ['gps'], dispatch: { kind: 'balance' } }]);
    const got = [await instance('archive', opts), await instance('archive', opts), await instance('archive', opts)];
    const src = later(await connectSource({ name: 'gw', ...opts }));
    for (let i = 0; i < 30; i++) {
      src.write('gps', [fix(2 * i), fix(2 * i + 1)]);
      expect(await src.flush(5000)).toBe(true); // one frame at a time, so the rotation is visible frame by frame
    }
    expect(got.map((g) => g.length)).toEqual([20, 20, 20]);
    got.forEach((g, k) => expect(g.filter((_, j) => j % 2 === 0).map((r) => (r.t / 2) % 3)).toEqual(Array(10).fill(k)));
  });

  it('keeps each device on one instance across 1,000 records when partitioned by deviceId', async () => {
    const { opts } = await setup([{ name: 'mapmatch', observe: ['gps'], dispatch: { kind: 'partition', key: 'deviceId' } }]);
    const got = [await instance('mapmatch', opts), await instance('mapmatch', opts), await instance('mapmatch', opts)];
    const src = later(await connectSource({ name: 'gw', ...opts }));
    for (let i = 0; i < 1000; i++) {
      src.write('gps', fix(i, 25)); // batches mixing 25 vehicles: the zipper must split them
      if (i % 100 === 99) await breathe();
    }
    await waitFor(() => got.reduce((s, g) => s + g.length, 0) === 1000, { what: () => `1000 records (have ${got.map((g) => g.length)})` });
    const owner = new Map<string, number>();
    got.forEach((g, k) =>
      g.forEach((r) => {
        expect(owner.get(r.deviceId) ?? k).toBe(k);
        owner.set(r.deviceId, k);
      }),
    );
    expect(owner.size).toBe(25);
    expect(got.every((g) => g.length > 0)).toBe(true);
    for (const g of got) {
      for (const d of new Set(g.map((r) => r.deviceId))) {
        const ts = g.filter((r) => r.deviceId === d).map((r) => r.t);
        expect(ts).toEqual([...ts].sort((x, y) => x - y));
      }
    }
  });

  it('holds frames for a declared function until an instance connects', async () => {
    const { opts } = await setup([{ name: 'late', observe: ['gps'], dispatch: { kind: 'balance' } }]);
    const src = later(await connectSource({ name: 'gw', ...opts }));
    for (let i = 0; i < 100; i++) src.write('gps', fix(i));
    await new Promise((r) => setTimeout(r, 100));
    const got = await instance('late', opts);
    await waitFor(() => got.length === 100, { what: () => `100 held records (have ${got.length})` });
    expect(await src.flush(5000)).toBe(true);
  });
});
