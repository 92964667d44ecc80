import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { unpack } from '../codecs/msgpack.ts';
import { connectSource, connectStreamFunction } from '../index.ts';
import type { HotspotEvent } from '../kernels/hotspot.ts';
import { setLogLevel } from '../log/logger.ts';
import { ModuleThread } from '../runtime/module-thread.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { firstFive, HOT_CELL, threeMore } from '../testing/hot-cell.ts';
import { serveWithSquares } from '../testing/squares-serve.ts';
import { cKernel, onHeader, PLAIN_EXPORTS } from '../testing/c-kernel.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { Zipper } from '../zipper/zipper.ts';
import { waitFor } from '../testing/wait-for.ts';
import type { FrameChannel } from '../transport/types.ts';
import { FunctionHosts, HostedInstance } from './function-hosts.ts';
import type { FunctionData } from './run-instance.ts';

setLogLevel('silent');

/**
 * `hosts: 2`: four instances of geoflux's own code (a geofence ×2, a custom .wasm kernel, builtin:speeding) share two
 * host threads, the two geofence instances in different ones; a JavaScript module of the user's gets a thread
 * of its own. Each instance still has its own channel: every fix gets its event from each function.
 */
const workflow = `name: shared
listen: [quic://127.0.0.1:0]
hosts: 2
tags: { gps: 16, out: 17, fast: 18 }
functions:
  - name: fence
    observe: [gps]
    emit: out
    dispatch: { partition: deviceId }
    instances: 2
    host: local
    kernel: geofence
    params: { fences: squares.geojson, debounce: false }
  - name: speeding
    observe: [gps]
    emit: out
    host: local
    kernel: ${resolve('kernels/build/testing/speed-limit.wasm')}
    params: { limit: 5 }
  - name: fast
    observe: [gps]
    emit: fast
    host: local
    run: builtin:speeding
    params: { limit: 5 }
  - name: steady
    observe: [gps]
    emit: out
    host: local
    run: ${resolve('reliability/testdata/steady.ts')}
  - name: collector
    observe: [out, fast]
    host: remote
`;

describe('host threads', () => {
  it('run the instances of kernels and builtins, a user module in a thread of its own, each instance on its own channel', { timeout: 60_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(workflow);
    try {
      const kinds = Object.fromEntries(['fence', 'speeding', 'fast', 'steady'].map((fn) => [fn, served.functionThreads.filter((t) => t.fn === fn).map((t) => t.thread.constructor.name)]));
      expect(kinds).toEqual({ fence: [HostedInstance.name, HostedInstance.name], speeding: [HostedInstance.name], fast: [HostedInstance.name], steady: [ModuleThread.name] });
      expect(served.hosts.stats().threads).toBe(2);

      const got = new Map<string, number>();
      const collector = await connectStreamFunction({ name: 'collector', observe: ['out', 'fast'], ...trust });
      const key = (e: { kind?: string; by?: string; detect?: string }) => e.by ?? e.detect ?? e.kind!;
      collector.handle((in$) => in$.pipe(tap((e: { kind?: string; by?: string; detect?: string }) => got.set(key(e), (got.get(key(e)) ?? 0) + 1))));
      const source = await connectSource({ name: 'fleet', ...trust });
      // 20 vehicles into f0 at 10 m/s (over the 5 m/s limit): an enter each; per fix a steady row, and a speeding row from the kernel and one from the builtin
      source.write('gps', Array.from({ length: 20 }, (_, v) => [crossingFix(v, 9), crossingFix(v, 11)]).flat());
      await waitFor(() => got.get('enter') === 20 && got.get('steady') === 40 && got.get('speeding') === 80, { what: () => `every event, got ${JSON.stringify([...got])}` });
      // both geofence instances had devices: the fixes went over both channels
      const received = () => served.functionThreads.filter((t) => t.fn === 'fence').map((t) => (t.thread.stats as { received?: number } | undefined)?.received ?? 0);
      await waitFor(() => received().every((n) => n > 0), { what: () => `fixes at both geofence instances (${received()})` });
      await source.close();
      await collector.close();
    } finally {
      await close();
    }
  });
});

const spin = resolve('kernels/build/testing/spin.wasm');
const kernelData = (name: string, kernel: string, params?: Record<string, unknown>): FunctionData => ({ name, observe: ['slow'], emit: ['spun'], params, kernel: { kernel, baseDir: process.cwd() }, baseDir: process.cwd() });

/**
 * Host threads (one per watchdog time) without a zipper: an instance loads, dials (`attached` has its channel)
 * and then waits for an answer for ever, still starting. Kernels of the user's own that hung a host
 * (`moveApart`, as its host's exit calls it) go to hosts kept apart.
 */
function zipperless() {
  const log = keptLinesLog();
  const attached: FrameChannel[] = [];
  const hosts = new FunctionHosts({ size: 1, attach: (ch) => void attached.push(ch), log });
  const errors = () => log.said.filter((l) => l.startsWith('error'));
  return { hosts, attached, errors };
}

describe('host threads kept apart', () => {
  it('leave the pool when their thread cannot start; what was moved there is said and counted as not started, once', { timeout: 60_000 }, async () => {
    const { hosts, attached, errors } = zipperless();
    try {
      // a thread cannot be given a function: the host apart that starts with this instance cannot start
      const bad = hosts.instance('function "bad"', kernelData('bad', spin, { f: () => 0 }), 1000);
      expect(bad.moveApart(undefined)).toBe(true);
      await waitFor(() => hosts.stats().failedStarts, 'the failed start counted');
      // the next one moved apart starts in a new host, not in the dead one
      hosts.instance('function "good"', kernelData('good', spin), 1000).moveApart(undefined);
      await waitFor(() => attached.length, 'the next instance moved apart to dial from a host that started');
      expect(hosts.stats()).toMatchObject({ threads: 1, failedStarts: 1 });
      expect(errors()).toEqual([expect.stringMatching(/^error function "bad": could not start again apart: .*could not be cloned/)]);
    } finally {
      await hosts.close();
    }
  });

  it('say and count once a moved kernel that cannot start in its host apart (its file gone)', { timeout: 60_000 }, async () => {
    const { hosts, errors } = zipperless();
    try {
      hosts.instance('function "gone"', kernelData('gone', resolve('kernels/build/testing/gone.wasm')), 1000).moveApart(undefined);
      await waitFor(() => hosts.stats().failedStarts, { what: 'the failed start counted', ms: 20_000 });
      expect(errors()).toEqual([expect.stringMatching(/^error function "gone": could not start again apart: kernel .* not found/)]);
    } finally {
      await hosts.close();
    }
    expect(hosts.stats().failedStarts).toBe(1);
    expect(errors().length).toBe(1);
  });

  it('end quietly the start of a moved instance when they are stopped meanwhile (serve stops)', { timeout: 60_000 }, async () => {
    const { hosts, attached, errors } = zipperless();
    try {
      hosts.instance('function "first"', kernelData('first', spin), 1000).moveApart(undefined);
      // in the host apart the first started: it starts there once that host is ready
      const second = hosts.instance('function "second"', kernelData('second', spin), 1000);
      second.moveApart(undefined);
      // the host is ready when the first dials: the second has been told to start (no zipper answers it)
      await waitFor(() => attached.length, 'the first instance to dial');
      // what its host's exit says of it when the host was stopped (serve's stop, its host too busy to stop it first)
      expect(second.hostExited('exit', true, undefined)).toBe(false);
      await new Promise((r) => setImmediate(r));
      expect(errors()).toEqual([]);
      expect(hosts.stats().failedStarts).toBe(0);
    } finally {
      await hosts.close();
    }
  });
});

describe('a host thread made once serve stops', () => {
  it('(for a wake begun before) is not started again when it hangs', { timeout: 60_000 }, async () => {
    const clock = new ManualClock();
    const log = keptLinesLog();
    let dials = 0;
    const hosts = new FunctionHosts({ size: 1, attach: () => void dials++, log, clock });
    try {
      hosts.endRestarts();
      // its dial unanswered, it is still starting: the host's watchdog gives it six times the limit
      void hosts.instance('function "late"', kernelData('late', spin), 1000).start().catch(() => {});
      await waitFor(() => dials, 'the instance to dial from its new host');
      clock.advance(7 * 1000);
      await waitFor(() => hosts.stats().threads === 0, 'the hung host ended');
      // a restart is decided, and said, as its thread's exit is heard: before the host counts as gone
      expect(log.said.filter((l) => /restarting in|has not answered/.test(l))).toEqual([expect.stringMatching(/^error host thread #1: its thread has not answered for \d+ ms/)]);
    } finally {
      await hosts.close();
    }
  });
});

describe('a host thread\'s watchdog', () => {
  it('stops a host whose kernel call runs over the limit while another of its instances still starts, before the six times a start-up is given', { timeout: 60_000 }, async () => {
    const z = await Zipper.start({ name: 'watchdog', listen: [], tags: { gps: 16, slow: 17, spun: 18 }, functions: ['spinner', 'loading'].map((name) => ({ name, observe: [name === 'spinner' ? 'slow' : 'gps'], dispatch: { kind: 'balance' as const } })) });
    const clock = new ManualClock();
    const log = keptLinesLog();
    let dials = 0;
    // the second instance's dial is left unanswered: it is still starting, for ever
    const hosts = new FunctionHosts({ size: 1, attach: (ch) => void (++dials === 1 && z.attach(ch)), log, clock });
    try {
      const spinner = hosts.instance('function "spinner"', kernelData('spinner', spin), 400);
      await spinner.start();
      void hosts.instance('function "loading"', { ...kernelData('loading', spin), observe: ['gps'] }, 400).start().catch(() => {});
      await waitFor(() => dials === 2, 'the second instance to dial');
      const source = await connectSource({ name: 'fleet', zipper: z.memoryUrl });
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => z.functionLoad().find((f) => f.name === 'spinner')!.unacked, 'the fix the spinner loops on handed to it');
      // the clock moved a ping's interval (100 ms) at a time: the host answers until it is in the call
      let moved = 0;
      const stopped = () => log.said.some((l) => l.includes('has not answered'));
      await waitFor(() => ((clock.advance(100), (moved += 100)), stopped()), { what: () => `the host stopped (the clock moved ${moved} ms)`, until: (v) => v || moved > 60 * 400 });
      expect(moved).toBeLessThan(6 * 400);
      await source.close();
    } finally {
      await hosts.close();
      await z.close();
    }
  });
});

/**
 * Devices imported into a host's kernel instance (a saved state at serve's start, a wake, a rebalance) change
 * its state with no record received: its next snapshot must take them, or a neighbour's hang before its next
 * record starts it again without them. A geofence instance that has had no fix is given a donor's device
 * (v0, inside f0); the host then hangs on a spinner's fix and starts the geofence again from its snapshot.
 */
describe('a host\'s kernel instance given devices and no record since', () => {
  it('has them in its next snapshot: started again after a neighbour\'s hang, it holds them', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-moved-in-'));
    writeFileSync(join(dir, 'squares.geojson'), JSON.stringify(SQUARES));
    const fence = (name: string, tag: string): FunctionData => ({ name, observe: [tag], emit: ['out'], kernel: { kernel: 'geofence', params: { fences: 'squares.geojson', debounce: false }, baseDir: dir }, baseDir: dir });
    const z = await Zipper.start({ name: 'moved-in', listen: [], tags: { gps: 16, quiet: 17, slow: 18, out: 19, spun: 20 }, functions: [['donor', 'gps'], ['fence', 'quiet'], ['spinner', 'slow']].map(([name, tag]) => ({ name, observe: [tag], dispatch: { kind: 'balance' as const } })) });
    // one host, pinged by the real clock; snapshots as often as a ping comes
    const hosts = new FunctionHosts({ size: 1, attach: (ch) => z.attach(ch), log: keptLinesLog(), snapshotMs: 0 });
    const source = await connectSource({ name: 'fleet', zipper: z.memoryUrl });
    try {
      const [donor, moved] = [hosts.instance('function "donor"', fence('donor', 'gps'), 1000), hosts.instance('function "fence"', fence('fence', 'quiet'), 1000)];
      await Promise.all([donor.start(), moved.start(), hosts.instance('function "spinner"', kernelData('spinner', spin), 1000).start()]);
      const held = async (i: HostedInstance) => (unpack((await i.ask({ geoflux: 'held-devices' }))!) as { devices: string[] }).devices;
      source.write('gps', [crossingFix(0, 9), crossingFix(0, 11)]);
      await waitFor(() => held(donor), { what: 'v0 at the donor', until: (d) => d.includes('v0') });
      await moved.ask({ geoflux: 'import-state', bytes: [(await donor.ask({ geoflux: 'export-state' }))!] });
      expect(await held(moved)).toEqual(['v0']);

      await waitFor(() => moved.snapshot, { what: 'a snapshot of the geofence given v0', ms: 10_000 });
      // its state changed by the import alone: it has had no record
      expect((moved.stats as { received: number }).received).toBe(0);
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => moved.restarts.hung && moved.running, 'the geofence started again after its host hung');
      expect(await held(moved)).toEqual(['v0']);
    } finally {
      await source.close(0);
      await hosts.close();
      await z.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * A kernel whose state moves whole only (hotspot: no per-device export) beside a spinner in one host: its
 * snapshot is all of its state (exportAll), so the host's hang gives it back, and its cell's window counts
 * the fixes from before the hang and after (hot 8; started empty, as its failed snapshot left it, hot 3).
 */
describe('a host\'s kernel instance whose state moves whole only', () => {
  it('goes on from its last snapshot after a neighbour\'s hang, as its host\'s restart line says', { timeout: 60_000 }, async () => {
    const heat: FunctionData = { name: 'heat', observe: ['gps'], emit: ['hotspots'], kernel: { kernel: 'hotspot', params: { ...HOT_CELL, zThreshold: 1 }, baseDir: process.cwd() }, baseDir: process.cwd() };
    const z = await Zipper.start({ name: 'whole', listen: [], tags: { gps: 16, slow: 17, hotspots: 18, spun: 19 }, functions: [['heat', 'gps'], ['spinner', 'slow'], ['events', 'hotspots']].map(([name, tag]) => ({ name, observe: [tag], dispatch: { kind: 'balance' as const } })) });
    const log = keptLinesLog();
    // one host, pinged by the real clock; snapshots as often as a ping comes
    const hosts = new FunctionHosts({ size: 1, attach: (ch) => z.attach(ch), log, snapshotMs: 0 });
    const events: string[] = [];
    const collector = await connectStreamFunction({ name: 'events', observe: ['hotspots'], zipper: z.memoryUrl });
    collector.handle((in$) => in$.pipe(tap((e: HotspotEvent) => events.push(`${e.detect} ${e.count}`))));
    const source = await connectSource({ name: 'fleet', zipper: z.memoryUrl });
    try {
      const hot = hosts.instance('function "heat"', heat, 1000);
      await Promise.all([hot.start(), hosts.instance('function "spinner"', kernelData('spinner', spin), 1000).start()]);
      const stats = () => hot.stats as { received?: number; unsnapshotted?: number } | undefined;
      const write = (fixes: object[]) => source.write('gps', fixes);
      await firstFive({ write, handled: () => stats()?.received ?? 0 });
      // a snapshot of the five fixes, or its failure said (it failed silently: the restart then said "from their last snapshot" of none)
      await waitFor(() => (stats()?.unsnapshotted === 0 && hot.snapshot) || hot.cannotSnapshot, { what: 'a snapshot of the five fixes, or its failure said', ms: 10_000 });
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => hot.restarts.hung && hot.running, 'the hotspot started again after its host hung');
      await threeMore({ write, events });
      expect(events[0]).toBe('hot 8');
      expect(log.said).toContainEqual(expect.stringMatching(/^warn host thread #1: its instances start again with it: function "heat" from their last snapshot/));
      expect(hosts.stats()).toMatchObject({ restored: 1, restartedEmpty: 0 });
    } finally {
      await source.close(0);
      await collector.close();
      await hosts.close();
      await z.close();
    }
  });

  /**
   * A kernel of the user's own whose snapshot fails, with the spinner in one host; `builtin`: geoflux's own
   * beside them, so that the hang moves both apart (the moved line says it), else the host restarts with
   * both (its restart line says it). `restarted`: the line that names it as starting empty.
   */
  async function unexportedBeside(ctx: { skip(note: string): never }, builtin: boolean, restarted: RegExp) {
    // a kernel with state whose every snapshot fails (a negative size: docs/kernel-abi.md)
    const unexported = cKernel(ctx, onHeader({ name: 'unexported', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] }, `${PLAIN_EXPORTS}
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) { return 0; }
GF_EXPORT(snapshot) int32_t snapshot(void *out, int32_t cap) { return -1; }
GF_EXPORT(restore) int32_t restore(const void *in, int32_t len) { return 0; }`));
    const z = await Zipper.start({ name: 'unexported', listen: [], tags: { gps: 16, slow: 17, spun: 18, fast: 19 }, functions: [['limit', 'gps'], ['spinner', 'slow'], ['fast', 'gps']].map(([name, tag]) => ({ name, observe: [tag], dispatch: { kind: 'balance' as const } })) });
    const log = keptLinesLog();
    const hosts = new FunctionHosts({ size: 1, attach: (ch) => z.attach(ch), log, snapshotMs: 0 });
    const source = await connectSource({ name: 'fleet', zipper: z.memoryUrl });
    try {
      const limit = hosts.instance('function "limit"', { ...kernelData('limit', unexported), observe: ['gps'] }, 1000);
      const spinner = hosts.instance('function "spinner"', kernelData('spinner', spin), 1000);
      const fast = builtin ? hosts.instance('function "fast"', { name: 'fast', observe: ['gps'], emit: ['fast'], run: 'builtin:speeding', params: { limit: 5 }, baseDir: process.cwd() }, 1000) : undefined;
      await Promise.all([limit.start(), spinner.start(), fast?.start()]);
      source.write('gps', [crossingFix(0, 9)]);
      await waitFor(() => limit.cannotSnapshot, { what: () => `its snapshot's failure (${JSON.stringify(limit.stats)})`, ms: 10_000 });
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => limit.restarts.hung && limit.running, 'the kernel started again after its host hung');
      expect(log.said).toContainEqual(expect.stringMatching(/^warn function "limit": its kernel's state cannot be snapshotted \(.+\): a restart of its host thread starts it empty$/));
      expect(log.said).toContainEqual(expect.stringMatching(restarted));
      // the spinner's fix hangs a host until it is dropped as poison: the kernel is counted empty (the spinner
      // restored), once per restart it came through (one that hangs again while it starts is counted once)
      await waitFor(() => z.counters.poison, { what: 'the spinner\'s fix dropped as poison', ms: 30_000 });
      await waitFor(() => limit.running && spinner.running && (fast?.running ?? true), 'all running again');
      const { restored, restartedEmpty } = hosts.stats();
      const builtinEmpty = fast?.restarts.hung ?? 0;
      expect(restartedEmpty).toBeGreaterThan(builtinEmpty);
      expect(restartedEmpty).toBeLessThanOrEqual(limit.restarts.hung + builtinEmpty);
      expect(restored).toBeLessThanOrEqual(spinner.restarts.hung);
    } finally {
      await source.close(0);
      await hosts.close();
      await z.close();
    }
  }

  it('one whose kernel cannot export its state (its snapshot fails) is said to start empty with its host, and counted so', { timeout: 60_000 }, (ctx) =>
    unexportedBeside(ctx, false, /^warn host thread #1: its instances start again with it: function "spinner" from their last snapshot .*; function "limit" \(.+\) empty \(their kernel's state could not be snapshotted\)$/));

  it('one of the user\'s own whose kernel cannot export its state is said to start empty as it is moved apart, and counted so', { timeout: 60_000 }, (ctx) =>
    unexportedBeside(ctx, true, /^warn host thread #1 hung: function "limit", function "spinner" \(a kernel of your own\) go on from their last snapshot .*; of them, function "limit" \(.+\) starts empty: its kernel's state could not be snapshotted$/));
});
