import { mergeMap, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { GpsBatch } from '../codecs/gps-batch.ts';
import { connectSource } from '../source/connect-source.ts';
import { later, testConfig, TOKEN } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { recordingLog } from '../transport/testdata/recording-log.ts';
import { Zipper } from '../zipper/zipper.ts';
import { connectStreamFunction } from './connect-stream-function.ts';

const fixes = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ deviceId: `veh-${(from + i) % 7}`, t: 1_700_000_000_000 + from + i, lon: 7.42, lat: 43.73, speed: from + i }));

describe('a batch handler', () => {
  it('gets the fixes as columns, what came while it was busy in one call, and acks a frame only once the call that took it returned', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'batches', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const calls: GpsBatch[] = [];
    let release: () => void = () => {};
    const sfn = later(await connectStreamFunction({ name: 'batches', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    sfn.handleBatches({
      async process(b) {
        calls.push(b);
        // the first call holds on until released: the frames behind it wait, unacknowledged
        if (calls.length === 1) await new Promise<void>((r) => (release = r));
        return [];
      },
    });
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    source.write('gps', fixes(0, 10));
    await waitFor(() => calls.length === 1, { what: () => 'the first call' });
    for (let i = 1; i <= 5; i++) {
      source.write('gps', fixes(i * 10, 10));
      await new Promise((r) => setImmediate(r));
    }
    expect(await source.flush(300)).toBe(false);
    expect(source.stats().spooled).toBe(60);
    release();
    expect(await source.flush(5000)).toBe(true);
    // the five frames that came during the first call went in one second call
    expect(calls.map((b) => b.n)).toEqual([10, 50]);
    expect(calls[1].t).toBeInstanceOf(Float64Array);
    expect([...calls[1].speed]).toEqual(Array.from({ length: 50 }, (_, i) => 10 + i));
    expect(calls[1].devices.length).toBe(7);
    expect(sfn.stats().received).toBe(60);
  });

  it('takes the fix fields of records that carry them, skips and counts the rest, and emits what it returns and what it holds at the end', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'batches', observe: ['speeding'], dispatch: { kind: 'balance' } }, { name: 'collect', observe: ['out'], dispatch: { kind: 'balance' } }])));
    const sfn = await connectStreamFunction({ name: 'batches', observe: ['speeding'], zipper: z.memoryUrl, token: TOKEN });
    sfn.handleBatches({ process: (b) => [{ kind: 'count', n: b.n, edges: [...b.speed] }], flush: () => [{ kind: 'bye' }] }, { emit: 'out' });
    const got: unknown[] = [];
    const collect = later(await connectStreamFunction({ name: 'collect', observe: ['out'], zipper: z.memoryUrl, token: TOKEN }));
    collect.handle((in$) => in$.pipe(tap((e) => got.push(e))));
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    // events with a fix's four fields (a matched fix carries more) and one that has none
    source.write('speeding', [{ ...fixes(0, 1)[0], edge: 12 }, { ...fixes(1, 1)[0], edge: 13 }, { kind: 'note', text: 'no position' }]);
    await waitFor(() => got.length === 1, { what: () => 'the first output' });
    expect(sfn.stats()).toMatchObject({ received: 2, errors: 1 });
    await sfn.close();
    await waitFor(() => got.length === 2, { what: () => 'what the handler held at the end' });
    // each with an id of its own: what the flush emits is told from what the call before it made
    expect(got).toEqual([
      { kind: 'count', n: 2, edges: [0, 1], id: expect.stringMatching(/^batches:.+:count:0$/) },
      { kind: 'bye', id: expect.stringMatching(/^batches:.+:flush:[0-9a-f]+:bye:0$/) },
    ]);
  });

  it('gives two events of one device, time and kind made in two calls two ids, and the same event the same id', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'fence', observe: ['gps'], dispatch: { kind: 'balance' } }, { name: 'collect', observe: ['out'], dispatch: { kind: 'balance' } }])));
    const sfn = later(await connectStreamFunction({ name: 'fence', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    // as a geofence settles an enter on an earlier fix's time, after an exit at that time in an earlier call
    const detects = ['exit', 'enter', 'enter'];
    let call = 0;
    sfn.handleBatches({ process: () => [{ kind: 'geofence', detect: detects[call++], deviceId: 'veh-0', time: '2026-01-01T08:00:00.000Z' }] }, { emit: 'out' });
    const got: { id: string }[] = [];
    const collect = later(await connectStreamFunction({ name: 'collect', observe: ['out'], zipper: z.memoryUrl, token: TOKEN }));
    collect.handle((in$) => in$.pipe(tap((e) => got.push(e))));
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    for (let i = 0; i < 3; i++) {
      source.write('gps', fixes(i, 1));
      expect(await source.flush(5000)).toBe(true);
    }
    await waitFor(() => got.length === 3, { what: () => `3 events (${got.length} so far)` });
    const [exit, enter, again] = got.map((e) => e.id);
    expect(exit).not.toBe(enter);
    expect(again).toBe(enter);
  });

  it("names an event by the source of its device's fixes in the call that made it, and one about a device with no fix in its call by the call's source: nothing of a device is kept once its events are out", async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'seen', observe: ['gps'], dispatch: { kind: 'balance' } }, { name: 'collect', observe: ['out'], dispatch: { kind: 'balance' } }])));
    const sfn = later(await connectStreamFunction({ name: 'seen', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    // each call says it saw veh-0, whose only fix came in the first call, and each device of its own batch
    const seen = (deviceId: string, t: number) => ({ kind: 'seen', deviceId, time: new Date(t).toISOString() });
    sfn.handleBatches({ process: (b) => [seen('veh-0', b.t[0]), ...b.devices.filter((d) => d !== 'veh-0').map((d) => seen(d, b.t[0]))] }, { emit: 'out' });
    const got: { deviceId: string; id: string }[] = [];
    const collect = later(await connectStreamFunction({ name: 'collect', observe: ['out'], zipper: z.memoryUrl, token: TOKEN }));
    collect.handle((in$) => in$.pipe(tap((e) => got.push(e))));
    const [gw1, gw2] = [later(await connectSource({ name: 'gw-1', zipper: z.memoryUrl, token: TOKEN })), later(await connectSource({ name: 'gw-2', zipper: z.memoryUrl, token: TOKEN }))];
    // veh-0 from gw-1, then stopped; veh-1 from gw-2, in a call of its own
    gw1.write('gps', fixes(0, 1));
    expect(await gw1.flush(5000)).toBe(true);
    gw2.write('gps', fixes(1, 1));
    expect(await gw2.flush(5000)).toBe(true);
    await waitFor(() => got.length === 3, { what: () => `3 events (${got.length} so far)` });
    const sourceIn = (e: { id: string }) => e.id.split(':')[1];
    expect(got.map((e) => [e.deviceId, sourceIn(e)])).toEqual([
      ['veh-0', gw1.clientId],
      ['veh-0', gw2.clientId],
      ['veh-1', gw2.clientId],
    ]);
  });

  it('says each frame of records that are not fixes, rate-limited, and does not claim to say it once', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'batches', observe: ['speeding'], dispatch: { kind: 'balance' } }])));
    const log = recordingLog();
    const sfn = await connectStreamFunction({ name: 'batches', observe: ['speeding'], zipper: z.memoryUrl, token: TOKEN, log });
    sfn.handleBatches({ process: () => [] });
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    source.write('speeding', [{ kind: 'note' }, { kind: 'note' }]);
    expect(await source.flush(5000)).toBe(true);
    source.write('speeding', [{ kind: 'note' }]);
    expect(await source.flush(5000)).toBe(true);
    await sfn.close();
    const said = log.lines.filter((l) => l.includes('this function takes fixes'));
    expect(said).toEqual([
      "warn this function takes fixes; 2 records without a fix's fields (deviceId, t, lon, lat) skipped",
      expect.stringMatching(/^warn … 1 more in the last [\d.]+ s; the last: this function takes fixes; 1 records without a fix's fields \(deviceId, t, lon, lat\) skipped$/),
    ]);
  });
  it('drops an output fix the zipper would refuse, counted, and goes on: the rest of its outputs and later frames', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'batches', observe: ['gps'], dispatch: { kind: 'balance' } }, { name: 'collect', observe: ['out'], dispatch: { kind: 'balance' } }])));
    const sfn = later(await connectStreamFunction({ name: 'batches', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN, onError: () => {} }));
    // a matcher's fix between two far points a millisecond apart: a speed no vehicle drives
    sfn.handleBatches({ process: (b) => [{ ...fixes(b.t[0] - 1_700_000_000_000, 1)[0], speed: 600 }, { ...fixes(b.t[0] - 1_700_000_000_000, 1)[0], speed: 5 }] }, { emit: 'out' });
    const got: { speed: number }[] = [];
    const collect = later(await connectStreamFunction({ name: 'collect', observe: ['out'], zipper: z.memoryUrl, token: TOKEN }));
    collect.handle((in$) => in$.pipe(tap((e) => got.push(e as { speed: number }))));
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    source.write('gps', fixes(0, 1));
    expect(await source.flush(5000)).toBe(true);
    source.write('gps', fixes(1, 1));
    expect(await source.flush(5000)).toBe(true);
    await waitFor(() => got.length === 2, { what: () => 'the good output of each frame' });
    expect(got.map((e) => e.speed)).toEqual([5, 5]);
    expect(sfn.stats()).toMatchObject({ received: 2, errors: 2 });
  });
});

describe('a record handler', () => {
  it("gives each event an id of its function, its input's source, device and time, its kind and its place among what that input made; the same input from the same source makes the same ids again, from another source others", async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'alarm@2', observe: ['gps'], dispatch: { kind: 'balance' } }, { name: 'collect', observe: ['out'], dispatch: { kind: 'balance' } }])));
    // a deployed version's name: its ids are the function's, whichever version made them
    const sfn = later(await connectStreamFunction({ name: 'alarm@2', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    sfn.handle((in$) => in$.pipe(mergeMap((r: { deviceId: string; t: number; lon: number; lat: number }) => [{ kind: 'fast', deviceId: r.deviceId }, { kind: 'fast' }, { kind: 'far' }, { ...r, lon: 7 }])), { emit: 'out' });
    const got: { id?: string; kind?: string }[] = [];
    const collect = later(await connectStreamFunction({ name: 'collect', observe: ['out'], zipper: z.memoryUrl, token: TOKEN }));
    collect.handle((in$) => in$.pipe(tap((e) => got.push(e))));
    const [fix] = fixes(3, 1);
    // the source sends the fix again, as it resends to a restarted serve; then another source (a simulation run again) sends it
    const sources = [later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN })), later(await connectSource({ name: 'gw-2', zipper: z.memoryUrl, token: TOKEN }))];
    for (const source of [sources[0], sources[0], sources[1]]) {
      source.write('gps', [fix]);
      expect(await source.flush(5000)).toBe(true);
    }
    await waitFor(() => got.length === 12, { what: () => `12 outputs (${got.length} so far)` });
    const made = (sid: string) => [`alarm:${sid}:veh-3:${fix.t}:fast:0`, `alarm:${sid}:veh-3:${fix.t}:fast:1`, `alarm:${sid}:veh-3:${fix.t}:far:0`, undefined];
    expect(got.map((e) => e.id)).toEqual([...made(sources[0].clientId), ...made(sources[0].clientId), ...made(sources[1].clientId)]);
  });
});

describe('a record handler given events with ids', () => {
  it('gives two events made from one event ids of their own, not the one they copied', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'fan', observe: ['speeding'], dispatch: { kind: 'balance' } }, { name: 'collect', observe: ['out'], dispatch: { kind: 'balance' } }])));
    const sfn = later(await connectStreamFunction({ name: 'fan', observe: ['speeding'], zipper: z.memoryUrl, token: TOKEN }));
    sfn.handle((in$) => in$.pipe(mergeMap((e: object) => [{ ...e, to: 'a' }, { ...e, to: 'b' }])), { emit: 'out' });
    const got: { id?: string; to?: string }[] = [];
    const collect = later(await connectStreamFunction({ name: 'collect', observe: ['out'], zipper: z.memoryUrl, token: TOKEN }));
    collect.handle((in$) => in$.pipe(tap((e) => got.push(e))));
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    source.write('speeding', [{ id: 'up:1', kind: 'alarm', note: 'no device, no time' }]);
    expect(await source.flush(5000)).toBe(true);
    await waitFor(() => got.length === 2, { what: () => `2 outputs (${got.length} so far)` });
    const ids = got.map((e) => e.id);
    expect(ids).not.toContain('up:1');
    expect(new Set(ids).size).toBe(2);
    expect(ids[0]).toMatch(/^fan:.+:alarm:0$/);
  });
});

describe('a frame handler', () => {
  it('takes frames side by side with their tag and origin, and acks each once its promise settled, in order', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'bridge', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const calls: { tag: string; sid: string; seq: number; n: number; done: () => void }[] = [];
    const sfn = later(await connectStreamFunction({ name: 'bridge', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    sfn.handleFrames((f) => new Promise<void>((done) => calls.push({ tag: f.tag, sid: f.origin.sid, seq: f.origin.seq, n: f.batch.n, done })));
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    for (let i = 0; i < 3; i++) {
      source.write('gps', fixes(i * 10, 10));
      await source.flush(0);
    }
    // all three are in hand at once: none waited for the one before it
    await waitFor(() => calls.length === 3, { what: () => 'three calls' });
    expect(calls.map((c) => [c.tag, c.sid, c.seq, c.n])).toEqual([
      ['gps', source.clientId, 1, 10],
      ['gps', source.clientId, 2, 10],
      ['gps', source.clientId, 3, 10],
    ]);
    // the third settles first: nothing is acked while the first is open
    calls[2].done();
    calls[1].done();
    expect(await source.flush(300)).toBe(false);
    expect(source.stats().spooled).toBe(30);
    calls[0].done();
    expect(await source.flush(5000)).toBe(true);
    expect(sfn.stats().received).toBe(30);
  });

  it('pushes back on the zipper beyond its window of frames', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'bridge', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const open: (() => void)[] = [];
    const sfn = later(await connectStreamFunction({ name: 'bridge', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    sfn.handleFrames(() => new Promise<void>((done) => open.push(done)), { window: 4 });
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    for (let i = 0; i < 40; i++) {
      source.write('gps', fixes(i, 1));
      await source.flush(0);
    }
    // every frame has left the zipper for the function, yet only the window's worth reached the handler
    await waitFor(() => z.functionLoad()[0].unacked === 40, { what: () => 'all 40 sent to the function' });
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(open.length).toBe(5);
    // each release lets the next frames in
    await waitFor(() => (open.splice(0).forEach((done) => done()), sfn.stats().received === 40), { what: () => `all 40 (${sfn.stats().received} so far)` });
    expect(await source.flush(5000)).toBe(true);
  });
});

describe('a function that joins early (a wake)', () => {
  it('is joined while init runs, takes what came meanwhile in order once its handler is set, and leaves again when init fails', { timeout: 60_000 }, async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'early', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const load = () => z.functionLoad().find((l) => l.name === 'early');
    let initDone: () => void = () => {};
    const joining = connectStreamFunction({ name: 'early', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN, joinEarly: true, init: () => new Promise<void>((r) => (initDone = r)) });
    await waitFor(() => load()?.instances, { what: 'the instance joined while its init runs' });
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    source.write('gps', fixes(0, 3));
    await new Promise((r) => setImmediate(r));
    source.write('gps', fixes(3, 3));
    await waitFor(() => load()?.unacked, { what: 'frames handed to it before its init is done', until: (n) => n === 2 });
    initDone();
    const sfn = later(await joining);
    const got: number[] = [];
    sfn.handleBatches({ process: (b) => (got.push(...b.speed), []) });
    await waitFor(() => got.length === 6, { what: () => `six fixes, got ${got}` });
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);

    const failing = connectStreamFunction({
      name: 'early',
      observe: ['gps'],
      zipper: z.memoryUrl,
      token: TOKEN,
      joinEarly: true,
      init: async () => {
        await waitFor(() => load()?.instances, { what: 'the second instance joined', until: (n) => n === 2 });
        throw new Error('no kernel');
      },
    });
    await expect(failing).rejects.toThrow('no kernel');
    await waitFor(() => load()?.instances, { what: 'the instance whose init failed gone', until: (n) => n === 1 });
  });

  it('takes at most 64 frames before its handler is set: the rest wait untaken at the zipper, and come in order once it is', { timeout: 60_000 }, async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'early', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    let initDone: () => void = () => {};
    const joining = connectStreamFunction({ name: 'early', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN, joinEarly: true, init: () => new Promise<void>((r) => (initDone = r)) });
    await waitFor(() => z.functionLoad().find((l) => l.name === 'early')?.instances, { what: 'the instance joined while its init runs' });
    const source = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    for (let i = 0; i < 100; i++) {
      source.write('gps', fixes(i, 1));
      await new Promise((r) => setImmediate(r));
    }
    const queued = () => z.stats().connections.find((c) => c.kind === 'sfn')?.queued ?? 0;
    await waitFor(queued, { what: 'frames left untaken at the zipper', until: (n) => n === 100 - 64 });
    initDone();
    const sfn = later(await joining);
    const got: number[] = [];
    sfn.handleBatches({ process: (b) => (got.push(...b.speed), []) });
    await waitFor(() => got.length === 100, { what: () => `all 100, got ${got.length}` });
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(await source.flush(5000)).toBe(true);
  });

  it('has its handshake out before init starts, so that init’s synchronous work (a kernel made, its state imported) does not hold it back', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'early', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    let atInit: number | undefined;
    const init = () => void (atInit = z.functionLoad().find((l) => l.name === 'early')?.instances ?? 0);
    later(await connectStreamFunction({ name: 'early', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN, joinEarly: true, init }));
    // in memory the handshake arrives within the turn it is sent in: the zipper has the instance when init begins
    expect(atInit).toBe(1);
  });
});
