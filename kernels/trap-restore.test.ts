import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { KernelRunStats } from '../sfn/kernel-batches.ts';
import { runKernel } from '../sfn/operators/run-kernel.ts';
import { GeofenceKernel, type GeofenceEvent, type GeofenceParams } from './geofence.ts';
import { loadKernelModule } from './host/load-module.ts';
import { nodeWasi } from './host/node-wasi.ts';
import type { SnapshotPolicy } from './host/kernel-runner.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';

// 40 vehicles crossing a row of five 0.01° squares eastwards, a fix a second each; one fix mid-stream traps
// the kernel (geofence-poison.wasm: the geofence kernel, but a speed over 1,000 km/s traps it)
const VEHICLES = 40;
const STEPS = 100;
const fixAt = (v: number, s: number): GpsRecord => ({ deviceId: `v${v}`, t: s * 1000, lon: -0.005 + s * 0.001 + v * 0.0001, lat: 0.002 + v * 0.0002, speed: 10 });

interface Drive {
  fixAt: (v: number, s: number) => GpsRecord;
  steps: number;
  /** the fixes of a batch: a batch is this many steps of every vehicle */
  stepsPerBatch: number;
  /** the batch in which vehicle 7's fix traps the kernel */
  poisonAt: number;
  params: Partial<GeofenceParams>;
}
// raw events (a fence crossed at 111 m/s would be an outlier to the guard); vehicle 7's fix at step 50 traps
// the kernel while every vehicle is inside fence f2
const RAW: Drive = { fixAt, steps: STEPS, stepsPerBatch: 5, poisonAt: 10, params: { debounce: false } };

const batches = ({ fixAt, steps, stepsPerBatch, poisonAt }: Drive, poison: boolean) =>
  Array.from({ length: steps / stepsPerBatch }, (_, b) => {
    const fixes: GpsRecord[] = [];
    for (let s = b * stepsPerBatch; s < (b + 1) * stepsPerBatch; s++) for (let v = 0; v < VEHICLES; v++) fixes.push(fixAt(v, s));
    if (poison && b === poisonAt) fixes[7] = { ...fixes[7], speed: 2e6 };
    return batchFromRecords(fixes);
  });

async function run(poison: boolean, snapshot?: SnapshotPolicy | false, drive: Drive = RAW) {
  const { module } = await loadKernelModule(poison ? 'kernels/build/testing/geofence-poison.wasm' : 'geofence');
  // dwell after 6 s inside: what a spare that knew only the last batch (steps 45-49) would time from step 45
  // again, and fire a second time after the trap
  const k = GeofenceKernel.create({ fences: SQUARES, detect: ['enter', 'exit', 'dwell'], dwell: 6, ...drive.params }, { module, wasi: nodeWasi, snapshot });
  const stats = new KernelRunStats();
  const events = await lastValueFrom(from(batches(drive, poison)).pipe(runKernel<GeofenceEvent>(k, { stats, log: { warn: () => {} } as never }), toArray()));
  // each vehicle crosses each fence once: one enter and one dwell per (vehicle, fence)
  const visits = new Map<string, number>();
  for (const e of events) if (e.detect !== 'exit') visits.set(`${e.deviceId} ${e.fence.id} ${e.detect}`, (visits.get(`${e.deviceId} ${e.fence.id} ${e.detect}`) ?? 0) + 1);
  return { events, visits, stats, kernel: k.stats() };
}

const lines = (events: GeofenceEvent[]) => events.map((e) => `${e.deviceId} ${e.detect} ${e.fence.id} ${e.time}`).sort();

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

  // debounced (the default): 40 vehicles east at 10 m/s across fence f0's west border, truly across at 10 s;
  // each enter is on probation for a few seconds, and the trap comes in the middle of it (step 12)
  const crossing: Drive = { fixAt: crossingFix, steps: 30, stepsPerBatch: 1, poisonAt: 12, params: {} };

  it('keeps an enter on probation across the trap: each vehicle enters once, at the time of its crossing', async () => {
    const clean = await run(false, undefined, crossing);
    const enters = clean.events.filter((e) => e.detect === 'enter');
    expect(enters).toHaveLength(VEHICLES);
    expect(new Set(enters.map((e) => e.time))).toEqual(new Set(['1970-01-01T00:00:10.000Z']));
    expect(new Set(enters.map((e) => e.confirmed! > '1970-01-01T00:00:12.000Z'))).toEqual(new Set([true])); // still pending at the trap
    // a snapshot before every batch: the one restored was taken mid-probation, and the journal after it
    // no longer holds the crossing
    const trapped = await run(true, { rows: VEHICLES }, crossing);
    expect(trapped.stats.trappedRows).toBe(1);
    expect(trapped.kernel.restores).toBe(trapped.kernel.replaced);
    // vehicle 7's fix at the trap is lost; its enter is confirmed by its next fix, as the others' are; dwell
    // is timed from the crossing too
    expect(lines(trapped.events)).toEqual(lines(clean.events));
  });

  // the same half a fix later: across at 9.5 s, between the fixes of 9 s (5 m out) and 10 s (5 m in)
  const between: Drive = { ...crossing, fixAt: (v, s) => ({ ...crossingFix(v, s), lon: crossingFix(v, s).lon + 0.000045 }) };

  it('keeps the crossing estimate of an enter on probation across the trap, not its first fix inside', async () => {
    const clean = await run(false, undefined, between);
    expect(new Set(clean.events.filter((e) => e.detect === 'enter').map((e) => e.time))).toEqual(new Set(['1970-01-01T00:00:09.500Z']));
    const trapped = await run(true, { rows: VEHICLES }, between);
    expect(trapped.kernel.restores).toBe(trapped.kernel.replaced);
    expect(lines(trapped.events)).toEqual(lines(clean.events));
  });

  it('dates the enters from the trap instead when the spare starts empty (what restoring the probation prevents)', async () => {
    const lost = await run(true, false, crossing);
    expect(lost.kernel.restores).toBe(0);
    expect(lost.events.filter((e) => e.detect === 'enter' && e.time === '1970-01-01T00:00:10.000Z').length).toBeLessThan(VEHICLES / 2);
  });
});
