import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import { PROTOCOL_VERSION } from '../codecs/frame-types.ts';
import { transportFor } from '../transport/index.ts';
import { later, TOKEN, testConfig, TRANSPORTS } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from './zipper.ts';

const [, listen, urlOf] = TRANSPORTS[0];
const fix = (i: number): GpsRecord => ({ deviceId: `veh-${i % 3}`, t: i, lon: 7.42, lat: 43.73, speed: i });

/** The set of functions changing while the zipper runs, as `geoflux deploy` and `undeploy` change it. */
describe('functions added and removed at run time', () => {
  it('admits a function once added, holding for it what was written after the add; refuses it again once removed', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    const opts = { zipper: urlOf(z), token: TOKEN };
    await expect(connectStreamFunction({ name: 'late', observe: ['gps'], ...opts, connectTimeout: 1000 })).rejects.toThrow(/no function "late"/);
    z.addFunction({ name: 'late', observe: ['gps'], dispatch: { kind: 'partition', key: 'deviceId' } });
    expect(() => z.addFunction({ name: 'late', observe: ['gps'], dispatch: { kind: 'balance' } })).toThrow(/already exists/);
    const src = later(await connectSource({ name: 'gw', ...opts }));
    src.write('gps', [fix(1), fix(2), fix(3)]);
    await waitFor(() => z.functionLoad().find((f) => f.name === 'late')?.waiting, { what: 'the frame held for the added function' });
    const got: number[] = [];
    const fn = await connectStreamFunction({ name: 'late', observe: ['gps'], ...opts });
    fn.handle((in$) => in$.pipe(map((r: GpsRecord) => void got.push(r.t))));
    await waitFor(() => got.length === 3, { what: () => `3 fixes at the added function, got ${got}` });
    await fn.close();
    z.removeFunction('late');
    expect(z.functionLoad().map((f) => f.name)).toEqual([]);
    await expect(connectStreamFunction({ name: 'late', observe: ['gps'], ...opts, connectTimeout: 1000 })).rejects.toThrow(/no function "late"/);
  });

  it('drops, counted, what was held for a function removed before any instance joined, and acknowledges it to its writer', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    const opts = { zipper: urlOf(z), token: TOKEN };
    z.addFunction({ name: 'never', observe: ['gps'], dispatch: { kind: 'balance' } });
    const src = later(await connectSource({ name: 'gw', ...opts }));
    src.write('gps', [fix(1)]);
    src.write('gps', [fix(2)]);
    await waitFor(() => z.stats().tagsIn.gps?.records === 2, { what: 'both fixes at the zipper' });
    const held = z.functionLoad()[0].waiting;
    expect(held).toBeGreaterThan(0);
    z.removeFunction('never');
    expect(z.counters.dropped).toBe(held);
    expect(z.inflight).toBe(0);
    expect(await src.flush(5000)).toBe(true);
  });

  it('counts as dropped a frame an instance of a removed function dies holding', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    const opts = { zipper: urlOf(z), token: TOKEN };
    z.addFunction({ name: 'gone', observe: ['gps'], dispatch: { kind: 'balance' } });
    // an instance that takes frames and never acknowledges them
    const url = new URL(opts.zipper);
    const ch = await (await transportFor(url)).dial(url, {});
    let frames = 0;
    ch.start({ frame: (f) => void (f.type === 'data' && frames++), closed: () => {} });
    ch.send({ type: 'handshake', name: 'gone', kind: 'sfn', clientId: 'gone-1', token: TOKEN, observe: ['gps'], version: PROTOCOL_VERSION });
    await waitFor(() => z.functionLoad()[0]?.instances === 1, { what: 'the instance joined' });
    const src = later(await connectSource({ name: 'gw', ...opts }));
    src.write('gps', [fix(1)]);
    await waitFor(() => frames === 1, { what: 'the frame at the instance' });
    z.removeFunction('gone');
    ch.abort(new Error('the instance dies'));
    await waitFor(() => z.counters.dropped === 1, { what: () => `the frame counted as dropped (dropped ${z.counters.dropped})` });
    expect(await src.flush(5000)).toBe(true);
  });
});
