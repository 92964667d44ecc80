import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import { createGeofence, createKernel } from '../../kernels/create-kernel.ts';
import { setLogLevel } from '../../log/logger.ts';
import { cKernel, onHeader, PLAIN_EXPORTS } from '../../testing/c-kernel.ts';
import { ManualClock } from '../../testing/manual-clock.ts';
import { recordingLog } from '../../transport/testdata/recording-log.ts';
import { callUnderWay, runningCallCell } from '../../runtime/running-call.ts';
import { KernelBatches, KernelRunStats } from '../kernel-batches.ts';
import { runKernel } from './run-kernel.ts';

setLogLevel('silent');

const square = { type: 'Feature', id: 'sq', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] } };
const inside = (i: number): GpsRecord => ({ deviceId: `veh-${i}`, t: 1_700_000_000_000 + i, lon: 0.5, lat: 0.5, speed: 10 });

describe('a kernel over a stream: a bad row costs only itself', () => {
  it('drops and counts a fix with a NaN time, and the other 50 in its batch go on (50 enter events)', async () => {
    const batch = Array.from({ length: 51 }, (_, i) => (i === 17 ? { ...inside(i), t: NaN } : inside(i)));
    const stats = new KernelRunStats();
    const events = await firstValueFrom(from([batch]).pipe(runKernel<{ detect: string }>(createGeofence({ fences: square, detect: ['enter'], debounce: false }), { stats }), toArray()));
    expect(events.length).toBe(50);
    expect(events.every((e) => e.detect === 'enter')).toBe(true);
    expect(stats.badRows).toEqual({ time: 1 });
    expect(stats.rows).toBe(50);
  });

  it('splits a batch that traps until only the fix that traps is left, drops that one, and keeps the others', async () => {
    const batch = Array.from({ length: 64 }, (_, i) => ({ ...inside(i), speed: i === 40 ? 13 : 10 }));
    const stats = new KernelRunStats();
    const k = await createKernel('kernels/build/testing/trap-on.wasm');
    const events = await firstValueFrom(from([batch, batch.slice(0, 3)]).pipe(runKernel<{ deviceId: string }>(k, { stats }), toArray()));
    expect(events.map((e) => e.deviceId)).toEqual([...batch.filter((_, i) => i !== 40), ...batch.slice(0, 3)].map((f) => f.deviceId));
    expect(stats.trappedRows).toBe(1);
    // the whole batch, then one half at each level down to the row: 64 → 32 → 16 → 8 → 4 → 2 → 1
    expect(stats.traps).toBe(7);
  });

  it('lets its thread’s other work run between the calls that follow a trap (a host thread answers its watchdog)', async () => {
    const batch = Array.from({ length: 64 }, (_, i) => ({ ...inside(i), speed: i === 40 ? 13 : 10 }));
    const k = new KernelBatches(createKernel('kernels/build/testing/trap-on.wasm'));
    await k.loaded;
    let turns = 0;
    let more = true;
    const turn = () => {
      turns++;
      if (more) setImmediate(turn);
    };
    setImmediate(turn);
    await k.run(batch);
    more = false;
    expect(k.stats.traps).toBe(7);
    expect(turns).toBeGreaterThanOrEqual(7); // a turn of the loop after each trap at least
  });

  it('marks each call under way, where its thread\'s watchdog reads it, and no longer once it returns', async () => {
    const underWay = callUnderWay(runningCallCell());
    const geofence = await createGeofence({ fences: square, detect: ['enter'], debounce: false });
    const seen: number[] = [];
    const k = new KernelBatches({ process: (b) => (seen.push(underWay()), geofence.process(b)) });
    await k.run([inside(0)]);
    await k.run([inside(1)]);
    // each call its own number, so that a watchdog tells a long call from two in a row
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[1]).toBeGreaterThan(0);
    expect(seen[1]).not.toBe(seen[0]);
    expect(underWay()).toBe(0);
  });

  it('logs a kernel that traps on every row in two lines, the second with the count (4,096 rows were 4,096 lines)', async (ctx) => {
    // 1,024 rows, not the probe's 4,096: each of the 2n - 1 traps costs a new instance, ~4 ms here
    const schema = { name: 'trap-always', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] };
    const wasm = cKernel(ctx, onHeader(schema, `${PLAIN_EXPORTS}
GF_EXPORT(process) int32_t process(const void *batch, int32_t n, void *out, int32_t cap) { if (n > 0) __builtin_trap(); return 0; }`));
    const log = recordingLog();
    const k = new KernelBatches(createKernel(wasm), { log, clock: new ManualClock() });
    expect(await k.run(Array.from({ length: 1024 }, (_, i) => inside(i)))).toEqual([]);
    expect(k.stats).toMatchObject({ traps: 2047, trappedRows: 1024 });
    expect(log.lines).toEqual([expect.stringMatching(/^warn a fix of "veh-0" at .* traps the kernel: dropped \(kernel trapped: unreachable\)$/)]);
    await k.flush();
    expect(log.lines[1]).toMatch(/^warn … 1,023 more in the last 0 s; the last: a fix of "veh-1023" at .* traps the kernel: dropped/);
    expect(log.lines).toHaveLength(2);
  }, 60_000);

  it('logs the fixes it drops before the kernel, repeats counted', async () => {
    const log = recordingLog();
    const k = new KernelBatches(createGeofence({ fences: square }), { log, clock: new ManualClock() });
    for (let i = 0; i < 3; i++) await k.run([inside(i), { ...inside(i), t: 9e15 }]);
    k.close();
    expect(log.lines).toEqual(['warn 1 fixes unfit for the kernel dropped before it (1 time)', 'warn … 2 more in the last 0 s; the last: 1 fixes unfit for the kernel dropped before it (1 time)']);
  });

  it('emits what the kernel holds at the end of input before completing', async () => {
    const k = await createKernel('hotspot', { cellSize: 100, band: 100, window: 60, slide: 60, minCount: 1, zThreshold: -100, originLon: 0.5, originLat: 0.5 });
    const fixes = Array.from({ length: 30 }, (_, i) => ({ ...inside(i), t: 1_700_000_000_000 + i * 1000 }));
    const events = await firstValueFrom(from([fixes]).pipe(runKernel<{ kind: string }>(k), toArray()));
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.kind === 'hotspot')).toBe(true);
  });
});

describe('devices moving through the kernel runner', () => {
  it('are refused, saying so, by a kernel that cannot move them', async () => {
    const k = new KernelBatches({ process: () => [] });
    await expect(k.exportDevices(['v'])).rejects.toThrow('this kernel cannot move devices (docs/kernel-abi.md, Devices moving)');
    await expect(k.importDevices(new Uint8Array(0))).rejects.toThrow('this kernel cannot move devices');
    await expect(k.dropDevices(['v'])).rejects.toThrow('this kernel cannot move devices');
  });
});
