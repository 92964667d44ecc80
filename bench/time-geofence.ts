import type { GpsRecord } from '../codecs/gps-record.ts';
import { GeofenceKernel } from '../kernels/geofence.ts';
import type { WasiHost } from '../kernels/host/wasi.ts';

export interface GeofenceTiming {
  /** ms: compile, and an instance with its fences loaded */
  compile: number;
  instance: number;
  /** best of `runs`, each on a fresh instance so every fix is news to it */
  fixesPerSecond: number;
  events: number;
}

/** The geofence kernel timed the same way in Node and in a page (bench/dashboard.ts, bench/dashboard-probe.ts). */
export async function timeGeofence(wasm: BufferSource, wasi: WasiHost, fences: object, batches: GpsRecord[][], runs: number): Promise<GeofenceTiming> {
  let t = performance.now();
  const module = await WebAssembly.compile(wasm);
  const compile = performance.now() - t;
  const make = () => GeofenceKernel.create({ fences, detect: ['enter', 'exit', 'cross', 'dwell'] }, { module, wasi });
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
  return { compile, instance, fixesPerSecond: (n / best) * 1000, events };
}
