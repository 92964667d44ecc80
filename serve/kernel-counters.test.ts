import { describe, expect, it } from 'vitest';
import { connectSource } from '../index.ts';
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

describe("a kernel's own counters in /metrics", () => {
  it('are geoflux_kernel_counts{function,counter}, summed over the running instances: tallies and levels alike', { timeout: 60_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(workflow);
    try {
      const source = await connectSource({ name: 'fleet', ...trust });
      // three vehicles, split between the instances by deviceId; v0's second fix is 11 km on a second later: an outlier
      source.write('gps', [
        { deviceId: 'v0', t: 0, lon: 0, lat: 0 },
        { deviceId: 'v1', t: 0, lon: 0.001, lat: 0 },
        { deviceId: 'v2', t: 0, lon: 0.002, lat: 0 },
      ]);
      expect(await source.flush(10_000)).toBe(true);
      source.write('gps', [{ deviceId: 'v0', t: 1000, lon: 0.1, lat: 0 }]);
      const counters = async () =>
        Object.fromEntries(
          parseExposition(await (await fetch(served.metrics!.url)).text())
            .filter((s) => s.name === 'geoflux_kernel_counts' && s.labels.function === 'fence')
            .map((s) => [s.labels.counter, s.value]),
        );
      const expected = { skipped: 0, lostRows: 0, devices: 3, outliers: 1 };
      expect(await waitFor(counters, { what: `the fence's counters at ${JSON.stringify(expected)}`, until: (c) => JSON.stringify(c) === JSON.stringify(expected) })).toEqual(expected);
      const help = (await (await fetch(served.metrics!.url)).text()).split('\n').filter((l) => l.startsWith('# TYPE geoflux_kernel_counts '));
      expect(help).toEqual(['# TYPE geoflux_kernel_counts gauge']);
      await source.close();
    } finally {
      await close();
    }
  });
});
