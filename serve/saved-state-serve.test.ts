import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { setLogLevel } from '../log/logger.ts';
import { connectSource } from '../source/connect-source.ts';
import { cKernel } from '../testing/c-kernel.ts';
import { controlWorkflow } from '../testing/control-workflow.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { sequenceKernelSource } from '../testing/sequence-kernel.ts';
import { startServe, type ServeProcess } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * Deployed functions' state across restarts of `geoflux serve` as users run it (its own process, QUIC, the
 * MQTT sink on the embedded broker on port 0), with the sequence kernel, whose rows count each device's
 * fixes (1, 2, 3 …): a count that starts over lost the device's state. `seq` runs; `lazy` is scaled to zero
 * when serve stops, its state in no instance. A SIGTERM saves both and the restart goes on counting; a
 * kill -9 saves nothing, and the file read at the last start is gone: they start over, not from it again.
 */

setLogLevel('silent');

const workflow = controlWorkflow('persist-test', { metrics: true });
const DEVICES = ['a', 'b', 'c'];

describe('deployed functions across restarts of serve', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('keep counting after a SIGTERM, the one scaled to zero too; start over after a kill -9', { timeout: 180_000 }, async (ctx) => {
    const [seqKernel, lazyKernel] = [sequenceKernelSource(1), sequenceKernelSource(1, 'lazy')].map((src) => cKernel(ctx, src));
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-persist-'));
    dirs.push(dir);
    const file = join(dir, 'workflow.yaml');
    await writeFile(file, workflow);
    let t = Date.UTC(2026, 0, 1);

    /** serve from the file; `run` gets `send` (a fix of each device) and the counts seen per function and device */
    const served = async (run: (o: { serve: ServeProcess; send: () => void; counts: (kind: string) => Record<string, number[]> }) => Promise<void>) => {
      const serve = await startServe(file);
      const mq = await mqtt.connectAsync(serve.out.stderr.match(/MQTT: embedded broker (mqtt:\/\/\S+)/)![1]);
      const rows: { kind: string; deviceId: string; seq: number }[] = [];
      mq.on('message', (_, payload) => void rows.push(JSON.parse(payload.toString())));
      await mq.subscribeAsync('geoflux/#');
      const src = await connectSource({ name: 'gw', zipper: serve.url, certHash: serve.certHash, token: 'source-token' });
      const send = () => {
        t += 1000;
        src.write('gps', DEVICES.map((deviceId): GpsRecord => ({ deviceId, t, lon: 7.42, lat: 43.73, speed: 5 })));
      };
      const counts = (kind: string) => Object.fromEntries(DEVICES.map((d) => [d, rows.filter((r) => r.kind === kind && r.deviceId === d).map((r) => r.seq)]));
      try {
        await run({ serve, send, counts });
      } finally {
        await src.close(1000);
        await mq.endAsync(true);
      }
      return serve;
    };
    const rowsOf = (counts: Record<string, number[]>) => Object.values(counts).flat().length;

    const first = await served(async ({ serve, send, counts }) => {
      const deploy = (kernel: string, name: string, extra: string[]) =>
        runGeoflux(['deploy', kernel, '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token', '--name', name, '--observe', 'gps', '--emit', 'alerts', ...extra]);
      expect((await deploy(seqKernel, 'seq', [])).stderr).toBe('');
      expect((await deploy(lazyKernel, 'lazy', ['--min', '0', '--idle', '1'])).stderr).toBe('');
      for (let i = 0; i < 3; i++) send();
      await waitFor(() => rowsOf(counts('sequence')) + rowsOf(counts('lazy')), { what: () => `9 rows of each, got ${JSON.stringify([counts('sequence'), counts('lazy')])}`, until: (n) => n === 18 });
      await waitFor(() => serve.out.stderr, { what: '"lazy" scaled to zero', until: (e) => /function lazy\] scaled to zero/.test(e) });
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    });
    expect(first.out.stderr).toMatch(/function "seq": 3 devices' state saved to \S+seq\.state/);
    expect(first.out.stderr).toMatch(/function "lazy": 3 devices' state saved to \S+lazy\.state/);

    await served(async ({ serve, send, counts }) => {
      expect(serve.out.stderr).toMatch(/seq: 3 devices' state restored from \S+seq\.state \(saved \d{4}-/);
      expect(serve.out.stderr).toMatch(/lazy: 3 devices' state restored from \S+lazy\.state \(saved \d{4}-/);
      send();
      send();
      await waitFor(() => rowsOf(counts('sequence')) + rowsOf(counts('lazy')), { what: () => `2 more rows of each, got ${JSON.stringify([counts('sequence'), counts('lazy')])}`, until: (n) => n === 12 });
      const going = Object.fromEntries(DEVICES.map((d) => [d, [4, 5]]));
      expect([counts('sequence'), counts('lazy')]).toEqual([going, going]);
      const metrics = await (await fetch(serve.metricsUrl!)).text();
      expect(metrics).toMatch(/^geoflux_state_restored_devices_total\{function="seq"\} 3$/m);
      serve.child.kill('SIGKILL');
      await serve.exited;
    });

    const afterKill = await served(async ({ serve, send, counts }) => {
      send();
      await waitFor(() => rowsOf(counts('sequence')), { what: () => `a row of each device, got ${JSON.stringify(counts('sequence'))}`, until: (n) => n === 3 });
      expect(counts('sequence')).toEqual(Object.fromEntries(DEVICES.map((d) => [d, [1]])));
      expect(await serve.stop()).toBe(0);
    });
    expect(afterKill.out.stderr).not.toMatch(/state restored/);
  });
});
