import { describe, expect, it, vi } from 'vitest';
import { batchFromRecords } from '../../codecs/gps-batch.ts';
import { createKernel } from '../create-kernel.ts';
import { KernelBatches } from '../../sfn/kernel-batches.ts';
import { IsolatedKernel, KernelTimeout } from './isolated-kernel.ts';

const square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];
const fences = { type: 'Feature', id: 'sq', properties: {}, geometry: { type: 'Polygon', coordinates: [square] } };
const fixes = (speeds: number[]) => batchFromRecords(speeds.map((speed, i) => ({ deviceId: 'v', t: i * 1000, lon: i === 1 ? 0.5 : -1, lat: 0.5, speed })));

describe('a kernel in its own thread', () => {
  it('gives the same events as in this thread', async () => {
    const here = await createKernel('geofence', { fences });
    const there = await IsolatedKernel.create('geofence', { fences }, { timeout: 5000 });
    expect(await there.process(fixes([1, 1, 1]))).toEqual(await here.process(fixes([1, 1, 1])));
    await there.close();
  });

  it('moves devices out and in through the kernel runner (KernelBatches) as one in this thread does', async () => {
    // v is inside the square, on probation (debounced): what moves is that probation
    const there = new KernelBatches(IsolatedKernel.create('geofence', { fences }, { timeout: 5000 }));
    const here = new KernelBatches(createKernel('geofence', { fences }));
    const inside = (t: number) => batchFromRecords([{ deviceId: 'v', t, lon: 0.5, lat: 0.5, speed: 1 }]);
    await there.run(inside(0));
    await here.importDevices(await there.exportDevices(['v']));
    expect(await there.dropDevices(['v'])).toBe(1);
    expect(await here.run(inside(10_000))).toEqual([expect.objectContaining({ detect: 'enter', deviceId: 'v', time: '1970-01-01T00:00:00.000Z' })]);
    await expect(new KernelBatches(createKernel('hotspot', {})).exportDevices(['v'])).rejects.toThrow('kernel hotspot moves its state whole only');
    there.close();
  });

  it('stops a call that runs past its time limit, and the next call runs on a fresh thread', async () => {
    const k = await IsolatedKernel.create('kernels/build/testing/spin.wasm', {}, { timeout: 300 });
    await expect(k.process(fixes([5, -1, 5]))).rejects.toThrow(KernelTimeout);
    expect(k.replaced).toBe(1);
    expect(await k.process(fixes([5, 5]))).toEqual([]);
    await k.close();
  });

  it('reports a kernel that cannot start', async () => {
    await expect(IsolatedKernel.create('geofence', { fences: 'nope.geojson' }, { timeout: 1000 })).rejects.toThrow(/nope.geojson: no such file/);
  });
});

describe('a checker (a serve checking its deploys)', () => {
  const passes = (results: { ok: boolean }[]) => results.length > 0 && results.every((r) => r.ok);

  it('checks module after module on one thread, and stops that thread once idle', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const k = IsolatedKernel.checker({ timeout: 60_000 }, 10_000);
    try {
      expect(passes(await k.checkOn('geofence', { fences }))).toBe(true);
      expect(passes(await k.checkOn('hotspot', {}))).toBe(true);
      expect(k.started).toBe(1);
      vi.advanceTimersByTime(10_000);
      expect(passes(await k.checkOn('geofence', { fences }))).toBe(true);
      expect(k.started).toBe(2);
    } finally {
      await k.close();
      vi.useRealTimers();
    }
  });

  it('takes two checks at once one after the other, each on its own module', async () => {
    const k = IsolatedKernel.checker({ timeout: 60_000 });
    try {
      const [fence, missing] = await Promise.allSettled([k.checkOn('geofence', { fences }), k.checkOn('geofence', { fences: 'nope.geojson' })]);
      expect(fence.status === 'fulfilled' && passes(fence.value)).toBe(true);
      expect(missing).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/nope\.geojson: no such file/) } });
    } finally {
      await k.close();
    }
  });

  it('rejects a call in flight when closed, and its time limit then does nothing', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const k = await IsolatedKernel.create('kernels/build/testing/spin.wasm', {}, { timeout: 5000 });
    try {
      const call = expect(k.process(fixes([5, -1, 5]))).rejects.toThrow(/closed while a call ran/);
      await new Promise((r) => setImmediate(r));
      await k.close();
      await call;
      vi.advanceTimersByTime(5000);
      expect(k.replaced).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops a check that hangs, and checks the next module on a fresh thread', async () => {
    // the suite on geofence takes ~25 ms; a loaded machine's must still fit
    const k = IsolatedKernel.checker({ timeout: 2000 });
    try {
      const spins = [5, -1, 5].map((speed, i) => ({ deviceId: 'v', t: i * 1000, lon: 0, lat: 0, speed }));
      // named by the caller, as the user knows it: a serve's deploy checks its stored copy, which no user typed
      const hung = k.checkOn('kernels/build/testing/spin.wasm', {}, spins);
      await expect(hung).rejects.toThrow(KernelTimeout);
      await expect(hung).rejects.toThrow(/^a call did not return within 2000 ms; its thread was stopped$/);
      expect(passes(await k.checkOn('geofence', { fences }))).toBe(true);
      expect(k.replaced).toBe(1);
    } finally {
      await k.close();
    }
  });
});
