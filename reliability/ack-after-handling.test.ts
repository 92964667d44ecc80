import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connectSource, connectStreamFunction, setLogLevel, type Source, type StreamFunction } from '../index.ts';
import { startServe, type ServeProcess } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * A frame is acked only once it was handled, and a record that kills its function costs only itself: a real
 * `geoflux serve` hosts a function whose operator holds records (then crashes from a timer), and one that a
 * single record kills every time it sees it (by leaving its thread, or by looping forever).
 */
setLogLevel('silent');

interface Run {
  serve: ServeProcess;
  source: Source;
  collector: StreamFunction;
  /** outputs per device id */
  got: Map<string, number>;
}

async function run(env: Record<string, string>, body: (r: Run) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-holes-'));
  const serve = await startServe('reliability/testdata/holes.yaml', { GEOFLUX_TEST_MARKER: join(dir, 'crashed'), GEOFLUX_TEST_STATE: join(dir, 'state'), GEOFLUX_TEST_MODE: 'exit', ...env });
  try {
    const trust = { zipper: serve.url, certHash: serve.certHash };
    const got = new Map<string, number>();
    const collector = await connectStreamFunction({ name: 'collector', observe: ['out'], ...trust });
    collector.handle((in$) => in$.pipe(tap((e: { deviceId: string }) => got.set(e.deviceId, (got.get(e.deviceId) ?? 0) + 1))));
    const source = await connectSource({ name: 'fleet', ...trust });
    await body({ serve, source, collector, got });
    await collector.close();
  } finally {
    expect(await serve.stop()).toBe(0);
  }
}

const fix = (deviceId: string, i: number) => ({ deviceId, t: Date.UTC(2026, 0, 1) + i * 1000, lon: 7.42, lat: 43.73 });

describe('a function whose operator holds records when its thread crashes', () => {
  it('is acked only for what went through: every fix comes out exactly once, nothing stays unacked', async () => {
    await run({}, async ({ serve, source, got }) => {
      const N = 2000;
      const ids = Array.from({ length: N }, (_, i) => (i === 1200 ? 'boom' : `veh-${i}`));
      // 2,000 fixes a second, into a function that takes 20 ms over each
      for (let i = 0; i < N; i += 20) {
        source.write('slow', ids.slice(i, i + 20).map(fix));
        await new Promise((r) => setTimeout(r, 10));
      }
      await waitFor(() => got.size === N, { ms: 60_000, what: () => `all ${N} fixes out of the slow function (have ${got.size})` });
      expect(serve.out.stderr).toMatch(/function "slow" crashed: Error: boom, from a timer/);
      const twice = [...got].filter(([, n]) => n !== 1);
      expect(twice, 'fixes that came out more than once').toEqual([]);
      const report = await source.close();
      expect(report.unacked).toBe(0);
    });
  }, 120_000);
});

describe('a kernel that traps on some rows', () => {
  it('drops those rows alone, and serve’s closing line says so beside the zipper’s drops', async () => {
    await run({}, async ({ serve, source, got }) => {
      // trap-on.wasm traps on a fix at 13 m/s
      source.write('trapping', Array.from({ length: 10 }, (_, i) => ({ ...fix(`veh-${i}`, i), speed: i % 2 ? 13 : 10 })));
      await waitFor(() => got.size === 5, { ms: 30_000, what: () => `the 5 fixes that do not trap (have ${got.size})` });
      // the trapping kernel has its traps counted; the functions that run no kernel have no such series
      const traps = async () => (await (await fetch(serve.metricsUrl!)).text()).match(/^geoflux_kernel_traps_total\{function="[^"]+"\} [1-9]\d*$/gm);
      expect((await waitFor(traps, 'the traps counted')).map((l) => l.split(' ')[0])).toEqual(['geoflux_kernel_traps_total{function="trapping"}']);
      const report = await source.close();
      expect(report.unacked).toBe(0);
      expect(await serve.stop()).toBe(0);
      expect(serve.out.stderr).toMatch(/done: \{.*"kernelTrappedRows":5,"kernelBadRows":0/);
    });
  }, 60_000);
});

describe.each([
  ['exit', 'leaves its thread', /function "poisoned": its thread exited \(code 3\)/],
  // the drop names how the last instance went: a hung one as hung, not by its channel that closed with it
  ['loop', 'loops forever, each time it is handed the record again', /function "poisoned": its thread has not answered for \d+ ms[\s\S]*that 3 instances died holding, the last: function "poisoned": its thread hung \(an endless loop\?\) and was stopped/],
])('a function that a record kills every time (%s: it %s)', (mode, _what, logged) => {
  it('drops that record alone, counted and logged, and handles its neighbours', async () => {
    await run({ GEOFLUX_TEST_MODE: mode }, async ({ serve, source, got }) => {
      const ids = Array.from({ length: 150 }, (_, i) => (i === 70 ? 'boom' : `veh-${i}`));
      // three frames of 50, the poison in the middle one
      for (let i = 0; i < ids.length; i += 50) source.write('poisoned', ids.slice(i, i + 50).map(fix));
      await waitFor(() => got.size === ids.length - 1, { ms: 90_000, what: () => `the 149 good fixes (have ${got.size})` });
      await waitFor(() => /dropped a fix of "boom" at \S+ \(poisoned, from \S+ seq \d+\) that 3 instances died holding/.test(serve.out.stderr), { ms: 30_000, what: 'the poison record dropped' });
      expect(got.has('boom')).toBe(false);
      expect(serve.out.stderr).toMatch(logged);
      const metrics = await (await fetch(serve.metricsUrl!)).text();
      expect(metrics).toMatch(/^geoflux_poison_records_total\{function="poisoned"\} 1$/m);
      // the neighbours it did not kill: 0, not absent
      expect(metrics).toMatch(/^geoflux_poison_records_total\{function="slow"\} 0$/m);
      const report = await source.close();
      expect(report.unacked).toBe(0);
      expect(report.dropped).toBe(0);
      // serve's closing line says what was dropped, poison included
      expect(await serve.stop()).toBe(0);
      expect(serve.out.stderr).toMatch(/done: \{.*"poison":1,"poisonRecords":1/);
    });
  }, 180_000);
});
