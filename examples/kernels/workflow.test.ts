import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connectSource, connectStreamFunction } from '../../index.ts';
import { formatAlert } from '../../alerts/format-alert.ts';
import { setLogLevel } from '../../log/logger.ts';
import { parseWorkflow } from '../../workflows/load.ts';
import { serveWorkflow } from '../../serve/serve-workflow.ts';
import { exampleKernel } from './build.ts';

setLogLevel('silent');

// as a workflow at the repository's root names them
const WORKFLOW = `name: examples
listen: [quic://127.0.0.1:0]
tags: { gps: 16, alerts: 17 }
functions:
  - name: speeding
    observe: [gps]
    emit: alerts
    host: local
    kernel: ./examples/kernels/c/speeding.wasm
    params: { limit: 90, unit: km/h }
  - name: yard
    observe: [gps]
    emit: alerts
    host: local
    kernel: ./examples/kernels/c/inside.wasm
    params: { fences: workflows/testdata/good/square.geojson }
  - name: stops
    observe: [gps]
    emit: alerts
    dispatch: { partition: deviceId }
    host: local
    kernel: ./examples/kernels/rust/stops.wasm
    params: { radius: 30, minDuration: 20 }
  - { name: collector, observe: [alerts] }
`;
const FILE = resolve('examples-kernels.yaml');

describe('kernels in C and Rust in a workflow, through a real zipper', () => {
  it('emit their rows as events: a speeding fix, the fences a fix is in, a stop and the move after it', async (ctx) => {
    for (const k of ['speeding', 'inside', 'stops'] as const) exampleKernel(ctx, k);
    // a state folder of this run's own (a serve locks its folder, and other test files serve beside this one): the
    // state the stops kernel saved last run would skip these fixes, older than its last
    const stateDir = mkdtempSync(join(tmpdir(), 'geoflux-examples-kernels-'));
    const served = await serveWorkflow({ ...parseWorkflow(WORKFLOW, FILE, {}), stateDir });
    try {
      const trust = { zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash };
      const got: Record<string, unknown>[] = [];
      const collector = await connectStreamFunction({ name: 'collector', observe: ['alerts'], ...trust });
      collector.handle((in$) => in$.pipe(map((e: Record<string, unknown>) => got.push(e))));
      const src = await connectSource({ name: 'truck', ...trust });
      // into the yard at 30.77 m/s (111 km/h), stopped there for 30 s, then out
      const t0 = Date.UTC(2026, 0, 1, 8);
      const fixes = [
        { t: 0, lon: 7.405, speed: 10 },
        { t: 1, lon: 7.415, speed: 30.77 },
        ...Array.from({ length: 30 }, (_, i) => ({ t: 2 + i, lon: 7.4151, speed: 0 })),
        { t: 40, lon: 7.425, speed: 12 },
      ].map((f) => ({ deviceId: 'truck-1', t: t0 + f.t * 1000, lon: f.lon, lat: 43.735, speed: f.speed }));
      for (const f of fixes) src.write('gps', f);
      await src.flush();
      const end = Date.now() + 20_000;
      while (got.length < 34 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      const byKind = (kind: string) => got.filter((e) => e.kind === kind);
      // its id: the function, the fix's source, device and time, a hash of the event, its kind, its place among those
      expect(byKind('speeding')).toEqual([{ kind: 'speeding', deviceId: 'truck-1', time: new Date(t0 + 1000).toISOString(), point: [7.415, 43.735], speed: 30.77, over: 5.77, id: expect.stringMatching(new RegExp(`^speeding:${src.clientId}:truck-1:${t0 + 1000}:[0-9a-f]+:speeding:0$`)) }]);
      // rounded to the cm/s where it is made: as an f32 difference it was 5.7700005, noise in every alert line
      expect(formatAlert(byKind('speeding')[0])).toContain('over=5.77 ');
      expect(byKind('inside')).toHaveLength(31);
      expect(byKind('inside')[0]).toMatchObject({ fence: { id: 'yard', name: 'Depot yard' }, deviceId: 'truck-1' });
      expect(byKind('stops').map((e) => `${e.detect} ${e.time}`)).toEqual([`stopped ${new Date(t0 + 21_000).toISOString()}`, `moved ${new Date(t0 + 40_000).toISOString()}`]);
      await src.close();
      await collector.close();
    } finally {
      await served.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('refuses a misspelt param when the function starts, naming the file, line and field', async (ctx) => {
    exampleKernel(ctx, 'speeding');
    const wf = parseWorkflow(WORKFLOW.replace('params: { limit: 90, unit: km/h }', 'params: { limt: 90 }'), FILE, {});
    await expect(serveWorkflow(wf)).rejects.toThrow(`${FILE}:10:21 functions[0].params.limt: function "speeding" could not start: kernel speeding: params.limt: unknown param (did you mean "limit"?)`);
  });
});
