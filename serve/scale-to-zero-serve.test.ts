import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { connectSource } from '../source/connect-source.ts';
import { cKernel } from '../testing/c-kernel.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { sequenceKernelSource } from '../testing/sequence-kernel.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { controlWorkflow } from '../testing/control-workflow.ts';

/**
 * A deployed function with `--min 0` against `geoflux serve` (QUIC, the MQTT sink on the embedded broker on
 * port 0): idle, it is scaled to zero; the next fixes are held, an instance restored from its state, and
 * the fixes processed in order, the state kept. Fixes come from a source in this process, so that the
 * function is idle between them.
 */

const workflow = controlWorkflow('zero-test', { metrics: true });

const metric = async (url: string, name: string, labels = '\\{function="seq"\\}'): Promise<number> => {
  const m = (await (await fetch(url)).text()).match(new RegExp(`^${name}${labels} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : NaN;
};
/** parked functions whose kernel a host keeps prepared for their wake */
const kept = (url: string) => metric(url, 'geoflux_host_kept_kernels', '');

describe('a deployed function scaled to zero and back', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('is parked after its idle period, and the next fixes, held, are processed in order by an instance restored with its state', { timeout: 120_000 }, async (ctx) => {
    const kernel = cKernel(ctx, sequenceKernelSource(1));
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-zero-'));
    dirs.push(dir);
    const file = join(dir, 'workflow.yaml');
    await writeFile(file, workflow);
    const serve = await startServe(file);
    const mq = await mqtt.connectAsync(serve.out.stderr.match(/MQTT: embedded broker (mqtt:\/\/\S+)/)![1]);
    const seqs = new Map<string, number[]>();
    mq.on('message', (_, payload) => {
      const r = JSON.parse(payload.toString());
      if (r.kind === 'sequence') seqs.set(r.deviceId, [...(seqs.get(r.deviceId) ?? []), r.seq]);
    });
    await mq.subscribeAsync('geoflux/#');
    const src = await connectSource({ name: 'gw', zipper: serve.url, certHash: serve.certHash, token: 'source-token' });
    let t = Date.UTC(2026, 0, 1);
    const send = (n: number) => {
      for (let i = 0; i < n; i++) {
        t += 1000;
        src.write('gps', ['a', 'b', 'c'].map((deviceId): GpsRecord => ({ deviceId, t, lon: 7.42 + i * 1e-4, lat: 43.73, speed: 5 })));
      }
    };
    const metrics = serve.metricsUrl!;
    try {
      const deployed = await runGeoflux(['deploy', kernel, '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token', '--name', 'seq', '--observe', 'gps', '--emit', 'alerts', '--min', '0', '--idle', '1']);
      expect(deployed.stderr).toBe('');
      send(5);
      await waitFor(() => [...seqs.values()].flat().length === 15, { what: () => `15 rows, got ${JSON.stringify([...seqs])}` });
      await waitFor(() => metric(metrics, 'geoflux_function_scaled_to_zero'), { what: 'the function scaled to zero', until: (v) => v === 1 });
      expect(serve.out.stderr).toMatch(/scaled to zero after 1 s without a frame/);
      expect(await kept(metrics)).toBe(1);
      const listed = await runGeoflux(['functions', '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token']);
      expect(listed.stdout).toMatch(/^seq\s+deployed\s+[0-9a-f]{12}\s+gps\s+alerts\s+0 \(0-1\)$/m);

      send(5);
      await waitFor(() => [...seqs.values()].flat().length === 30, { what: () => `30 rows, got ${JSON.stringify([...seqs])}` });
      expect(Object.fromEntries(seqs)).toEqual(Object.fromEntries(['a', 'b', 'c'].map((d) => [d, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])));
      expect(await metric(metrics, 'geoflux_function_cold_starts_total')).toBe(1);
      expect(await metric(metrics, 'geoflux_function_cold_start_seconds_total')).toBeGreaterThan(0);
      expect(serve.out.stderr).toMatch(/started again from zero: \d+ ms from the first frame held to its instance ready/);
      // its wake took what its host kept; parked again, then undeployed, its host lets it go
      await waitFor(() => metric(metrics, 'geoflux_function_scale_to_zero_total'), { what: 'the function scaled to zero again', until: (v) => v === 2 });
      expect(await kept(metrics)).toBe(1);
      const gone = await runGeoflux(['undeploy', 'seq', '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token']);
      expect(gone.stderr).toBe('');
      expect(await kept(metrics)).toBe(0);
    } finally {
      await src.close(1000);
      await mq.endAsync(true);
      await serve.stop();
    }
  });
});
