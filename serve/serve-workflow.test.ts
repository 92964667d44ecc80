import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { connectSource, connectStreamFunction } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');

describe('serveWorkflow', () => {
  it('hosts kernel functions from workflow.yaml: a built-in geofence and a custom .wasm on wasmer', async () => {
    // a state folder of this run's own: the geofence's state saved by the last run would skip these fixes (older than its last)
    const stateDir = mkdtempSync(join(tmpdir(), 'geoflux-kernels-'));
    const wf = { ...(await loadWorkflow('workflows/testdata/good/kernels.yaml', {})), stateDir };
    const served = await serveWorkflow(wf);
    try {
      const zipper = served.zipper.listeners[0].url;
      const trust = { zipper, certHash: served.zipper.tls.certHash };
      const got: Record<string, unknown>[] = [];
      const collector = await connectStreamFunction({ name: 'collector', observe: ['alerts'], ...trust });
      collector.handle((in$) => in$.pipe(map((e: Record<string, unknown>) => got.push(e))));
      const src = await connectSource({ name: 'truck', ...trust });
      src.write('gps', [
        { deviceId: 'truck-1', t: 0, lon: 7.405, lat: 43.735, speed: 10 },
        { deviceId: 'truck-1', t: 1000, lon: 7.415, lat: 43.735, speed: 35 },
        { deviceId: 'truck-1', t: 2000, lon: 7.425, lat: 43.735, speed: 12 },
      ]);
      const end = Date.now() + 20_000;
      while (got.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      const lines = got.map((e) => (e.kind === 'geofence' ? `${e.detect} ${(e.fence as { id: string }).id}` : `${e.kind} ${e.speed}`));
      expect(lines.sort()).toEqual(['enter yard', 'exit yard', 'speeding 35']);
      await src.close();
      await collector.close();
    } finally {
      await served.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
