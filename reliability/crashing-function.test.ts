import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connectSource, connectStreamFunction, setLogLevel } from '../index.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * User code cannot take the zipper down: a real `geoflux serve` hosts a function that fails once (on the
 * fix of device "boom") in each way user code does, beside one that does not. The other function's output
 * is complete, the failing one is restarted and handles the fix it failed on, and serve exits cleanly.
 */
setLogLevel('silent');

const DEVICES = Array.from({ length: 200 }, (_, i) => (i === 120 ? 'boom' : `veh-${i}`));

describe.each([
  ['timer', 'an exception thrown from a timer', /function "flaky" crashed: Error: boom, from a timer/],
  ['rejection', 'a promise rejection nobody handles', /function "flaky" crashed: Error: boom, a rejection nobody handles/],
  ['loop', 'an endless loop', /function "flaky": its thread has not answered for \d+ ms \(an endless loop\?\): stopping it/],
])('a local function that fails with %s (%s)', (mode, _what, logged) => {
  it('is restarted and handles the fix again; the other function and serve go on untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-crash-'));
    const serve = await startServe('reliability/testdata/crash.yaml', { GEOFLUX_TEST_MODE: mode, GEOFLUX_TEST_MARKER: join(dir, 'failed-once'), GEOFLUX_TEST_STATE: join(dir, 'state') });
    try {
      const trust = { zipper: serve.url, certHash: serve.certHash };
      const got = { steady: new Map<string, number>(), flaky: new Map<string, number>() };
      const collector = await connectStreamFunction({ name: 'collector', observe: ['out'], ...trust });
      collector.handle((in$) => in$.pipe(tap((e: { by: 'steady' | 'flaky'; deviceId: string }) => got[e.by].set(e.deviceId, (got[e.by].get(e.deviceId) ?? 0) + 1))));
      const source = await connectSource({ name: 'fleet', ...trust });
      // in slices, so the failure comes in the middle of the stream, with frames before and after it
      for (let i = 0; i < DEVICES.length; i += 20) {
        source.write('gps', DEVICES.slice(i, i + 20).map((deviceId, j) => ({ deviceId, t: Date.UTC(2026, 0, 1) + (i + j) * 1000, lon: 7.42, lat: 43.73 })));
        await source.flush(30_000);
      }
      await waitFor(() => got.flaky.size === DEVICES.length, { ms: 60_000, what: 'every fix through the restarted function' });
      await waitFor(() => got.steady.size === DEVICES.length, { ms: 10_000, what: 'every fix through the steady function' });
      expect(serve.out.stderr).toMatch(logged);
      expect(serve.out.stderr).toMatch(/function "flaky": restarting in \d+ ms \(1 restarts so far\)/);
      // the steady function saw each fix once; the flaky one at least once (what it held when it failed came again)
      expect([...got.steady.values()].every((n) => n === 1)).toBe(true);
      expect(got.flaky.has('boom')).toBe(true);
      const report = await source.close();
      expect(report.unacked).toBe(0);
      await collector.close();
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  }, 120_000);
});

describe('a local function whose handler throws for one fix', () => {
  it('skips that fix only, counting it, and is not restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-crash-'));
    const serve = await startServe('reliability/testdata/crash.yaml', { GEOFLUX_TEST_MODE: 'sync', GEOFLUX_TEST_MARKER: join(dir, 'failed-once'), GEOFLUX_TEST_STATE: join(dir, 'state') });
    try {
      const trust = { zipper: serve.url, certHash: serve.certHash };
      const flaky = new Set<string>();
      const collector = await connectStreamFunction({ name: 'collector', observe: ['out'], ...trust });
      collector.handle((in$) => in$.pipe(tap((e: { by: string; deviceId: string }) => e.by === 'flaky' && flaky.add(e.deviceId))));
      const source = await connectSource({ name: 'fleet', ...trust });
      source.write('gps', DEVICES.map((deviceId, i) => ({ deviceId, t: Date.UTC(2026, 0, 1) + i * 1000, lon: 7.42, lat: 43.73 })));
      await source.flush(30_000);
      await waitFor(() => flaky.size === DEVICES.length - 1, { ms: 30_000, what: 'every other fix through the function' });
      expect(flaky.has('boom')).toBe(false);
      expect(serve.out.stderr).toMatch(/handler error, record skipped: boom, thrown by the handler/);
      expect(serve.out.stderr).not.toMatch(/restarting/);
      await source.close();
      await collector.close();
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  }, 120_000);
});

describe('a local function that crashes right after it handled its records', () => {
  it('has every record it acknowledged counted in /metrics, though its thread died before its next ping', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-crash-'));
    const serve = await startServe('reliability/testdata/crash.yaml', { GEOFLUX_TEST_MODE: 'timer', GEOFLUX_TEST_MARKER: join(dir, 'failed-once'), GEOFLUX_TEST_STATE: join(dir, 'state') });
    try {
      const source = await connectSource({ name: 'fleet', zipper: serve.url, certHash: serve.certHash });
      // one frame, "boom" last: the thread throws from a timer once the whole frame is handled and acked
      const devices = [...DEVICES.filter((d) => d !== 'boom'), 'boom'];
      source.write('gps', devices.map((deviceId, i) => ({ deviceId, t: Date.UTC(2026, 0, 1) + i * 1000, lon: 7.42, lat: 43.73 })));
      await source.flush(30_000);
      const scrape = async () => parseExposition(await (await fetch(serve.metricsUrl!)).text());
      const s = await waitFor(scrape, { until: (s) => total(s, 'geoflux_function_restarts_total', { function: 'flaky', reason: 'crash' }) === 1, ms: 30_000, what: 'the crash counted' });
      expect(total(s, 'geoflux_function_records_total', { function: 'flaky' })).toBe(devices.length);
      expect(total(s, 'geoflux_function_emitted_total', { function: 'flaky' })).toBe(devices.length);
      await source.close();
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  }, 120_000);
});
