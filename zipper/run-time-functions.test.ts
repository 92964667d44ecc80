import { describe, expect, it } from 'vitest';
import { concatMap, map, NEVER } from 'rxjs';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import { PROTOCOL_VERSION } from '../codecs/frame-types.ts';
import { unpackMeta, type Metadata } from '../codecs/metadata.ts';
import { MessageChannel } from 'node:worker_threads';
import { transportFor } from '../transport/index.ts';
import { portChannel } from '../transport/port.ts';
import { later, QUIC, TOKEN, testConfig, TRANSPORTS } from '../testing/zipper-harness.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { waitFor } from '../testing/wait-for.ts';
import { recordCount } from './counters.ts';
import { Zipper } from './zipper.ts';

const [, listen, urlOf] = TRANSPORTS[0];
const fix = (i: number): GpsRecord => ({ deviceId: `veh-${i % 3}`, t: i, lon: 7.42, lat: 43.73, speed: i % 50 });

/**
 * an instance of `name` that takes frames (their record counts in `frames`) and never acknowledges them;
 * `thread`: from a thread of serve's own, as a channel handed to the zipper's attach, not dialled to a listener
 */
async function takingInstance(z: Zipper, name: string, clientId: string, thread = false) {
  const url = new URL(urlOf(z));
  const ch = thread ? threadChannel(z) : await (await transportFor(url)).dial(url, {});
  const frames: number[] = [];
  const metas: Metadata[] = [];
  const joined = z.functionLoad().find((f) => f.name === name)?.instances ?? 0;
  ch.start({ frame: (f) => void (f.type === 'data' && frames.push(recordCount(f.payload)) && metas.push(unpackMeta(f.meta))), closed: () => {} });
  ch.send({ type: 'handshake', name, kind: 'sfn', clientId, token: TOKEN, observe: ['gps'], version: PROTOCOL_VERSION });
  await waitFor(() => z.functionLoad().find((f) => f.name === name)?.instances === joined + 1, { what: `${clientId} joined` });
  return { ch, frames, metas };
}

function threadChannel(z: Zipper) {
  const { port1, port2 } = new MessageChannel();
  z.attach(portChannel(port1, 'port://zipper', { onceATurn: true }));
  return portChannel(port2, 'port://instance');
}

/** The set of functions changing while the zipper runs, as `geoflux deploy` and `undeploy` change it. */
describe('functions added and removed at run time', () => {
  it('admits a function once added, holding for it what was written after the add; refuses it again once removed', async () => {
    const log = keptLinesLog();
    const z = later(await Zipper.start(testConfig(listen, []), { log }));
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
    // new, not back: it never had an instance
    expect(log.said.filter((l) => /function "late" (is back|has its first)/.test(l))).toEqual(['info function "late" has its first instance: sending the 1 frames held for it until then']);
    await fn.close();
    await waitFor(() => z.functionLoad().find((f) => f.name === 'late')?.instances === 0, { what: 'the instance gone' });
    src.write('gps', [fix(4)]);
    await waitFor(() => z.functionLoad().find((f) => f.name === 'late')?.waiting, { what: 'the frame held while it has no instance' });
    const again = await connectStreamFunction({ name: 'late', observe: ['gps'], ...opts });
    again.handle((in$) => in$.pipe(map((r: GpsRecord) => void got.push(r.t))));
    await waitFor(() => got.length === 4, { what: () => `the held fix at the instance back, got ${got}` });
    expect(log.said).toContain('info function "late" is back: sending 1 frames held for it');
    await again.close();
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
    expect([z.counters.dropped, z.counters.removed]).toEqual([held, held]);
    expect(z.inflight).toBe(0);
    expect(await src.flush(5000)).toBe(true);
  });

  it('counts as dropped a frame an instance of a removed function dies holding', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    const opts = { zipper: urlOf(z), token: TOKEN };
    z.addFunction({ name: 'gone', observe: ['gps'], dispatch: { kind: 'balance' } });
    const { ch, frames } = await takingInstance(z, 'gone', 'gone-1');
    const src = later(await connectSource({ name: 'gw', ...opts }));
    src.write('gps', [fix(1)]);
    await waitFor(() => frames.length === 1, { what: 'the frame at the instance' });
    z.removeFunction('gone');
    ch.abort(new Error('the instance dies'));
    await waitFor(() => z.counters.dropped === 1 && z.counters.removed === 1, { what: () => `the frame counted as dropped (dropped ${z.counters.dropped})` });
    expect(await src.flush(5000)).toBe(true);
  });

  it('a replace: a paused function\'s frames wait, then go in order to the version switched to (or back to it, resumed); nothing dropped', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    const opts = { zipper: urlOf(z), token: TOKEN };
    const collect = async (name: string) => {
      const got: number[] = [];
      const fn = later(await connectStreamFunction({ name, observe: ['gps'], ...opts }));
      fn.handle((in$) => in$.pipe(map((r: GpsRecord) => void got.push(r.t))));
      return got;
    };
    z.addFunction({ name: 'v1', observe: ['gps'], dispatch: { kind: 'balance' } });
    z.addFunction({ name: 'v2', observe: ['gps'], dispatch: { kind: 'balance' } }, { standby: true });
    const [old, next] = [await collect('v1'), await collect('v2')];
    const src = later(await connectSource({ name: 'gw', ...opts }));
    src.write('gps', [fix(1)]);
    await waitFor(() => old.length === 1, { what: 'the first fix at the running version' });
    expect(await z.settled('v1', 5000)).toBe(true);
    z.pauseFunction('v1');
    src.write('gps', [fix(2)]);
    src.write('gps', [fix(3)]);
    await waitFor(() => z.stats().tagsIn.gps?.records === 3 && z.functionLoad().find((f) => f.name === 'v1')?.waiting, { what: 'the next fixes held for the paused version' });
    expect([old, next]).toEqual([[1], []]);
    z.switchFunction('v1', 'v2');
    src.write('gps', [fix(4)]);
    await waitFor(() => next.length === 3, { what: () => `the held fixes, then the next, at the new version: ${next}` });
    expect([old, next]).toEqual([[1], [2, 3, 4]]);
    expect(z.functionLoad().map((f) => f.name)).toEqual(['v2']);
    // a replace that fails after the pause resumes the running version with what was held meanwhile
    z.pauseFunction('v2');
    src.write('gps', [fix(5)]);
    await waitFor(() => z.functionLoad()[0].waiting === 1, { what: 'the frame held for the paused version' });
    z.resumeFunction('v2');
    await waitFor(() => next.length === 4, { what: 'the held fix at the resumed version' });
    expect(z.counters.dropped).toBe(0);
    expect(await src.flush(5000)).toBe(true);
  });

  it('a scale change: an instance joining while joins are gated gets no frame until admitted; one retired gets none after', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    const opts = { zipper: urlOf(z), token: TOKEN };
    z.addFunction({ name: 'f', observe: ['gps'], dispatch: { kind: 'partition', key: 'deviceId' } });
    const instance = async () => {
      const got: string[] = [];
      const fn = later(await connectStreamFunction({ name: 'f', observe: ['gps'], ...opts }));
      fn.handle((in$) => in$.pipe(map((r: GpsRecord) => void got.push(r.deviceId))));
      return { id: fn.clientId, got };
    };
    const a = await instance();
    const src = later(await connectSource({ name: 'gw', ...opts }));
    // 20 devices a round, in one frame: with two instances on the ring, each gets its devices' rows
    let sent = 0;
    const round = () => {
      src.write('gps', Array.from({ length: 20 }, (_, i) => fix(i * 3)).map((r, i) => ({ ...r, deviceId: `veh-${i}`, t: ++sent })));
    };
    const handled = () => a.got.length + b.got.length;
    z.gateJoins('f');
    const b = await instance();
    expect(z.instanceIds('f')).toEqual({ joined: [a.id], aside: [b.id] });
    round();
    await waitFor(() => handled() === 20, { what: () => `a round handled: ${handled()}` });
    expect(b.got).toEqual([]);
    z.admitJoined('f');
    expect(z.instanceIds('f')).toEqual({ joined: [a.id, b.id], aside: [] });
    round();
    await waitFor(() => handled() === 40, { what: () => `two rounds handled: ${handled()}` });
    expect(b.got.length).toBeGreaterThan(0);
    const atB = b.got.length;
    z.retireInstance('f', b.id);
    round();
    await waitFor(() => handled() === 60, { what: () => `three rounds handled: ${handled()}` });
    expect(b.got.length).toBe(atB);
    expect(z.functionLoad()[0].instances).toBe(1);
  });

  it('an instance that says goodbye holding a frame hands it on whole and unblamed (a wake whose kernel failed); one that dies holding it gets it blamed, record by record', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    z.addFunction({ name: 'f', observe: ['gps'], dispatch: { kind: 'balance' } });
    const src = later(await connectSource({ name: 'gw', zipper: urlOf(z), token: TOKEN }));
    src.write('gps', [fix(1), fix(2), fix(3)]);
    await waitFor(() => z.functionLoad()[0].waiting === 1, { what: 'the frame of 3 held' });
    // more goodbyes than the deliveries after which a frame that instances died holding is poison (3)
    for (let i = 0; i < 4; i++) {
      const { ch, frames } = await takingInstance(z, 'f', `leaves-${i}`);
      await waitFor(() => frames.length === 1, { what: `the frame at leaves-${i}` });
      expect(frames).toEqual([3]);
      ch.send({ type: 'goaway', reason: 'client closing' });
      await ch.close();
      await waitFor(() => z.functionLoad()[0].waiting === 1, { what: `the frame held again after leaves-${i}` });
    }
    expect([z.counters.poison, z.counters.dropped]).toEqual([0, 0]);
    const dies = await takingInstance(z, 'f', 'dies');
    await waitFor(() => dies.frames.length === 1, { what: 'the frame at the instance that dies' });
    dies.ch.abort(new Error('the instance dies'));
    const next = await takingInstance(z, 'f', 'next');
    await waitFor(() => next.frames.length === 3, { what: () => `the frame's records one by one, got ${next.frames}` });
    expect(next.frames).toEqual([1, 1, 1]);
    next.ch.send({ type: 'ack', seq: 3 });
    expect(await src.flush(5000)).toBe(true);
  });
});

describe('a record that instances keep dying on', () => {
  it('is dropped after 3 deaths, those of the frame it was in counted, and named by its device, time and tag; what they held goes on marked for a call of its own', async () => {
    const log = keptLinesLog();
    const z = later(await Zipper.start(testConfig(listen, []), { log }));
    z.addFunction({ name: 'f', observe: ['gps'], dispatch: { kind: 'balance' } });
    const src = later(await connectSource({ name: 'gw', zipper: urlOf(z), token: TOKEN }));
    src.write('gps', [fix(1), fix(2), fix(3)]);
    await waitFor(() => z.functionLoad()[0].waiting === 1, { what: 'the frame of 3 held' });
    // the first dies holding the frame; the next two, its records, of which the first is blamed each time
    for (const [i, records] of [[3], [1, 1, 1], [1, 1, 1]].entries()) {
      const dies = await takingInstance(z, 'f', `dies-${i}`);
      await waitFor(() => dies.frames.length === records.length, { what: () => `the frames at dies-${i}, got ${dies.frames}` });
      expect(dies.frames).toEqual(records);
      expect(dies.metas.map((m) => m.orphan)).toEqual(records.map(() => (i === 0 ? undefined : true)));
      dies.ch.abort(new Error('the instance dies'));
      await waitFor(() => z.functionLoad()[0].instances === 0, { what: `dies-${i} gone` });
    }
    expect(z.counters.poisonRecords).toBe(1);
    expect(log.said.find((l) => l.includes('died holding'))).toMatch(/^warn function "f": dropped a fix of "veh-1" at 1970-01-01T00:00:00\.001Z \(gps, from \S+ seq 1\) that 3 instances died holding/);
    const next = await takingInstance(z, 'f', 'next');
    await waitFor(() => next.frames.length === 2, { what: () => `the two other records, got ${next.frames}` });
    next.ch.send({ type: 'ack', seq: 2 });
    expect(await src.flush(5000)).toBe(true);
  });
});

describe('an instance closing with a frame it began and could not finish', () => {
  it('leaves without a goodbye: the zipper blames that frame, as for a crash, so a record that stalls its handler is not handed on for ever', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    z.addFunction({ name: 'f', observe: ['gps'], dispatch: { kind: 'balance' } });
    const stuck = await connectStreamFunction({ name: 'f', observe: ['gps'], zipper: urlOf(z), token: TOKEN });
    stuck.handle((in$) => in$.pipe(concatMap(() => NEVER)));
    const src = later(await connectSource({ name: 'gw', zipper: urlOf(z), token: TOKEN }));
    src.write('gps', [fix(1), fix(2), fix(3)]);
    await waitFor(() => stuck.stats().received > 0, { what: 'the stuck instance working on the frame' });
    await stuck.close(50);
    const next = await takingInstance(z, 'f', 'next');
    await waitFor(() => next.frames.length === 3, { what: () => `the frame's records one by one, got ${next.frames}` });
    expect(next.frames).toEqual([1, 1, 1]);
    next.ch.send({ type: 'ack', seq: 3 });
  });
});

describe('a zipper shutting down', () => {
  it('lets an instance of serve\'s own threads join while it drains and sends it what was held (a function woken by a closing function\'s last output)', async () => {
    const z = later(await Zipper.start(testConfig(listen, [])));
    z.addFunction({ name: 'f', observe: ['gps'], dispatch: { kind: 'balance' } });
    const src = await connectSource({ name: 'gw', zipper: urlOf(z), token: TOKEN });
    src.write('gps', [fix(1), fix(2)]);
    await waitFor(() => z.functionLoad()[0].waiting === 1, { what: 'the frame held' });
    await z.drain(0);
    const woken = await takingInstance(z, 'f', 'woken', true);
    await waitFor(() => woken.frames.length === 1, { what: 'the held frame at the instance that joined during the drain' });
    expect(woken.frames).toEqual([2]);
    woken.ch.send({ type: 'ack', seq: 1 });
    // told to go away by the drain, it hears the ack no more
    await src.close(0);
  });

  it('counts as lost what writers in serve\'s own threads or process still had in flight when it closed, and says which it lost and which writers keep', async () => {
    const log = keptLinesLog();
    const z = await Zipper.start(testConfig(listen, []), { log });
    z.addFunction({ name: 'f', observe: ['gps'], dispatch: { kind: 'balance' } });
    const src = await connectSource({ name: 'gw', zipper: urlOf(z), token: TOKEN });
    src.write('gps', [fix(1)]);
    await waitFor(() => z.functionLoad()[0].waiting === 1, { what: 'the frame held for a function with no instance' });
    await z.close(0);
    expect(z.counters.lostAtClose).toBe(1);
    expect(log.said).toContain("warn shutting down with 1 frames not yet acknowledged by functions: 1 lost, written by serve's own threads, which close with it");
    await src.close(0);
  });

  it('counts once what an instance still holds when it closes, and leaves what an outside writer wrote unacknowledged, for its resend', async () => {
    const log = keptLinesLog();
    const z = await Zipper.start(testConfig(QUIC[1], []), { log });
    z.addFunction({ name: 'f', observe: ['gps'], dispatch: { kind: 'balance' } });
    const taker = await takingInstance(z, 'f', 'taker');
    const inside = await connectSource({ name: 'inside', zipper: urlOf(z), token: TOKEN });
    const outside = await connectSource({ name: 'outside', zipper: QUIC[2](z), token: TOKEN, certHash: z.tls.certHash });
    inside.write('gps', [fix(1)]);
    outside.write('gps', [fix(2), fix(3), fix(4)]);
    await waitFor(() => taker.frames.length === 2, { what: 'both frames at the instance, which never acknowledges them' });
    await z.close(0);
    expect(z.counters.lostAtClose).toBe(1);
    expect(log.said).toContain("warn shutting down with 2 frames not yet acknowledged by functions: 1 kept by their writers for a resend; 1 lost, written by serve's own threads, which close with it");
    expect((await outside.close(0)).unacked).toBe(3);
    await inside.close(0);
  });
});
