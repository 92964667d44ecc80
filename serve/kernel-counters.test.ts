import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { connectSource, type Source } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition } from '../metrics/parse-exposition.ts';
import { serveWithSquares } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';

setLogLevel('silent');

/**
 * A kernel's own counters (its schema's, `counter(i)`) in serve's /metrics, per function and counter: a
 * geofence of two instances partitioned by device in the host threads, fed over QUIC, scraped over HTTP.
 */

const workflow = `name: counters
listen: [quic://127.0.0.1:0]
metrics: { port: 0 }
tags: { gps: 16, fences: 17 }
functions:
  - name: fence
    observe: [gps]
    emit: fences
    dispatch: { partition: deviceId }
    instances: 2
    host: local
    kernel: geofence
    params: { fences: squares.geojson }
`;

/** three vehicles at the squares, then v0 11 km on a second later: an outlier */
async function threeAndAnOutlier(source: Source): Promise<void> {
  source.write('gps', [
    { deviceId: 'v0', t: 0, lon: 0, lat: 0 },
    { deviceId: 'v1', t: 0, lon: 0.001, lat: 0 },
    { deviceId: 'v2', t: 0, lon: 0.002, lat: 0 },
  ]);
  expect(await source.flush(10_000)).toBe(true);
  source.write('gps', [{ deviceId: 'v0', t: 1000, lon: 0.1, lat: 0 }]);
}

/** `fence`'s geoflux_kernel_counts as /metrics says them, by counter, and a wait for them to be `expected` */
function fenceCounters(metricsUrl: string) {
  const counters = async (): Promise<Record<string, number>> =>
    Object.fromEntries(
      parseExposition(await (await fetch(metricsUrl)).text())
        .filter((s) => s.name === 'geoflux_kernel_counts' && s.labels.function === 'fence')
        .map((s) => [s.labels.counter, s.value]),
    );
  const until = (expected: object) => waitFor(counters, { what: `the fence's counters at ${JSON.stringify(expected)}`, until: (c) => JSON.stringify(c) === JSON.stringify(expected) });
  return { counters, until };
}

describe("a kernel's own counters in /metrics", () => {
  it('are geoflux_kernel_counts{function,counter}, summed over the running instances: tallies and levels alike', { timeout: 60_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(workflow);
    try {
      const source = await connectSource({ name: 'fleet', ...trust });
      // split between the instances by deviceId
      await threeAndAnOutlier(source);
      const expected = { skipped: 0, lostRows: 0, devices: 3, outliers: 1 };
      expect(await fenceCounters(served.metrics!.url).until(expected)).toEqual(expected);
      const help = (await (await fetch(served.metrics!.url)).text()).split('\n').filter((l) => l.startsWith('# TYPE geoflux_kernel_counts '));
      expect(help).toEqual(['# TYPE geoflux_kernel_counts gauge']);
      await source.close();
    } finally {
      await close();
    }
  });

  it('carry on across a replace, as the other per-function counters do: tallies kept, levels where the devices went', { timeout: 60_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(`name: replaced
listen: [quic://127.0.0.1:0]
metrics: { port: 0 }
control: { token: control-token }
tags: { gps: 16, fences: 17, events: 18 }
functions: []
`);
    try {
      const wasm = new Uint8Array(readFileSync(resolve('kernels/build/geofence.wasm')));
      const hash = createHash('sha256').update(wasm).digest('hex');
      // a new version is another module, other params or other tags: here its tags
      const deploy = (emit: string, freshState = false) =>
        controlRequest({ ...trust, token: 'control-token' }, { op: 'deploy', name: 'fence', observe: ['gps'], emit: [emit], params: { fences: 'squares.geojson' }, min: 1, max: 1, wasm, hash, freshState });
      expect(await deploy('fences')).toMatchObject({ ok: true });
      const source = await connectSource({ name: 'fleet', ...trust });
      await threeAndAnOutlier(source);
      const { counters, until } = fenceCounters(served.metrics!.url);
      expect(await until({ skipped: 0, lostRows: 0, devices: 3, outliers: 1 })).toBeTruthy();
      // v2 takes v1's devices: the outlier v1 counted stays counted, the devices are counted once, in v2
      expect(await deploy('events')).toMatchObject({ ok: true });
      expect((await counters()).outliers).toBe(1);
      source.write('gps', [{ deviceId: 'v1', t: 2000, lon: 0.2, lat: 0 }]);
      expect(await source.flush(10_000)).toBe(true);
      expect(await until({ skipped: 0, lostRows: 0, devices: 3, outliers: 2 })).toBeTruthy();
      // v3 starts empty: what v2 counted stays counted; the devices it forgot are no longer counted
      expect(await deploy('fences', true)).toMatchObject({ ok: true });
      expect((await counters()).outliers).toBe(2);
      source.write('gps', [{ deviceId: 'v2', t: 3000, lon: 0.002, lat: 0 }]);
      expect(await source.flush(10_000)).toBe(true);
      expect(await until({ skipped: 0, lostRows: 0, devices: 1, outliers: 2 })).toBeTruthy();
      await source.close();
    } finally {
      await close();
    }
  });
});
