import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { serveWorkflow } from '../serve/serve-workflow.ts';
import { connectSource } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { loadNetwork } from '../network/load-network.ts';
import { TrafficSim } from '../simulators/traffic/traffic-sim.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { workflowMetrics } from '../serve/workflow-metrics.ts';
import { fleetClock } from './fleet-clock.ts';
import { wallMs } from './stats.ts';

/**
 * One side of `npm run bench -- e2e`, run as its own process so its CPU and memory are its own: the default
 * workflow's functions (map matching ×2, congestion, hotspot, geofence on Monaco's quarters, MQTT sink to an
 * embedded broker) served here, fed by a source over `transport` with a simulated Monaco fleet replayed as
 * fast as it is written (bench/fleet-clock.ts). Mode `max` writes as fast as acknowledgements allow; `rate N`
 * writes N fixes/s; a fifth argument `fence` serves the geofence branch alone. Prints one JSON line: fixes
 * written, seconds until all were acknowledged end to end, CPU, RSS, when each slice was written (wall
 * clock, for latency), and what each function took in, emitted and dropped (its /metrics counters).
 */
const [transport, mode, rateArg, secondsArg, only] = process.argv.slice(2) as ['quic' | 'webtransport' | 'memory', 'max' | 'rate', string, string, string | undefined];
const seconds = Number(secondsArg ?? 10);
setLogLevel('warn');
const listen = { quic: 'quic://127.0.0.1:0', webtransport: 'webtransport://127.0.0.1:0/geoflux', memory: 'quic://127.0.0.1:0' }[transport];
const dir = new URL('../', import.meta.url).pathname;
// a state folder of its own: the clone's .geoflux holds what a user deployed to the demo, not the bench's
const state = mkdtempSync(join(tmpdir(), 'geoflux-bench-e2e-'));
const wf = parseWorkflow(
  `name: bench-e2e
listen: [${listen}]
state: ${state}
mqtt: { embedded: { port: ${process.env.GEOFLUX_BENCH_MQTT_PORT}, ws: false } }
tags: { gps: 16, matched: 17, congestion: 18, hotspots: 19, fences: 20 }
functions:
  - { name: mapmatch, observe: [gps], emit: matched, dispatch: { partition: deviceId }, host: local, instances: 2, kernel: mapmatch, params: { network: ../shared/data/osm/monaco.osm.pbf } }
  - { name: congestion, observe: [matched], emit: congestion, host: local, run: builtin:congestion }
  - { name: hotspot, observe: [congestion], emit: hotspots, host: local, kernel: hotspot, params: { cellSize: 100, band: 200, window: 180, slide: 30 } }
  - { name: quarters, observe: [gps], emit: fences, dispatch: { partition: deviceId }, host: local, kernel: geofence, params: { fences: ../shared/data/osm/monaco.osm.pbf, detect: [enter, exit] } }
  - { name: alerts-out, observe: [fences, hotspots], sink: mqtt }
`
    // `fence`: the geofence branch alone, to show what the stack carries when map matching is not the limit
    .split('\n')
    .filter((l) => only !== 'fence' || !/name: (mapmatch|congestion|hotspot),/.test(l))
    .join('\n'),
  `${dir}bench-e2e.yaml`,
);
const served = await serveWorkflow(wf);
const zipper = transport === 'memory' ? served.zipper.memoryUrl : served.zipper.listeners[0].url;
const src = await connectSource({ name: 'bench', zipper, certHash: served.zipper.tls.certHash, spool: 2_000_000 });

const fleet = await premadeFixes(Math.ceil((mode === 'rate' ? Number(rateArg) : 500_000) * seconds));
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
// the subscriber connects first, so the first alerts are not lost
await new Promise((r) => createInterface({ input: process.stdin }).once('line', r));

const cpu0 = process.cpuUsage();
let rss = 0;
const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 200);
const t0 = performance.now();
const rate = Number(rateArg);
let sent = 0;
/** wall clock (epoch ms) when slice i was written: the subscriber's latency is its Date.now() less this */
const written: number[] = [];
for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
  const batch = fleet.slice(i);
  written.push(wallMs());
  if (!src.write('gps', batch)) await src.flush(10_000);
  sent += batch.length;
  if (mode === 'rate') {
    const wait = t0 + (sent / rate) * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  } else await new Promise((r) => setImmediate(r));
}
await src.flush(60_000);
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
rss = Math.max(rss, process.memoryUsage().rss) - fleet.bytes;
// function threads report their counters with their watchdog's pings, once a second: wait for the last
await new Promise((r) => setTimeout(r, 1500));
const functions = await functionCounts();
process.stdout.write(JSON.stringify({ sent, secs, cpu: (cpu.user + cpu.system) / 1e6 / secs, rss, written, clock: fleet.clock, functions }) + '\n');
await src.close(1000);
await served.stop();
rmSync(state, { recursive: true, force: true });
process.exit(0);

/** per function, its /metrics counters: records in, emitted, dropped (errors, bad, failed or trapped rows; a sink's dropped and given-up messages) */
async function functionCounts(): Promise<Record<string, { in: number; out: number; dropped: number; restarts: number }>> {
  const out: Record<string, { in: number; out: number; dropped: number; restarts: number }> = {};
  const add = { geoflux_function_records_total: 'in', geoflux_function_emitted_total: 'out', geoflux_function_restarts_total: 'restarts' } as Record<string, 'in' | 'out' | 'restarts'>;
  for (const m of await workflowMetrics(served).getMetricsAsJSON()) {
    const field = add[m.name] ?? (/^geoflux_(function_errors|kernel_bad_rows|kernel_trapped_rows|kernel_failed_rows|sink_dropped|sink_errors)_total$/.test(m.name) ? 'dropped' : undefined);
    if (!field) continue;
    for (const v of m.values) {
      const fn = String(v.labels.function ?? v.labels.sink);
      (out[fn] ??= { in: 0, out: 0, dropped: 0, restarts: 0 })[field] += v.value;
    }
  }
  return out;
}

/**
 * Positions of a simulated Monaco fleet of 2,000, made before the clock starts: the fixes a run writes and a
 * simulated second to spare (the rate loop's last turn may write a slice past rate × seconds, and slices past
 * the end start the fleet over, a jump back no vehicle makes) kept in columns, because a million fix objects would
 * make the bench's garbage collection the thing measured. Handed out in slices of 250, as fixes from many
 * gateways arrive (spread out, not a whole fleet at once), stamped by the fleet's clock: a replay of the
 * fleet's last n/2,000 seconds, ending now at the latest, so no fix is ahead of the receiver's clock.
 */
async function premadeFixes(needed: number) {
  const SLICE = 250;
  const VEHICLES = 2000;
  const n = needed + VEHICLES;
  const { graph } = await loadNetwork('../shared/data/osm/monaco.osm.pbf');
  const sim = new TrafficSim(graph, { fleets: [{ name: 'veh', vehicles: VEHICLES }], seed: 1, start: 0 });
  const ids: string[] = [];
  const idOf = new Map<string, number>();
  const device = new Uint16Array(n);
  const lon = new Float64Array(n);
  const lat = new Float64Array(n);
  const speed = new Float32Array(n);
  const heading = new Float32Array(n);
  let count = 0;
  while (count < n) {
    for (const f of sim.step().fixes) {
      if (count === n) break;
      let d = idOf.get(f.deviceId);
      if (d === undefined) idOf.set(f.deviceId, (d = ids.push(f.deviceId) - 1));
      device[count] = d;
      lon[count] = f.lon;
      lat[count] = f.lat;
      speed[count] = f.speed ?? 0;
      heading[count] = f.heading ?? 0;
      count++;
    }
  }
  const slices = Math.floor(n / SLICE);
  const start = Math.floor(wallMs()) - Math.ceil(n / VEHICLES) * 1000;
  const { timeOf } = fleetClock(start, VEHICLES, SLICE);
  return {
    bytes: n * 26,
    /** what the subscriber needs to make the same clock */
    clock: { start, vehicles: VEHICLES, slice: SLICE },
    /** slice i (slices past the end start over, their device time going on) */
    slice(i: number): GpsRecord[] {
      const out: GpsRecord[] = [];
      const t = timeOf(i);
      for (let j = (i % slices) * SLICE, end = j + SLICE; j < end; j++) {
        out.push({ deviceId: ids[device[j]], t, lon: lon[j], lat: lat[j], speed: speed[j], heading: heading[j], accuracy: 5 });
      }
      return out;
    },
  };
}
