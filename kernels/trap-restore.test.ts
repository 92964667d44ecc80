import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { runKernel, KernelRunStats } from '../sfn/operators/run-kernel.ts';
import { GeofenceKernel, type GeofenceEvent } from './geofence.ts';
import { loadKernelModule } from './host/load-module.ts';
import { nodeWasi } from './host/node-wasi.ts';
import type { SnapshotPolicy } from './host/kernel-runner.ts';

// 40 vehicles crossing a row of five 0.01° squares eastwards, a fix a second each; one fix mid-stream traps
// the kernel (geofence-poison.wasm: the geofence kernel, but a negative speed traps it)
const square = (x: number) => [[x, 0], [x + 0.01, 0], [x + 0.01, 0.01], [x, 0.01], [x, 0]];
const FENCES = { type: 'FeatureCollection', features: [0, 1, 2, 3, 4].map((i) => ({ type: 'Feature', id: `f${i}`, properties: {}, geometry: { type: 'Polygon', coordinates: [square(i * 0.02)] } })) };
const VEHICLES = 40;
const STEPS = 100;
const fixAt = (v: number, s: number): GpsRecord => ({ deviceId: `v${v}`, t: s * 1000, lon: -0.005 + s * 0.001 + v * 0.0001, lat: 0.002 + v * 0.0002, speed: 10 });
const batches = (poison: boolean) =>
  Array.from({ length: STEPS / 5 }, (_, b) => {
    const fixes: GpsRecord[] = [];
    for (let s = b * 5; s < b * 5 + 5; s++) for (let v = 0; v < VEHICLES; v++) fixes.push(fixAt(v, s));
    // vehicle 7's fix at step 50 traps the kernel, while every vehicle is inside fence f2
    if (poison && b === 10) fixes[7] = { ...fixes[7], speed: -1 };
    return batchFromRecords(fixes);
  });

async function run(poison: boolean, snapshot?: SnapshotPolicy | false) {
  const { module } = await loadKernelModule(poison ? 'kernels/build/testing/geofence-poison.wasm' : 'geofence');
  // dwell after 6 s inside: what a spare that knew only the last batch (steps 45-49) would time from step 45
  // again, and fire a second time after the trap
  const k = GeofenceKernel.create({ fences: FENCES, detect: ['enter', 'exit', 'dwell'], dwell: 6 }, { module, wasi: nodeWasi, snapshot });
  const stats = new KernelRunStats();
  const events = await lastValueFrom(from(batches(poison)).pipe(runKernel<GeofenceEvent>(k, { stats, log: { warn: () => {} } as never }), toArray()));
  // each vehicle crosses each fence once: one enter and one dwell per (vehicle, fence)
  const visits = new Map<string, number>();
  for (const e of events) if (e.detect !== 'exit') visits.set(`${e.deviceId} ${e.fence.id} ${e.detect}`, (visits.get(`${e.deviceId} ${e.fence.id} ${e.detect}`) ?? 0) + 1);
  return { events, visits, stats, kernel: k.stats() };
}

const duplicates = (visits: Map<string, number>) => [...visits.values()].reduce((n, c) => n + c - 1, 0);

describe('a kernel that traps mid-stream', () => {
  it.each([
    ['the journal since start-up', undefined],
    // snapshots before batches 3, 6 and 9: the trap in batch 10 restores batch 9's and replays batch 9
    ['a snapshot every 500 fixes and the journal since', { rows: 500 }],
  ])('continues from the state before the trap, restored from %s: no vehicle enters a fence, or dwells in it, twice', async (_, policy) => {
    const clean = await run(false);
    const trapped = await run(true, policy as SnapshotPolicy | undefined);
    expect(trapped.stats.traps).toBeGreaterThan(1); // the batch, then the halves that hold the bad fix
    expect(trapped.stats.trappedRows).toBe(1);
    expect(trapped.kernel.restores).toBe(trapped.kernel.replaced);
    if (policy) expect(trapped.kernel.snapshots).toBeGreaterThan(2);
    expect(duplicates(trapped.visits)).toBe(0);
    // every vehicle enters and dwells in every fence once, as without the trap
    expect(trapped.visits).toEqual(clean.visits);
    expect(trapped.events.length).toBe(clean.events.length);
  });

  it('re-enters every vehicle into its fence when the spare starts empty (what the restore prevents)', async () => {
    const lost = await run(true, false);
    expect(lost.kernel.restores).toBe(0);
    expect(duplicates(lost.visits)).toBeGreaterThanOrEqual(VEHICLES - 1);
  });
});
