import { describe, expect, it } from 'vitest';
import { firstValueFrom, from, Subject, toArray } from 'rxjs';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import { batchBy } from './batch-by.ts';
import { kernel } from './kernel.ts';

const square = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];
const fences = { type: 'Feature', id: 'sq', properties: { name: 'Square' }, geometry: { type: 'Polygon', coordinates: [square] } };
const fix = (t: number, lon: number, speed = 10): GpsRecord => ({ deviceId: 'v', t: t * 1000, lon, lat: 0.5, speed });

describe('kernel operator', () => {
  it('runs batches through a built-in kernel and emits its events', async () => {
    const events = await firstValueFrom(
      from([fix(0, -1), fix(1, 0.5), fix(2, 2)]).pipe(batchBy({ max: 2 }), kernel('geofence', { fences, debounce: false }), toArray()),
    );
    expect(events.map((e: any) => `${e.detect} ${e.fence.id}`)).toEqual(['enter sq', 'exit sq']);
  });

  it('keeps batches that arrive while the kernel loads, in order', async () => {
    const in$ = new Subject<GpsRecord[]>();
    const out: string[] = [];
    const done = new Promise<void>((resolve) => in$.pipe(kernel('geofence', { fences, debounce: false })).subscribe({ next: (e: any) => out.push(e.detect), complete: resolve }));
    in$.next([fix(0, -1)]);
    in$.next([fix(1, 0.5)]);
    in$.next([fix(2, 2)]);
    in$.complete();
    await done;
    expect(out).toEqual(['enter', 'exit']);
  });

  it('runs a custom .wasm kernel that writes JSON lines, and adds where and when', async () => {
    const events = await firstValueFrom(
      from([[fix(0, 0.1, 12), fix(1, 0.2, 41.5)]]).pipe(kernel('kernels/build/testing/speed-limit.wasm', { limit: 30 }), toArray()),
    );
    expect(events).toEqual([{ kind: 'speeding', speed: 41.5, limit: 30, deviceId: 'v', time: '1970-01-01T00:00:01.000Z', point: [0.2, 0.5] }]);
  });

  it('errors the stream at once when the kernel cannot start', async () => {
    await expect(firstValueFrom(new Subject<GpsRecord[]>().pipe(kernel('geofence', { fences: 'missing.geojson' })))).rejects.toThrow(/missing.geojson: no such file/);
    await expect(firstValueFrom(new Subject<GpsRecord[]>().pipe(kernel('nope', {})))).rejects.toThrow(/unknown kernel "nope"/);
  });
});
