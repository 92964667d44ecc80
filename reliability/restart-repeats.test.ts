import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { connectSource, setLogLevel } from '../index.ts';
import { freeUdpPort } from '../testing/free-port.ts';
import { startMosquitto } from '../testing/mosquitto-process.ts';
import { startServe } from '../testing/serve-process.ts';
import { MOSQUITTO, requireTool } from '../testing/system-tool.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * A serve stopped (SIGTERM) while a slow function is behind its source, and started again: the source resends
 * what was not acknowledged, the functions make those alerts again with the same ids, and the sinks, which
 * kept the ids they published in the state folder, publish none of them twice.
 */
setLogLevel('silent');

const fix = (i: number) => ({ deviceId: `veh-${i % 20}`, t: Date.UTC(2026, 0, 1) + i * 10, lon: 7.42, lat: 43.73, speed: 10 });

describe('alerts across a serve restart', () => {
  it('carry ids made of what made them, and a restarted serve publishes none twice', async (ctx) => {
    requireTool(ctx, MOSQUITTO);
    const broker = await startMosquitto();
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-repeats-'));
    const env = { GEOFLUX_TEST_LISTEN: `quic://127.0.0.1:${await freeUdpPort()}`, GEOFLUX_TEST_STATE: join(dir, 'state'), GEOFLUX_TEST_MQTT: broker.url };
    const ids = new Map<string, number>();
    const sub = await mqtt.connectAsync(broker.url);
    sub.on('message', (_, payload) => {
      const id = String((JSON.parse(payload.toString()) as { id?: string }).id);
      ids.set(id, (ids.get(id) ?? 0) + 1);
    });
    await sub.subscribeAsync('#', { qos: 1 });
    let serve = await startServe('reliability/testdata/repeats.yaml', env);
    const source = await connectSource({ name: 'gw', zipper: serve.url, certHash: serve.certHash, maxBackoff: 300 });
    const N = 3000;
    let i = 0;
    const writeSome = async (n: number) => {
      for (const end = i + n; i < end; i += 20) {
        source.write('gps', Array.from({ length: 20 }, (_, j) => fix(i + j)));
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    try {
      await writeSome(1500);
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      const firstRun = ids.size;
      serve = await startServe('reliability/testdata/repeats.yaml', env);
      await writeSome(N - 1500);
      expect(await source.close(60_000)).toMatchObject({ unacked: 0, dropped: 0 });
      await waitFor(() => ids.size === 2 * N, { ms: 60_000, what: `an alert from each function for each of the ${N} fixes (${ids.size} so far)` });
      expect(firstRun).toBeGreaterThan(0);
      // the source's resends to the new serve make its ids again: it names them
      expect(ids.get(`speed:${source.clientId}:veh-3:${fix(3).t}:speeding:0`)).toBe(1);
      expect(ids.get(`slow:${source.clientId}:veh-3:${fix(3).t}:slow:0`)).toBe(1);
      expect([...ids].filter(([, n]) => n > 1)).toEqual([]);
      const metrics = await (await fetch(serve.metricsUrl!)).text();
      // the resends were there, and dropped at the sink: counted and said
      expect(Number(/^geoflux_sink_duplicates_dropped_total\{sink="alerts-out"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
      expect(serve.out.stderr).toMatch(/\[sink alerts-out\] dropped an event published before \(id "(speed|slow):[^:]+:veh-/);
    } finally {
      await sub.endAsync(true);
      await serve.stop();
      await broker.stop();
    }
  }, 180_000);
});
