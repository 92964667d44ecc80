import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { loadNetwork } from '../network/load-network.ts';
import { parseTrace } from '../simulators/replay/trace-formats.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { threeDevices } from './conformance.ts';
import { createGeofence, createHotspot, createMapMatch, loadKernel } from './create-kernel.ts';
import { deviceRecords, holdsNothing, wrapDevices } from './host/device-state.ts';
import { GeofenceKernel, type GeofenceEvent } from './geofence.ts';
import { KernelTrap } from './host/kernel-error.ts';
import { loadKernelModule } from './host/load-module.ts';
import { nodeWasi } from './host/node-wasi.ts';
import type { LoadedNetwork } from './kernel.ts';
import type { MapMatchEvent } from './mapmatch.ts';

// A partition moving from one instance to another mid-stream (docs/kernel-abi.md, Devices moving): the
// devices' state goes with it, so the pair of instances reports what one would have, each event once.

const STEPS = 30;
/** step s of vehicles `vs` crossing into f0 (truly across at 10 s; debounced, confirmed some seconds later) */
const step = (s: number, vs: number[]) => batchFromRecords(vs.map((v) => crossingFix(v, s)));
const line = (e: GeofenceEvent) => `${e.deviceId} ${e.detect} ${e.fence.id} ${e.time}`;
const ALL = [0, 1, 2];
/** the move comes at step 13: after the crossing, before any enter is confirmed */
const MOVE_AT = 13;

describe('geofence devices moving to another instance', () => {
  it('keep an enter on probation: each vehicle enters once, at the time of its crossing, on whichever instance has it', async () => {
    const one = await createGeofence({ fences: SQUARES });
    const whole = Array.from({ length: STEPS }, (_, s) => one.process(step(s, ALL))).flat().map(line);
    expect(whole.sort()).toEqual(['v0 enter f0 1970-01-01T00:00:10.000Z', 'v1 enter f0 1970-01-01T00:00:10.000Z', 'v2 enter f0 1970-01-01T00:00:10.000Z']);

    const x = await createGeofence({ fences: SQUARES });
    const y = await createGeofence({ fences: SQUARES });
    // y has seen a vehicle of its own first: its ids for v0 and v1 are not x's
    y.process(batchFromRecords([{ deviceId: 'w', t: 0, lon: 0.045, lat: 0.005 }]));
    const events: GeofenceEvent[] = [];
    for (let s = 0; s < MOVE_AT; s++) events.push(...x.process(step(s, ALL)));
    expect(events).toEqual([]);
    y.importDevices(x.exportDevices(['v0', 'v1']));
    expect(x.dropDevices(['v0', 'v1'])).toBe(2);
    for (let s = MOVE_AT; s < STEPS; s++) events.push(...x.process(step(s, [2])), ...y.process(step(s, [0, 1])));
    expect(events.map(line).sort()).toEqual(whole);
    expect(y.stats().devices).toBe(3);
  });

  it('date the enters from the move instead when the state stays behind (what the import prevents)', async () => {
    const x = await createGeofence({ fences: SQUARES });
    const y = await createGeofence({ fences: SQUARES });
    for (let s = 0; s < MOVE_AT; s++) x.process(step(s, ALL));
    const late = Array.from({ length: STEPS - MOVE_AT }, (_, i) => y.process(step(MOVE_AT + i, [0, 1]))).flat();
    expect(late.map(line)).toEqual(['v0 enter f0 1970-01-01T00:00:13.000Z', 'v1 enter f0 1970-01-01T00:00:13.000Z']);
  });

  it('export a selection by test (a partition), and nothing of devices never seen', async () => {
    const x = await createGeofence({ fences: SQUARES });
    for (let s = 0; s < MOVE_AT; s++) x.process(step(s, ALL));
    const y = await createGeofence({ fences: SQUARES });
    y.importDevices(x.exportDevices((d) => d !== 'v1'));
    y.importDevices(x.exportDevices(['nobody']));
    expect(y.stats().devices).toBe(2);
    expect(x.dropDevices((d) => d.startsWith('v'))).toBe(3);
    expect(x.stats().devices).toBe(0);
  });

  it('refuse what is not a geofence export of theirs, whole, naming why; the devices they hold stay', async () => {
    const x = await createGeofence({ fences: SQUARES });
    for (let s = 0; s < MOVE_AT; s++) x.process(step(s, ALL));
    const bytes = x.exportDevices(['v0', 'v1']);
    const y = await createGeofence({ fences: SQUARES });
    y.process(step(0, [2]));
    expect(() => y.importDevices(bytes.subarray(0, 3))).toThrow('not a geofence device export: it ends early');
    expect(() => y.importDevices(bytes.subarray(0, bytes.length - 1))).toThrow('not a geofence device export: a device goes on past its end');
    // the kernel's own refusal: u is on probation for f1, and a kernel of f0 alone has no fence 1
    x.process(batchFromRecords([{ deviceId: 'u', t: 0, lon: 0.025, lat: 0.005 }]));
    const f0 = await createGeofence({ fences: { ...SQUARES, features: SQUARES.features.slice(0, 1) } });
    expect(() => f0.importDevices(x.exportDevices(['u']))).toThrow('geofence state names a fence this kernel does not have');
    const m = await createHotspot({ gridWidth: 8, gridHeight: 8 });
    expect(() => m.importDevices(bytes)).toThrow('not a hotspot device export: it holds the state of kernel geofence');
    expect(y.stats().devices).toBe(1);
  });

  it('are imported (and dropped) again by the spare after a trap: the journal replays imports and drops', async () => {
    const { module } = await loadKernelModule('kernels/build/testing/geofence-poison.wasm');
    // no snapshot but the one taken by hand: what the spare restores is from before the import
    const y = GeofenceKernel.create({ fences: SQUARES }, { module, wasi: nodeWasi, snapshot: { rows: 1e9, ms: 1e12 } });
    const x = await createGeofence({ fences: SQUARES });
    for (let s = 0; s < MOVE_AT; s++) x.process(step(s, ALL));
    y.snapshot();
    y.importDevices(x.exportDevices(ALL.map((v) => `v${v}`)));
    y.dropDevices(['v2']);
    // a speed over 1,000 km/s traps the poison kernel
    expect(() => y.process(batchFromRecords([{ deviceId: 'z', t: 0, lon: 0.045, lat: 0.005, speed: 2e6 }]))).toThrow(KernelTrap);
    expect(y.stats()).toMatchObject({ replaced: 1, restores: 1, devices: 2 });
    const events = Array.from({ length: STEPS - MOVE_AT }, (_, i) => y.process(step(MOVE_AT + i, [0, 1]))).flat();
    expect(events.map(line)).toEqual(['v0 enter f0 1970-01-01T00:00:10.000Z', 'v1 enter f0 1970-01-01T00:00:10.000Z']);
  });
});

describe('mapmatch devices moving to another instance', () => {
  const KUBICKA = '../shared/data/mapmatch-kubicka/00000000';
  let network: LoadedNetwork;
  let fixes: GpsRecord[];
  beforeAll(async () => {
    network = await loadNetwork(KUBICKA);
    fixes = threeDevices(parseTrace(readFileSync(`${KUBICKA}.track`, 'utf8'), 'kubicka').records);
  });
  const byDevice = (events: MapMatchEvent[]) => {
    const m: Record<string, string[]> = {};
    for (const e of events) (m[e.deviceId] ??= []).push(JSON.stringify(e));
    return m;
  };

  it('go on matching where they were: every device’s rows are those of one instance, none twice, none missing', async () => {
    const batches = Array.from({ length: Math.ceil(fixes.length / 64) }, (_, i) => fixes.slice(i * 64, (i + 1) * 64));
    const half = Math.floor(batches.length / 2);
    const one = await createMapMatch({ network });
    const whole = [...batches.flatMap((b) => one.process(batchFromRecords(b))), ...one.flush()];

    const x = await createMapMatch({ network });
    const y = await createMapMatch({ network });
    const devices = [...new Set(fixes.map((f) => f.deviceId))];
    const moved = devices.slice(0, 2);
    const events = batches.slice(0, half).flatMap((b) => x.process(batchFromRecords(b)));
    // y matches a vehicle of its own all along: the devices it holds are not only those it imports
    const own = (b: GpsRecord[]) => ({ ...b[0], deviceId: 'own' });
    const notOwn = (e: MapMatchEvent) => e.deviceId !== 'own';
    y.process(batchFromRecords([own(batches[half - 1])]));
    const bytes = x.exportDevices(moved);
    y.importDevices(bytes);
    x.dropDevices(moved);
    const fromY: MapMatchEvent[] = [];
    for (const b of batches.slice(half)) {
      events.push(...x.process(batchFromRecords(b.filter((f) => !moved.includes(f.deviceId)))));
      fromY.push(...y.process(batchFromRecords([...b.filter((f) => moved.includes(f.deviceId)), own(b)])).filter(notOwn));
    }
    events.push(...x.flush(), ...fromY);
    // y's snapshot holds what it imported too: an instance restored from it ends the stream as y would
    const z = await createMapMatch({ network });
    z.restore(y.snapshot());
    const flushed = z.flush().filter(notOwn);
    events.push(...flushed);
    expect(Object.keys(byDevice(whole)).sort()).toEqual(devices.sort());
    expect(byDevice(events)).toEqual(byDevice(whole));
    // what the import carried shows: without it, y's rows for the same fixes are others
    const cold = await createMapMatch({ network });
    const coldRows = [...batches.slice(half).flatMap((b) => cold.process(batchFromRecords(b.filter((f) => moved.includes(f.deviceId))))), ...cold.flush()];
    expect(byDevice(coldRows)).not.toEqual(byDevice([...fromY, ...flushed]));
  });
});

describe('a kernel without state', () => {
  it('exports no device, and takes an export of none, refusing one that holds devices', async () => {
    const k = await loadKernel('kernels/build/testing/speed-limit.wasm', { limit: 10 });
    k.process([{ deviceId: 'v', t: 0, lon: 0, lat: 0, speed: 20 }]);
    const none = k.exportDevices(['v']);
    expect(deviceRecords('speeding', none).size).toBe(0);
    k.importDevices(none);
    // a frame of one device (no shared part, device 0, 4 bytes of state)
    const one = wrapDevices('speeding', Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 9, 9, 9, 9), () => 'v');
    expect(() => k.importDevices(one)).toThrow('kernel speeding keeps no state, but the export holds the state of v');
  });

  it('exports what holds nothing, which a replace by another kernel needs not hand over; a geofence holding a device does not', async () => {
    const k = await loadKernel('kernels/build/testing/speed-limit.wasm', { limit: 10 });
    k.process([{ deviceId: 'v', t: 0, lon: 0, lat: 0, speed: 20 }]);
    expect(holdsNothing(k.exportDevices(['v']))).toBe(true);
    const fence = await createGeofence({ fences: SQUARES });
    expect(holdsNothing(fence.exportDevices(['v']))).toBe(true);
    fence.process(step(0, [0]));
    expect(holdsNothing(fence.exportDevices(['v0']))).toBe(false);
    // a shared part is state too, devices or not
    expect(holdsNothing(wrapDevices('speeding', Uint8Array.of(4, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0), () => 'v'))).toBe(false);
    expect(holdsNothing(Uint8Array.of(1, 2, 3))).toBe(false);
  });
});

describe('hotspot', () => {
  it('moves its state whole only: its windows are per cell, summed over every device', async () => {
    const k = await createHotspot({ gridWidth: 8, gridHeight: 8 });
    expect(() => k.exportDevices(['v0'])).toThrow('kernel hotspot moves its state whole only (snapshot and restore; no export_devices)');
  });
});
