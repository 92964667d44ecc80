import { createGeofence } from '../kernels/create-kernel.ts';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { loadNetwork } from '../network/load-network.ts';
import type { GeofenceEvent } from '../kernels/geofence.ts';
import { TrafficSim } from '../simulators/traffic/traffic-sim.ts';
import { parseIncident } from '../simulators/traffic/incidents.ts';
import { freePort } from '../testing/free-port.ts';
import { metresFrom } from '../network/geo.ts';

/**
 * The whole system as a user runs it: `geoflux serve` (a real process) on a small copy of the default
 * workflow — simulator → QUIC → zipper → map matching → congestion → hotspot, geofence on the fixes →
 * MQTT sink → embedded broker — and an MQTT subscriber here. The geofence events expected are computed
 * from the same seeded simulation, offline.
 */
const WORKFLOW = 'workflows/testdata/good/e2e.yaml';
const MONACO = '../shared/data/osm/monaco.osm.pbf';
// as in the workflow's source params
const SIM = { vehicles: 20, seed: 4, start: Date.parse('2026-01-01T08:00:00Z'), duration: 1800, incident: '7.4283,43.7394,300,0,3600,0.8' };

async function expectedFenceEvents(): Promise<GeofenceEvent[]> {
  const { graph } = await loadNetwork(MONACO);
  const sim = new TrafficSim(graph, { fleets: [{ name: 'veh', vehicles: SIM.vehicles }], seed: SIM.seed, start: SIM.start, incidents: [parseIncident(SIM.incident)] });
  const fences = await createGeofence({ fences: MONACO, detect: ['enter', 'exit'] });
  const events: GeofenceEvent[] = [];
  while (sim.seconds < SIM.duration) {
    const fixes: GpsRecord[] = sim.step().fixes;
    if (fixes.length) events.push(...fences.process(batchFromRecords(fixes)));
  }
  return events;
}

describe('end to end: geoflux serve → MQTT subscriber', () => {
  it('delivers the geofence enter/exit events the simulation implies, and a hotspot at the incident', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const expected = (await expectedFenceEvents()).map((e) => `${e.deviceId} ${e.detect} ${e.fence.name} ${e.time}`);
    expect(expected.length).toBeGreaterThan(50);

    const serve = spawn(process.execPath, ['bin/geoflux.js', 'serve', WORKFLOW, '--stats-every', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GEOFLUX_E2E_MQTT_PORT: String(port), GEOFLUX_LOG: 'info' },
    });
    let stderr = '';
    serve.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => serve.on('exit', r));
    // the broker starts first, before kernels load and the simulator runs: subscribe as soon as it is up
    const client = mqtt.connect(url, { reconnectPeriod: 50, connectTimeout: 2000 });
    const fences: string[] = [];
    const hot: { cell: { bbox: number[] } }[] = [];
    client.on('message', (_, payload) => {
      const e = JSON.parse(payload.toString());
      if (e.kind === 'geofence') fences.push(`${e.deviceId} ${e.detect} ${e.fence.name} ${e.time}`);
      if (e.kind === 'hotspot' && e.detect === 'hot') hot.push(e);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no broker on ${url}:\n${stderr}`)), 60_000);
        client.on('connect', () => client.subscribe('geoflux/alerts/#', { qos: 1 }, () => (clearTimeout(t), resolve())));
      });
      const end = Date.now() + 90_000;
      while ((fences.length < expected.length || hot.length === 0) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(stderr).toMatch(/source "traffic": builtin:traffic/);
      expect(fences.sort()).toEqual([...expected].sort());
      expect(fences.some((f) => f.includes(' enter Monte-Carlo ')) && fences.some((f) => f.includes(' exit Monte-Carlo '))).toBe(true);
      // a hot cell at the incident: its centre within the incident's radius (plus a cell)
      const [lon, lat] = [7.4283, 43.7394];
      const near = hot.filter(({ cell: { bbox: b } }) => Math.hypot(...metresFrom(lon, lat, (b[0] + b[2]) / 2, (b[1] + b[3]) / 2)) < 300 + 150);
      expect(near.length).toBeGreaterThan(0);
    } finally {
      await client.endAsync(true);
      serve.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    expect(stderr).toMatch(/\[serve\] done:/);
  });
});
