/**
 * The browser half of `npm run bench -- dashboard`, bundled by the bench for a page of its own: the geofence
 * kernel through geoflux's browser host and WASI shim, and an MQTT subscriber that only parses what it gets,
 * to weigh the page's data paths against each other. (@wasmer/wasi is not measured here: its browser build
 * reads Node's global Buffer, so a page would need a Buffer polyfill as well as its 457 KB; docs/dashboard.md.)
 */
import mqtt from 'mqtt';
import { GeofenceKernel } from '../kernels/geofence.ts';
import { browserWasi } from '../kernels/host/browser-wasi.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';

interface KernelRun {
  /** ms for the host's own start (none for the shim), compile, and an instance with fences loaded */
  hostInit: number;
  compile: number;
  instance: number;
  /** best of `runs`, each on a fresh instance so every fix is news to it */
  fixesPerSecond: number;
  events: number;
}

async function runKernel(wasm: ArrayBuffer, fences: object, batches: GpsRecord[][], runs: number): Promise<KernelRun> {
  const hostInit = 0;
  let t = performance.now();
  const module = await WebAssembly.compile(wasm);
  const compile = performance.now() - t;
  const make = () => GeofenceKernel.create({ fences, detect: ['enter', 'exit', 'cross', 'dwell'] }, { module, wasi: browserWasi });
  t = performance.now();
  make();
  const instance = performance.now() - t;
  let best = Infinity;
  let events = 0;
  const n = batches.reduce((s, b) => s + b.length, 0);
  for (let r = 0; r < runs; r++) {
    const k = make();
    events = 0;
    const t0 = performance.now();
    for (const b of batches) events += k.process(b).length;
    best = Math.min(best, performance.now() - t0);
  }
  return { hostInit, compile, instance, fixesPerSecond: (n / best) * 1000, events };
}

/** subscribes and parses every message, counting messages, vehicles and bytes */
function subscribe(url: string, topic: string): Promise<{ counts: () => { messages: number; vehicles: number; bytes: number }; close: () => void }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0 });
    const c = { messages: 0, vehicles: 0, bytes: 0 };
    const utf8 = new TextDecoder();
    client.on('message', (_, payload) => {
      const m = JSON.parse(utf8.decode(payload)) as { vehicles?: unknown[] };
      c.messages++;
      c.bytes += payload.length;
      c.vehicles += m.vehicles ? m.vehicles.length : 1;
    });
    client.on('error', reject);
    client.on('connect', () => client.subscribe(topic, { qos: 0 }, (err) => (err ? reject(err) : resolve({ counts: () => ({ ...c }), close: () => void client.end(true) }))));
  });
}

Object.assign(window, { probe: { runKernel, subscribe } });
