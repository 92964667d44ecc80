import { createInterface } from 'node:readline';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { serveWorkflow } from '../serve/serve-workflow.ts';
import { connectSource } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { loadNetwork } from '../network/load-network.ts';
import { TrafficSim } from '../simulators/traffic/traffic-sim.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { wallMs } from './stats.ts';

/**
 * One side of `npm run bench -- e2e`, run as its own process so its CPU and memory are its own: the default
 * workflow's functions (map matching ×2, congestion, hotspot, geofence on Monaco's quarters, MQTT sink to an
 * embedded broker) served here, fed by a source over `transport` with simulated Monaco fixes stamped with
 * the wall clock as they are written. Mode `max` writes as fast as acknowledgements allow; `rate N` writes
 * N fixes/s; a fifth argument `fence` serves the geofence branch alone. Prints one JSON line: fixes written, seconds until all were acknowledged end to end, CPU, RSS.
 */
const [transport, mode, rateArg, secondsArg, only] = process.argv.slice(2) as ['quic' | 'webtransport' | 'memory', 'max' | 'rate', string, string, string | undefined];
const seconds = Number(secondsArg ?? 10);
setLogLevel('warn');
const listen = { quic: 'quic://127.0.0.1:0', webtransport: 'webtransport://127.0.0.1:0/geoflux', memory: 'quic://127.0.0.1:0' }[transport];
const dir = new URL('../', import.meta.url).pathname;
const wf = parseWorkflow(
  `name: bench-e2e
listen: [${listen}]
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
let last = 0;
for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
  // the wall clock (the subscriber's latency is its Date.now() less this), to the microsecond so every batch
  // is later than the last and each device's fixes stay in order: a millisecond added per batch instead ran
  // ahead of the clock once more than 1,000 batches a second went out, and latencies came out negative
  const t = (last = Math.max(wallMs(), last + 0.001));
  const batch = fleet.slice(i, t);
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
process.stdout.write(JSON.stringify({ sent, secs, cpu: (cpu.user + cpu.system) / 1e6 / secs, rss: Math.max(rss, process.memoryUsage().rss) - fleet.bytes }) + '\n');
await src.close(1000);
await served.stop();
process.exit(0);

/**
 * Positions of a simulated Monaco fleet of 2,000, made before the clock starts: `n` fixes (enough for the
 * run, so no vehicle jumps back to its start mid-run) kept in columns, because a million fix objects would
 * make the bench's garbage collection the thing measured. Handed out in slices of 250, as fixes from many
 * gateways arrive (spread out, not a whole fleet at once), each stamped with the time it is written.
 */
async function premadeFixes(n: number) {
  const SLICE = 250;
  const { graph } = await loadNetwork('../shared/data/osm/monaco.osm.pbf');
  const sim = new TrafficSim(graph, { fleets: [{ name: 'veh', vehicles: 2000 }], seed: 1, start: 0 });
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
  return {
    bytes: n * 26,
    /** slice i (slices past the end start over) with every fix stamped t */
    slice(i: number, t: number): GpsRecord[] {
      const out: GpsRecord[] = [];
      for (let j = (i % slices) * SLICE, end = j + SLICE; j < end; j++) {
        out.push({ deviceId: ids[device[j]], t, lon: lon[j], lat: lat[j], speed: speed[j], heading: heading[j], accuracy: 5 });
      }
      return out;
    },
  };
}
