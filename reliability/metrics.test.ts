import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { ZipperClient } from '../client/client.ts';
import { batchFromRecords, encodeGpsBatch } from '../codecs/gps-batch.ts';
import { packMeta } from '../codecs/metadata.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { PROMTOOL, requireTool } from '../testing/system-tool.ts';
import { freePort } from '../testing/free-port.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * A bad record costs only itself, and nothing is lost without a number: a writer that skips the SDK's
 * checks sends 51 fixes, one with a NaN time, into a real `geoflux serve`; the geofence function sends 50
 * enter events on to MQTT, and /metrics (valid for Prometheus' own promtool) counts the one it dropped.
 */
setLogLevel('silent');
const run = promisify(execFile);

describe('a bad fix among good ones, seen from outside', () => {
  it('costs only itself: 50 events of 51 fixes, the 51st counted by reason in /metrics, which promtool accepts', async (ctx) => {
    const promtool = requireTool(ctx, PROMTOOL);
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-metrics-'));
    const port = await freePort();
    const serve = await startServe('reliability/testdata/metrics.yaml', { GEOFLUX_TEST_STATE: join(dir, 'state'), GEOFLUX_TEST_MQTT_PORT: String(port) });
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    try {
      const enters: string[] = [];
      await sub.subscribeAsync('geoflux/alerts/#', { qos: 1 });
      sub.on('message', (_, p) => enters.push(JSON.parse(p.toString()).deviceId));
      // a remote writer that does not use the source SDK's checks
      const raw = new ZipperClient('source', { name: 'raw', zipper: serve.url, certHash: serve.certHash }, []);
      await raw.connect();
      const fixes = Array.from({ length: 51 }, (_, i) => ({ deviceId: `veh-${i}`, t: i === 17 ? NaN : Date.now(), lon: 7.42, lat: 43.73 }));
      raw.writeFrame(raw.tagNumber('gps'), packMeta({ ct: 'gps' }), encodeGpsBatch(batchFromRecords(fixes)), fixes.length);
      expect(await raw.flushed(20_000)).toBe(true);
      await waitFor(() => enters.length === 50, { ms: 30_000, what: '50 enter events' });
      await new Promise((r) => setTimeout(r, 300));
      expect(new Set(enters)).toEqual(new Set(fixes.filter((_, i) => i !== 17).map((f) => f.deviceId)));

      // a function thread reports its counts with the watchdog's pings, at least once a second
      let text = '';
      const badRows = () => total(parseExposition(text), 'geoflux_kernel_bad_rows_total', { function: 'yard', reason: 'time' });
      for (let i = 0; i < 50 && badRows() !== 1; i++) {
        text = await (await fetch(serve.metricsUrl!)).text();
        await new Promise((r) => setTimeout(r, 200));
      }
      const s = parseExposition(text);
      expect(badRows()).toBe(1);
      expect(total(s, 'geoflux_records_in_total', { tag: 'gps' })).toBe(51);
      expect(total(s, 'geoflux_records_out_total', { tag: 'fences' })).toBe(50);
      expect(total(s, 'geoflux_sink_published_total', { sink: 'alerts-out' })).toBe(50);
      expect(total(s, 'geoflux_function_instances', { function: 'yard' })).toBe(1);
      expect(total(s, 'geoflux_alert_latency_seconds_count', { sink: 'alerts-out' })).toBe(50);
      expect(total(s, 'geoflux_kernel_call_seconds_count', { function: 'yard' })).toBeGreaterThanOrEqual(1);
      // the self-signed certificate's end, 13 days ahead, for an alert before pinned clients are refused
      expect(total(s, 'geoflux_tls_certificate_expiry_timestamp_seconds', { self_signed: 'true' }) * 1000 - Date.now()).toBeGreaterThan(12 * 86_400_000);
      // Prometheus' own check of the exposition format and its naming conventions
      const check = await new Promise<{ code: number; out: string }>((resolve) => {
        const p = execFile(promtool, ['check', 'metrics'], (err, stdout, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, out: stdout + stderr }));
        p.stdin!.end(text);
      });
      expect(check).toEqual({ code: 0, out: '' });
      // each name says each word once: no geoflux_process_process_cpu_seconds_total
      const names = [...new Set([...text.matchAll(/^# TYPE (\w+)/gm)].map((m) => m[1]))];
      expect(names).toContain('geoflux_process_cpu_seconds_total');
      expect(names.filter((n) => new Set(n.split('_')).size < n.split('_').length)).toEqual([]);

      const status = await run(process.execPath, ['bin/geoflux.js', 'status', '--metrics', serve.metricsUrl!, '--interval', '0.2']);
      expect(status.stdout).toMatch(/^geoflux serve at http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
      expect(status.stdout).toMatch(/^ {2}yard +1 instance\(s\) · backlog 0 unacked, 0 waiting · \d+ records\/s · restarts 0 · 1 fixes dropped \(bad or trapping\)$/m);
      expect(status.stdout).toMatch(/^mqtt alerts-out: connected · \d+\/s published \(50\) · 0 buffered · 0 dropped$/m);
      await raw.close();
    } finally {
      await sub.endAsync();
      expect(await serve.stop()).toBe(0);
    }
  }, 90_000);
});
