import { afterEach, describe, expect, it } from 'vitest';
import { filter, map } from 'rxjs';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { Zipper, type ZipperConfig } from './zipper.ts';

setLogLevel('warn');

const TOKEN = 'test-token';
const config = (listen: string[]): ZipperConfig => ({
  name: `pipeline-${Math.random().toString(36).slice(2, 8)}`,
  listen,
  token: TOKEN,
  tags: { gps: 16, speeding: 17 },
  functions: [
    { name: 'speeding', observe: ['gps'], dispatch: { kind: 'partition', key: 'deviceId' } },
    { name: 'printer', observe: ['speeding'], dispatch: { kind: 'balance' } },
  ],
});

const until = async (cond: () => boolean, what: string, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const cases: [string, string[], (z: Zipper) => string][] = [
  ['memory', [], (z) => z.memoryUrl],
  ['quic', ['quic://127.0.0.1:0'], (z) => z.listeners.find((l) => l.transport === 'quic')!.url],
  ['webtransport', ['webtransport://127.0.0.1:0/geoflux'], (z) => z.listeners.find((l) => l.transport === 'webtransport')!.url],
];

describe.each(cases)('source → zipper → sfn → zipper → sfn over %s', (_name, listen, urlOf) => {
  it('delivers every record once, in order per source', async () => {
    const z = await Zipper.start(config(listen));
    cleanup.push(() => z.close(1000));
    const zipper = urlOf(z);
    const trust = { token: TOKEN, certHash: z.tls.certHash };

    const speeding = await connectStreamFunction({ name: 'speeding', zipper, observe: ['gps'], ...trust });
    cleanup.push(() => speeding.close());
    speeding.handle(
      (in$) =>
        in$.pipe(
          filter((r: GpsRecord) => (r.speed ?? 0) > 30),
          map((r: GpsRecord) => ({ kind: 'speeding', deviceId: r.deviceId, t: r.t, speed: r.speed })),
        ),
      { emit: 'speeding' },
    );
    const seen: { deviceId: string; t: number }[] = [];
    const printer = await connectStreamFunction({ name: 'printer', zipper, observe: ['speeding'], ...trust });
    cleanup.push(() => printer.close());
    printer.handle((in$) => in$.pipe(map((a: { deviceId: string; t: number }) => seen.push(a))));

    const sources = await Promise.all(['gw-1', 'gw-2'].map((name) => connectSource({ name, zipper, ...trust })));
    cleanup.push(() => Promise.all(sources.map((s) => s.close())));
    const N = 2000;
    for (let i = 0; i < N; i++) {
      sources.forEach((s, k) => {
        const rec = { deviceId: `truck-${k}-${i % 7}`, t: i, lon: 7.42, lat: 43.73, speed: i % 2 ? 40 : 10 };
        s.write('gps', rec);
      });
      if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    }
    await until(() => seen.length === N, `${N} speeding alerts (have ${seen.length})`);
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
