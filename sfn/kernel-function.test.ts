import { tap } from 'rxjs';
import { expect, it } from 'vitest';
import { ZipperClient } from '../client/client.ts';
import { batchFromRecords, encodeGpsBatch } from '../codecs/gps-batch.ts';
import { packMeta } from '../codecs/metadata.ts';
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
