import { describe, expect, it } from 'vitest';
import { filter, map } from 'rxjs';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import { breathe, later, TOKEN, TRANSPORTS, testConfig } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from './zipper.ts';

describe.each(TRANSPORTS)('source → zipper → sfn → zipper → sfn over %s', (_name, listen, urlOf) => {
  it('delivers every record once, in order per source', async () => {
    const z = later(
      await Zipper.start(
        testConfig(listen, [
          { name: 'speeding', observe: ['gps'], dispatch: { kind: 'partition', key: 'deviceId' } },
          { name: 'printer', observe: ['speeding'], dispatch: { kind: 'balance' } },
        ]),
      ),
    );
    const zipper = urlOf(z);
    const trust = { token: TOKEN, certHash: z.tls.certHash };

    const speeding = later(await connectStreamFunction({ name: 'speeding', zipper, observe: ['gps'], ...trust }));
    speeding.handle(
      (in$) =>
        in$.pipe(
          filter((r: GpsRecord) => (r.speed ?? 0) > 30),
          map((r: GpsRecord) => ({ kind: 'speeding', deviceId: r.deviceId, t: r.t, speed: r.speed })),
        ),
      { emit: 'speeding' },
    );
    const seen: { deviceId: string; t: number }[] = [];
    const printer = later(await connectStreamFunction({ name: 'printer', zipper, observe: ['speeding'], ...trust }));
    printer.handle((in$) => in$.pipe(map((a: { deviceId: string; t: number }) => seen.push(a))));

    const sources = await Promise.all(['gw-1', 'gw-2'].map(async (name) => later(await connectSource({ name, zipper, ...trust }))));
    const N = 2000;
    for (let i = 0; i < N; i++) {
      sources.forEach((s, k) => {
        const rec = { deviceId: `truck-${k}-${i % 7}`, t: i, lon: 7.42, lat: 43.73, speed: i % 2 ? 40 : 10 };
        s.write('gps', rec);
      });
      if (i % 256 === 255) await breathe();
    }
    await waitFor(() => seen.length === N, { what: () => `${N} speeding alerts (have ${seen.length})` });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.length).toBe(N);
    for (const k of [0, 1]) {
      for (let d = 0; d < 7; d++) {
        const ts = seen.filter((a) => a.deviceId === `truck-${k}-${d}`).map((a) => a.t);
        expect(ts).toEqual([...ts].sort((a, b) => a - b));
      }
    }
    expect(new Set(seen.map((a) => `${a.deviceId}@${a.t}`)).size).toBe(N);
    expect(speeding.stats().duplicates).toBe(0);
    for (const s of sources) expect(await s.flush(5000)).toBe(true);
  });
});
