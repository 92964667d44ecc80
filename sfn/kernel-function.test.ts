import { tap } from 'rxjs';
import { expect, it } from 'vitest';
import { ZipperClient } from '../client/client.ts';
import { batchFromRecords, encodeGpsBatch } from '../codecs/gps-batch.ts';
import { packMeta } from '../codecs/metadata.ts';
import type { HotspotEvent } from '../kernels/hotspot.ts';
import { logger } from '../log/logger.ts';
import { later, testConfig, TOKEN } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from '../zipper/zipper.ts';
import { connectStreamFunction } from './connect-stream-function.ts';
import { startFunctionModule } from './function-module.ts';
import { kernelFunction } from './kernel-function.ts';

// one fix a vehicle: raw events (a debounced enter waits for the state to hold)
const depot = { type: 'Feature', id: 'depot', properties: { name: 'Depot', radius: 500 }, geometry: { type: 'Point', coordinates: [7.42, 43.73] } };

it('a raw writer’s fix with a time out of 1970–2100 costs only its own row before the kernel, counted; the rest of its frame and the others’ arrive', async () => {
  const z = later(await Zipper.start(testConfig([], [
    { name: 'yard', observe: ['gps'], dispatch: { kind: 'balance' } },
    { name: 'watch', observe: ['out'], dispatch: { kind: 'balance' } },
  ])));
  const conn = { zipper: z.memoryUrl, token: TOKEN };
  const k = kernelFunction({ kernel: 'geofence', params: { fences: depot, detect: ['enter'], debounce: false }, timeout: 0, baseDir: '.' });
  later(await startFunctionModule(k, { name: 'yard', observe: ['gps'], emit: 'out' }, conn));
  const entered: string[] = [];
  const watch = later(await connectStreamFunction({ ...conn, name: 'watch', observe: ['out'] }));
  watch.handle((in$) => in$.pipe(tap((e: { deviceId: string }) => entered.push(e.deviceId))));

  // writers that skip the SDK's checks: -1e20 is finite, and 9e15 even a plausible-looking number of ms
  const bad = new Map([[17, -1e20], [33, 9e15]]);
  const writers = await Promise.all(['raw-a', 'raw-b'].map(async (name) => {
    const w = later(new ZipperClient('source', { name, ...conn }, []));
    await w.connect();
    return w;
  }));
  const sent: string[] = [];
  writers.forEach((w, j) => {
    const fixes = Array.from({ length: 51 }, (_, i) => ({ deviceId: `veh-${j}-${i}`, t: bad.get(i) ?? Date.UTC(2026, 0, 1), lon: 7.42, lat: 43.73 }));
    sent.push(...fixes.filter((f) => f.t === Date.UTC(2026, 0, 1)).map((f) => f.deviceId));
    w.writeFrame(w.tagNumber('gps'), packMeta({ ct: 'gps' }), encodeGpsBatch(batchFromRecords(fixes)), fixes.length);
  });
  for (const w of writers) expect(await w.flushed(10_000)).toBe(true);

  await waitFor(() => entered.length >= sent.length, { ms: 15_000, what: () => `${sent.length} enter events, got ${entered.length}; kernel stats ${JSON.stringify(k.stats.snapshot())}` });
  expect(new Set(entered)).toEqual(new Set(sent));
  expect(k.stats).toMatchObject({ badRows: { time: 4 }, failedRows: 0, rows: 98 });
});

it('hands its devices’ state over as a buffer of its own, not a view of the packer’s (a post to another thread clones all of the buffer behind a view)', async () => {
  const z = later(await Zipper.start(testConfig([], [{ name: 'yard', observe: ['gps'], dispatch: { kind: 'balance' } }])));
  const k = kernelFunction({ kernel: 'geofence', params: { fences: depot }, timeout: 0, baseDir: '.' });
  later(await startFunctionModule(k, { name: 'yard', observe: ['gps'] }, { zipper: z.memoryUrl, token: TOKEN }));
  const bytes = await k.devices.export();
  expect(bytes.byteLength).toBeGreaterThan(0);
  expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
});

it('moves a hotspot’s state (whole only) all of it into an instance that holds nothing yet, not into one that has taken fixes, nor into a kernel whose state moves by device', async () => {
  const params = { cellSize: 100, gridWidth: 8, gridHeight: 8, originLon: 7.42, originLat: 43.73, minCount: 1, zThreshold: 1 };
  const started = async () => {
    const k = kernelFunction({ kernel: 'hotspot', params, timeout: 0, baseDir: '.' });
    return { k, handler: await k.batches!({ name: 'heat', params: {}, log: logger('test') }) };
  };
  const fixes = (n: number, from: number) => batchFromRecords(Array.from({ length: n }, (_, i) => ({ deviceId: `v${i % 2}`, t: Date.UTC(2026, 0, 1) + (from + i) * 1000, lon: 7.4205, lat: 43.7305 })));
  const scores = (events: readonly unknown[]) => (events as HotspotEvent[]).map((e) => `${e.detect} ${e.count}`);
  const a = await started();
  await a.handler.process(fixes(5, 0));
  const all = await a.k.devices.exportAll();
  expect(all.whole).toBe(true);
  // a part of it cannot be taken: per cell, not per device
  await expect(a.k.devices.export(['v0'])).rejects.toThrow('kernel hotspot moves its state whole only');

  const fresh = await started();
  await fresh.k.devices.import(all.bytes);
  expect(fresh.k.devices.held().sort()).toEqual(['v0', 'v1']);
  expect(scores(await fresh.handler.flush!())).toEqual(['hot 5']);

  const busy = await started();
  await busy.handler.process(fixes(3, 0));
  await expect(busy.k.devices.import(all.bytes)).rejects.toThrow('a whole state goes only into an instance that holds none, and this one has the fixes of 2 devices already');
  expect(scores(await busy.handler.flush!())).toEqual(['hot 3']);

  // nor into a kernel whose state moves by device, whose restore would take another kernel's snapshot for its own
  const fence = kernelFunction({ kernel: 'geofence', params: { fences: depot }, timeout: 0, baseDir: '.' });
  await fence.batches!({ name: 'yard', params: {}, log: logger('test') });
  await expect(fence.devices.import(all.bytes)).rejects.toThrow('this kernel does not move its state whole');
});
