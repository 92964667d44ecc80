import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failingServe } from '../testing/serve-process.ts';

/**
 * serve is healthy or it says so: a workflow that cannot start makes a real `geoflux serve` exit 1 with the
 * file, line, column and field that caused it, without printing a banner (nothing of it ever listened),
 * and a failure after part of it started closes the rest (serve exits rather than hangs).
 */
const BROKEN = 'reliability/testdata/broken';
const state = () => ({ GEOFLUX_TEST_STATE: join(mkdtempSync(join(tmpdir(), 'geoflux-health-')), 'state') });

const takeTcp = async (): Promise<{ port: number; server: Server }> => {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { port: (server.address() as { port: number }).port, server };
};

describe('a workflow whose parts cannot start', () => {
  it.each([
    ['a fence file that is not there', 'missing-fences.yaml', /missing-fences\.yaml:11:23 functions\[0\]\.params\.fences: function "yard" could not start: .*nope\.geojson: no such file/],
    ['a road network that is no PBF', 'bad-network.yaml', /bad-network\.yaml:11:24 functions\[0\]\.params\.network: function "roads" could not start: .*not-a-network\.pbf/],
    ['a replay file that is not there', 'missing-replay-file.yaml', /missing-replay-file\.yaml:10:42 sources\[0\]\.params\.files\[1\]: source "r" could not start: .*nope\.csv: no such file/],
    ['a road network that is not there, for a simulator', 'missing-traffic-network.yaml', /missing-traffic-network\.yaml:8:\d+ sources\[0\]\.params\.network: source "fleet" could not start: .*nope\.osm\.pbf: no such file/],
    ['a source module that throws as it loads', 'source-throws.yaml', /source-throws\.yaml:8:27 sources\[0\]\.run: source "gateway" could not start: .*JSON/],
  ])('%s: exits 1 naming the field, functions before anything listens', async (_, file, message) => {
    const { code, stderr } = await failingServe(`${BROKEN}/${file}`, state());
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
    // sources start once serve listens (a source may dial its own listener)
    if (!message.source.includes('sources')) expect(stderr).not.toMatch(/listening on:/);
  }, 60_000);

  it('a port that is taken (MQTT, metrics, QUIC): exits 1 naming the field, and closes what had started', async () => {
    const mqtt = await takeTcp();
    const metrics = await takeTcp();
    const udp = createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    try {
      const cases: [Record<string, string>, RegExp][] = [
        [{ GEOFLUX_TEST_MQTT_PORT: String(mqtt.port) }, /ports\.yaml:5:\d+ mqtt\.embedded\.port: .*port .*taken|in use/i],
        [{ GEOFLUX_TEST_METRICS_PORT: String(metrics.port) }, /ports\.yaml:4:\d+ metrics\.port: metrics: cannot listen on 127\.0\.0\.1:\d+: the port is taken/],
        [{ GEOFLUX_TEST_QUIC_PORT: String(udp.address().port) }, /ports\.yaml:2:\d+ listen\[0\]: could not listen on quic:\/\/127\.0\.0\.1:\d+/],
      ];
      for (const [env, message] of cases) {
        const { code, stderr } = await failingServe(resolve(BROKEN, 'ports.yaml'), { ...state(), ...env });
        expect(code, stderr).toBe(1);
        expect(stderr).toMatch(message);
      }
    } finally {
      mqtt.server.close();
      metrics.server.close();
      udp.close();
    }
  }, 90_000);
});
