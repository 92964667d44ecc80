import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { connectSource } from '../source/connect-source.ts';
import { expectFenceEventsAlternate, recordRows, timeOf } from '../testing/mqtt-rows.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { controlWorkflow } from '../testing/control-workflow.ts';

/**
 * A geofence deployed with `--min 1 --max 4` into `geoflux serve` (a real zipper over QUIC, the MQTT sink on
 * the embedded broker on port 0), fed by a source in this process: under a backlog it gets instances, idle it
 * gives them back, and across every change each device's fixes go through it exactly once, in order, its
 * `enter` fired once. The workflow's `control.autoscale` shortens the rule's windows (0.25 s over a backlog of
 * 1 frame an instance, 1 s idle: a deeper or longer one the kernel, in its own thread, sometimes never let build up), so the test waits seconds, not the default 30.
 */

const GEOFENCE = resolve('kernels/build/geofence.wasm');
const DEVICES = Array.from({ length: 40 }, (_, i) => `v${i}`);
const T0 = Date.UTC(2026, 0, 1);
const FENCE = { type: 'FeatureCollection', features: [{ type: 'Feature', id: 'area', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [0.1, 0], [0.1, 0.1], [0, 0.1], [0, 0]]] } }] };

// every fix makes a row for the alerts sink: room for the flood, which the broker takes slower than the function makes it
const workflow = controlWorkflow('autoscale-test', { control: 'autoscale: { backlog: 1, up: 0.25, idle: 1 }', metrics: true, alertsParams: '{ buffer: 1000000 }' });

describe('a deployed function autoscaled by its backlog', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('scales up under a backlog and down when idle, each fix handled once, in order, no enter fired again', { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-autoscale-'));
    dirs.push(dir);
    const file = join(dir, 'workflow.yaml');
    const fences = join(dir, 'area.geojson');
    await writeFile(file, workflow);
    await writeFile(fences, JSON.stringify(FENCE));
    const serve = await startServe(file);
    const mq = await recordRows(serve.out.stderr.match(/MQTT: embedded broker (mqtt:\/\/\S+)/)![1]);
    const src = await connectSource({ name: 'gw', zipper: serve.url, certHash: serve.certHash, token: 'source-token' });
    const scrape = async () => parseExposition(await (await fetch(serve.metricsUrl!)).text());
    const metric = async (name: string, labels: Record<string, string> = {}) => total(await scrape(), name, { function: 'fence', ...labels });
    const instances = () => metric('geoflux_function_autoscaled_instances');
    const functions = () => runGeoflux(['functions', '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token']);
    // every device's fix of second `round`, in one frame, inside the fence
    let round = 0;
    const writeRound = () => {
      round++;
      return src.write('gps', DEVICES.map((deviceId, i): GpsRecord => ({ deviceId, t: T0 + round * 1000, lon: 0.01 + i * 0.001, lat: 0.05 + round * 1e-6, speed: 1 })));
    };
    /** writes rounds as fast as the source takes them, five a turn, until `enough` says so (asked every 20 rounds) */
    const flood = async (enough: () => Promise<boolean>, most: number) => {
      for (let n = 0; n < most; n++) {
        if (!writeRound()) await waitFor(() => src.stats().spooled < 1000, 'the source\'s spool to drain');
        else if (n % 5 === 4) await turn();
        if (n % 20 === 19 && (await enough())) return;
      }
    };
    // a row for every fix: the enter at a device's first, inside at every other
    const fenceRows = () => mq.kindRows('geofence');
    const allRowsIn = () => waitFor(() => fenceRows().filter(([, rs]) => rs.length === round).length, { what: () => `every device's ${round} rows (they have ${[...new Set(fenceRows().map(([, rs]) => rs.length))].join(', ')})`, until: (n) => n === DEVICES.length, ms: 60_000 });
    try {
      const deployed = await runGeoflux(['deploy', GEOFENCE, '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token', '--name', 'fence', '--observe', 'gps', '--emit', 'alerts', '--params', JSON.stringify({ fences, detect: ['enter', 'exit', 'inside'], debounce: false }), '--min', '1', '--max', '4']);
      expect(deployed.stderr).toBe('');
      expect(deployed.stdout).toMatch(/function "fence" runs kernel [0-9a-f]{64} \(gps → alerts, 1 instance;/);
      expect((await functions()).stdout).toMatch(/^fence\s+deployed\s+[0-9a-f]{12}\s+gps\s+alerts\s+1 \(1-4\)$/m);

      // a backlog: rounds written faster than one instance takes them, until it has grown
      const ups = () => metric('geoflux_function_scale_events_total', { direction: 'up' });
      // (one step up is what every run shows; a second depends on how the kernel's thread keeps up on the machine)
      await flood(async () => (await ups()) >= 1, 20_000);
      expect(await ups()).toBeGreaterThanOrEqual(1);
      expect(await instances()).toBeGreaterThanOrEqual(2);
      expect(serve.out.stderr).toMatch(/function fence.*scaled up to 2 instances \(a backlog of \d+ frames over 1\): \d+ devices' state moved, frames held \d+ ms/);
      await allRowsIn();

      // idle: back to one, an instance at a time, the devices moving each time to their next owner
      const upped = await ups();
      await waitFor(() => metric('geoflux_function_scale_events_total', { direction: 'down' }), { what: `${upped} scale-downs`, until: (n) => n === upped, ms: 60_000 });
      expect(await instances()).toBe(1);
      expect(serve.out.stderr).toMatch(/scaled down to 1 instance \(idle\): \d+ devices' state moved/);
      expect(await metric('geoflux_function_scale_devices_moved_total')).toBeGreaterThan(0);
      expect((await functions()).stdout).toMatch(/^fence\s+deployed\s+[0-9a-f]{12}\s+gps\s+alerts\s+1 \(1-4\)$/m);

      // the state came back with the devices: more fixes, and still no second enter
      for (let n = 0; n < 10; n++) writeRound();
      await allRowsIn();
      const sent = Array.from({ length: round }, (_, r) => new Date(T0 + (r + 1) * 1000).toISOString());
      expect(fenceRows().length).toBe(DEVICES.length);
      for (const [device, rs] of fenceRows()) {
        expect.soft(rs.map(timeOf), `${device}: every fix once, in order`).toEqual(sent);
        expect.soft(rs.filter((r) => r.detect === 'enter').map(timeOf), `${device}: entered once, at its first fix`).toEqual([sent[0]]);
      }
      expectFenceEventsAlternate(fenceRows());
      expect(total(await scrape(), 'geoflux_frames_dropped_total')).toBe(0);
    } finally {
      await src.close(1000);
      await mq.end();
      await serve.stop();
    }
  });
});
