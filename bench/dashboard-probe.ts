/**
 * The browser half of `npm run bench -- dashboard`, bundled by the bench for a page of its own: the geofence
 * kernel through geoflux's browser host and WASI shim, and an MQTT subscriber that only parses what it gets,
 * to weigh the page's data paths against each other. (@wasmer/wasi is not measured here: its browser build
 * reads Node's global Buffer, so a page would need a Buffer polyfill as well as its 457 KB; docs/dashboard.md.)
 */
import mqtt from 'mqtt';
import { browserWasi } from '../kernels/host/browser-wasi.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { timeGeofence } from './time-geofence.ts';

/** the kernel in this page, with geoflux's browser WASI shim */
const runKernel = (wasm: ArrayBuffer, fences: object, batches: GpsRecord[][], runs: number) => timeGeofence(wasm, browserWasi, fences, batches, runs);

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
