import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connectSource, connectStreamFunction } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { crossingFix } from '../testing/fence-squares.ts';
import { serveWithSquares } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import type { HostedInstance } from './function-hosts.ts';
import { workflowMetrics } from './workflow-metrics.ts';

setLogLevel('silent');

/**
 * Two kernel functions in one host thread (`hosts: 1`): a geofence, and a kernel of the user's own that loops
 * for ever on a fix over 100 m/s (kernels/assembly/testing/spin.ts). A fix that hangs the spinner hangs the
 * host: its watchdog stops it and it starts again with the geofence, given back the state of its last
 * snapshot, so that a vehicle inside a fence before the hang is not said to enter it again after it; the
 * spinner goes on in a host kept apart, where its frame is redelivered until it is dropped as poison (the
 * third hang), without restarting the geofence again.
 */

const workflow = `name: hosts
listen: [quic://127.0.0.1:0]
hosts: 1
tags: { gps: 16, slow: 17, fences: 18, spun: 19 }
functions:
  - name: fence
    observe: [gps]
    emit: fences
    dispatch: { partition: deviceId }
    host: local
    kernel: geofence
    timeout: 1500
    params: { fences: squares.geojson, debounce: false }
  - name: spinner
    observe: [slow]
    emit: spun
    host: local
    kernel: ${resolve('kernels/build/testing/spin.wasm')}
    timeout: 1500
  - name: collector
    observe: [fences]
    host: remote
`;

describe('a host thread whose kernel call hangs', () => {
  it('is stopped and started again; the hung frame is dropped as poison after three hangs, its neighbour keeps its state from its snapshot and is restarted once', { timeout: 120_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(workflow);
    try {
      expect(served.hosts.stats().threads).toBe(1);
      const events: string[] = [];
      const collector = await connectStreamFunction({ name: 'collector', observe: ['fences'], ...trust });
      collector.handle((in$) => in$.pipe(tap((e: { detect: string; fence: { id: string } }) => events.push(`${e.detect} ${e.fence.id}`))));
      const source = await connectSource({ name: 'fleet', ...trust });
      const fence = served.functionThreads.find((t) => t.fn === 'fence')!.thread as HostedInstance;

      // v0 drives into f0 (at 10 s) and its state is in a snapshot: the first comes 30 s after the host started it
      source.write('gps', Array.from({ length: 13 }, (_, s) => crossingFix(0, s)));
      await waitFor(() => events.includes('enter f0'), { what: 'the enter of f0' });
      await waitFor(() => fence.stats as { received?: number; unsnapshotted?: number } | undefined, { what: 'a snapshot of every fix', until: (s) => s?.received === 13 && s.unsnapshotted === 0, ms: 60_000 });
      const devices = async () => total(parseExposition(await workflowMetrics(served).metrics()), 'geoflux_kernel_counts', { function: 'fence', counter: 'devices' });
      expect(await devices()).toBe(1);

      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => served.zipper.counters.poison, { what: 'the hanging frame dropped as poison', ms: 60_000 });
      await waitFor(() => fence.running, 'the geofence running again');
      // restored, each once it has started: both after the first hang (the spinner into a host of its own),
      // then the spinner alone, less when a hang comes while it is still starting
      await waitFor(() => served.hosts.stats().threads === 2, 'the spinner\'s host apart running again after its last hang');
      await waitFor(() => served.hosts.stats().restored, { what: 'the geofence and the spinner started again', until: (n) => n >= 2 });
      expect(served.hosts.stats()).toMatchObject({ threads: 2, rolledBack: 0 });
      expect(fence.restarts.hung).toBe(1);
      // `geoflux logs`: serve's lines of the hang, the restarts and the drop are the functions' they are about,
      // a host's restart those of the functions it hosts then
      const said = (fn: string) => served.logs.since(fn).lines.join('\n');
      expect(said('spinner')).toMatch(/WARN  \[serve\] host thread #1 hung: function "spinner" \(a kernel of your own\) goes on from its last snapshot/);
      expect(said('spinner')).toMatch(/WARN  \[serve\] host thread #\d+ \(kernels of your own, kept apart\): restarting in \d+ ms/);
      expect(said('spinner')).toMatch(/WARN  \[zipper hosts\] function "spinner": dropped a fix of "runaway" .* that 3 instances died holding/);
      expect(said('fence')).toMatch(/WARN  \[serve\] host thread #1: restarting in \d+ ms \(1 restarts so far\)/);
      expect(said('fence')).toMatch(/WARN  \[serve\] host thread #1: its instances start again with it: function "fence" from their last snapshot/);
      expect(said('fence')).not.toMatch(/spinner|kept apart/);

      // still inside f0, then out of it: no second enter
      source.write('gps', [crossingFix(0, 13), crossingFix(0, 14), { ...crossingFix(0, 15), lon: -0.005 }]);
      await waitFor(() => events.includes('exit f0'), { what: 'the exit of f0', ms: 30_000 });
      expect(events).toEqual(['enter f0', 'exit f0']);
      // the kernel's own count of devices is the restored instance's: v0, once, not again for each incarnation
      expect(await devices()).toBe(1);
      await source.close();
      await collector.close();
    } finally {
      await close();
    }
  });
});

describe('a host thread that hangs right after a neighbour acknowledged its fixes', () => {
  it('leaves those fixes counted in /metrics: the acks carried the counts the next ping would have', { timeout: 120_000 }, async () => {
    // a 4 s watchdog: pings once a second, so none is likely to come between the fence's acks and the hang
    const { served, trust, close } = await serveWithSquares(workflow.replaceAll('timeout: 1500', 'timeout: 4000'));
    try {
      const source = await connectSource({ name: 'fleet', ...trust });
      const fence = served.functionThreads.find((t) => t.fn === 'fence')!.thread as HostedInstance;
      const unacked = () => served.zipper.functionLoad().find((f) => f.name === 'fence')!.unacked;
      source.write('gps', Array.from({ length: 13 }, (_, s) => crossingFix(0, s)));
      await waitFor(() => served.zipper.stats().tagsOut.gps?.records === 13 && unacked() === 0, { what: 'the fence to ack its 13 fixes', every: 1 });
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => fence.restarts.hung, { what: 'the host hung and restarted', ms: 60_000 });
      const text = await workflowMetrics(served).metrics();
      expect(total(parseExposition(text), 'geoflux_function_records_total', { function: 'fence' })).toBe(13);
      await source.close();
    } finally {
      await close();
    }
  });
});

/**
 * A kernel of the user's own with an instance in each of two shared hosts (`hosts: 2`, each beside a geofence
 * instance). What the code means: a hang moves the user's kernels of the host that hung, not every instance
 * of their function (the other host did not hang: its neighbours need not restart); the function is then
 * kept apart, so that its instance in the other host goes apart at that host's first hang, not later. The
 * spinner's fixes go to whichever of its instances is joined and least loaded (dispatch: balance, the default).
 */
const twoHosts = workflow.replace('hosts: 1', 'hosts: 2').replaceAll('    host: local\n', '    instances: 2\n    host: local\n');

describe('a kernel of the user\'s own with an instance in each of two shared hosts', () => {
  it('moves each instance apart at the first hang of its own host, not before: each geofence is restarted once', { timeout: 120_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(twoHosts);
    try {
      const instances = (fn: string) => served.functionThreads.filter((t) => t.fn === fn).map((t) => t.thread as HostedInstance);
      const [fences, spinners] = [instances('fence'), instances('spinner')];
      expect(served.hosts.stats().threads).toBe(2);
      const source = await connectSource({ name: 'fleet', ...trust });
      // one fix that hangs its spinner: its host hangs, then (handed on to the only spinner still joined) the
      // other host, then a host apart, and it is dropped as poison
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => served.zipper.counters.poison, { what: 'the hanging fix dropped as poison', ms: 60_000 });
      // both spinners apart, one host apart each; each geofence restarted once, by its own host's hang (both
      // spinners moved at the first hang would have spared the second host its hang: [1, 0])
      await waitFor(() => served.hosts.stats().threads === 4, { what: () => `two shared hosts and two apart running (${JSON.stringify(served.hosts.stats())})`, ms: 30_000 });
      expect(spinners.map((s) => s.restarts.hung >= 1)).toEqual([true, true]);
      expect(fences.map((f) => f.restarts.hung)).toEqual([1, 1]);
      await waitFor(() => fences.every((f) => f.running), 'the geofences running again');
      await source.close();
    } finally {
      await close();
    }
  });
});

describe('instances started again after a hang', () => {
  it('count as restored once each has started with its state, not when a start that fails is tried', { timeout: 120_000 }, async () => {
    // the spinner's kernel in a file of its own: gone, its start in a host apart fails
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-restored-'));
    const spinner = join(dir, 'spin.wasm');
    copyFileSync(resolve('kernels/build/testing/spin.wasm'), spinner);
    const { served, wf, trust, close } = await serveWithSquares(workflow.replace(resolve('kernels/build/testing/spin.wasm'), spinner));
    try {
      const source = await connectSource({ name: 'fleet', ...trust });
      source.write('gps', [crossingFix(0, 9)]);
      const fence = served.functionThreads.find((t) => t.fn === 'fence')!.thread as HostedInstance;
      await waitFor(() => (fence.stats as { received?: number } | undefined)?.received === 1, 'the geofence to take its fix');
      // neither can start again: the geofence's fences and the spinner's kernel are gone
      rmSync(join(wf.dir, 'squares.geojson'));
      rmSync(dir, { recursive: true });
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(() => served.hosts.stats().failedStarts, { what: 'both failed starts counted', until: (n) => n === 2, ms: 60_000 });
      expect(served.hosts.stats()).toMatchObject({ restored: 0, failedStarts: 2 });
      await source.close(0);
    } finally {
      await close();
    }
  });
});

/**
 * The trial's hanging kernel: one fix that hangs a kernel of the user's own, inside a frame of many fixes of
 * other devices. The first hang blames the frame and splits it into parts; a batch handler takes the parts
 * that came while its last call ran in one call, so a hang there was blamed on the oldest part of the call, an
 * innocent one, one hang per innocent part (10 restarts in the trial, 2½ minutes of the function held back).
 * Each hang must blame the record that made it, so the fix is dropped after 3, and the function goes on.
 */
describe('a kernel of the user\'s own that hangs on one fix of a frame of many', () => {
  it('drops that fix after three hangs, whatever frames the parts of its frame share a call with, and goes on with the rest', { timeout: 120_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(workflow);
    try {
      const spinner = served.functionThreads.find((t) => t.fn === 'spinner')!.thread as HostedInstance;
      const source = await connectSource({ name: 'fleet', ...trust });
      const fix = (i: number, speed = 1) => ({ deviceId: `v${i}`, t: i * 1000, lon: 1, lat: 1, speed });
      source.write('slow', Array.from({ length: 20 }, (_, i) => fix(i, i === 10 ? 150 : 1)));
      await waitFor(() => served.zipper.counters.poison > 0 || spinner.restarts.hung > 3, { what: 'the hanging fix dropped as poison', ms: 90_000 });
      expect(spinner.restarts.hung).toBeLessThanOrEqual(3);
      // it goes on: a later fix is handled (by an instance started after the last hang, whose count is then final)
      const accepted = served.zipper.counters.accepted;
      source.write('slow', [fix(20)]);
      await waitFor(() => served.zipper.counters.accepted > accepted && served.zipper.inflight === 0, { what: 'the later fix handled', ms: 60_000 });
      expect({ hangs: spinner.restarts.hung, poison: served.zipper.counters.poisonRecords }).toEqual({ hangs: 3, poison: 1 });
      await source.close();
    } finally {
      await close();
    }
  });
});
