import { createGeofence, createHotspot, createMapMatch, kernelFiles } from '../kernels/create-kernel.ts';
import { loadNetwork } from '../network/load-network.ts';
import { TrafficSim } from '../simulators/traffic/traffic-sim.ts';
import { Kernel } from '../kernels/kernel.ts';
import { tryExampleKernel } from '../examples/kernels/build.ts';
import { readFileSync } from 'node:fs';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { batchFromRecords, type GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { KernelInstance } from '../kernels/host/kernel-instance.ts';
import type { FieldSpec } from '../kernels/host/kernel-schema.ts';
import { checkParams, encodeParams } from '../kernels/host/params.ts';
import { RowLayout } from '../kernels/host/rows.ts';
import { kernelPath, loadKernelModule } from '../kernels/host/load-module.ts';
import { loadWasmer, wasiNamed } from '../kernels/host/node-wasi.ts';
import { parseTrace } from '../simulators/replay/trace-formats.ts';
import { fmt, now, percentile, table } from './stats.ts';
import { TsGeofence } from './geofence-ts.ts';

const FENCES = '../shared/data/fences/seattle-neighborhoods.geojson';
const TRACE = '../shared/data/traces/seattle-newson-krumm-gps.txt';

/** best of `runs` timings of f, in ms */
function best(runs: number, f: () => void): number {
  let b = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    f();
    b = Math.min(b, now() - t0);
  }
  return b;
}

async function geofence(): Promise<void> {
  const geojson = JSON.parse(readFileSync(FENCES, 'utf8'));
  const fixes = parseTrace(readFileSync(TRACE, 'utf8')).records;
  const batches: GpsBatch[] = [];
  for (let i = 0; i < fixes.length; i += 4096) batches.push(batchFromRecords(fixes.slice(i, i + 4096)));
  // containment as rows (columns on the kernel's memory, no object per row), the same in both languages
  const rowsOf = async (kernel: string, params: Record<string, unknown>) => {
    const { setup, params: read } = await kernelFiles(kernel, params);
    return Kernel.create(read, setup);
  };
  const as = await rowsOf('geofence', { fences: FENCES, contains: true });
  const c = tryExampleKernel('inside');
  const inC = 'path' in c ? await rowsOf(c.path, { fences: FENCES }) : undefined;
  const events = await createGeofence({ fences: FENCES });
  const ts = new TsGeofence(geojson);
  let sink = 0;
  const n = fixes.length;
  const count = (k: Kernel) => batches.reduce((m, b) => m + k.rows(b).n, 0);
  if (inC && count(inC) !== count(as)) throw new Error(`the C kernel finds ${count(inC)} fences for the trace, the AssemblyScript one ${count(as)}`);
  const tAs = best(5, () => (sink += count(as)));
  const tC = inC ? best(5, () => (sink += count(inC))) : NaN;
  const tEvents = best(5, () => batches.forEach((b) => (sink += events.process(b).length)));
  const tTs = best(5, () => fixes.forEach((f) => (sink += ts.contains(f.lon, f.lat).length)));
  const tTurf = best(2, () => fixes.forEach((f) => geojson.features.forEach((feat: object) => (sink += booleanPointInPolygon([f.lon, f.lat], feat as never) ? 1 : 0))));
  const perSec = (ms: number) => (n / ms) * 1000;
  const row = (what: string, ms: number) => [what, fmt(perSec(ms)), Number.isFinite(ms) ? ms.toFixed(1) : '—', Number.isFinite(ms) ? `${(tTurf / ms).toFixed(0)}x` : '—'];
  console.log(`geofence: ${n} Seattle fixes × ${geojson.features.length} neighbourhoods (best of 5; Turf best of 2)\n`);
  console.log(
    table(
      ['implementation', 'fixes/s', 'ms for the trace', 'vs Turf'],
      [
        row('wasm kernel, AssemblyScript (kernels/assembly/geofence.ts), containment', tAs),
        row(`wasm kernel, C (examples/kernels/c/inside.c), containment${inC ? '' : ` (not built: ${(c as { missing: string }).missing})`}`, tC),
        row('same algorithm, plain TypeScript (bench/geofence-ts.ts)', tTs),
        row('wasm kernel, AssemblyScript, events (enter/exit/cross/dwell) as objects', tEvents),
        row('Turf booleanPointInPolygon loop', tTurf),
      ],
    ),
  );
  console.log('goal: wasm geofence ≥ 10x the Turf loop. The three containment rows run one algorithm (64×64 fence grid, latitude slabs, ray cast) and give the same fences.' + (sink < 0 ? '' : ''));
}

async function hotspot(): Promise<void> {
  // the algorithm alone: what snapshots cost is the state table's (a 20,000-fix call would snapshot every third call)
  const k = await createHotspot({ cellSize: 100, band: 300, window: 300, slide: 60, gridWidth: 512, gridHeight: 512, originLon: 7.42, originLat: 43.73, minCount: 3 }, { snapshot: false });
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const fixesAt = (t: number): GpsRecord[] =>
    Array.from({ length: 20_000 }, () => ({ deviceId: 'v', t, lon: 7.42 + (rand() - 0.5) * 0.5, lat: 43.73 + (rand() - 0.5) * 0.35 }));
  const times: number[] = [];
  const slides = Array.from({ length: 26 }, (_, s) => batchFromRecords(fixesAt(s * 60_000 + 1000)));
  const sameSlide = batchFromRecords(fixesAt(25 * 60_000 + 2000));
  for (let s = 0; s < 25; s++) {
    const fill = slides[s];
    const t0 = now();
    k.process(fill); // crosses a slide boundary: one full Gi* recompute over 512×512 cells, plus binning 20,000 fixes
    times.push(now() - t0);
  }
  k.process(slides[25]);
  const bin = best(5, () => k.process(sameSlide));
  times.sort((a, b) => a - b);
  console.log(`\nhotspot: Gi* over a 512×512 grid (262,144 cells), 7×7-cell band, 20,000 fixes a slide, snapshots off\n`);
  console.log(table(['what', 'ms'], [['binning 20,000 fixes (no slide boundary)', bin.toFixed(2)], ['slide: full recompute + binning, p50', percentile(times, 50).toFixed(2)], ['slide: full recompute + binning, p99', percentile(times, 99).toFixed(2)]]));
  console.log('goal: 512×512 Gi* ≤ 10 ms.');
}

async function coldStart(): Promise<void> {
  const rows: (string | number)[][] = [];
  await loadWasmer();
  // V8 caches compiled code by the module's bytes: a custom section with a fresh nonce makes each compile a
  // first compile, as in a new process
  const bytes = new Uint8Array(readFileSync(kernelPath('geofence')));
  const fresh = (i: number) => {
    const name = Buffer.from(`nonce-${i}-${Math.random()}`);
    return new Uint8Array([...bytes, 0, name.length + 1, name.length, ...name]);
  };
  const compiles = Array.from({ length: 5 }, (_, i) => {
    const b = fresh(i);
    const t0 = now();
    void new WebAssembly.Module(b);
    return now() - t0;
  }).sort((a, b) => a - b);
  const compile = percentile(compiles, 50);
  const { module } = await loadKernelModule('hotspot');
  const batch = batchFromRecords(Array.from({ length: 64 }, (_, i) => ({ deviceId: 'v', t: i * 1000, lon: 7.42, lat: 43.73 })));
  for (const wasi of ['node', 'wasmer'] as const) {
    const inst: number[] = [];
    const first: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = now();
      const k = KernelInstance.create(module, { wasi: await wasiNamed(wasi) });
      const t1 = now();
      const schema = k.schema();
      k.init(encodeParams(schema, checkParams(schema, { gridWidth: 64, gridHeight: 64 }), {}));
      const ptr = k.exports.alloc(64 * 40);
      const out = k.exports.alloc(64 * new RowLayout(schema.output as FieldSpec[]).rowBytes);
      k.exports.process(ptr, batch.n, out, 64);
      inst.push(t1 - t0);
      first.push(now() - t1);
    }
    inst.sort((a, b) => a - b);
    first.sort((a, b) => a - b);
    rows.push([wasi === 'node' ? 'node:wasi' : '@wasmer/wasi', compile.toFixed(2), percentile(inst, 50).toFixed(3), percentile(first, 50).toFixed(3)]);
  }
  console.log('\nkernel cold start (median of 50; compile: median of 5 uncached compiles of geofence.wasm)\n');
  console.log(table(['WASI', 'compile ms', 'instance ready from cached module ms', 'init + first call (64 fixes) ms'], rows));
  console.log('goal: instance ready ≤ 1 ms from a cached module.');
}

/**
 * What keeping state across traps costs (docs/kernel-abi.md, State): a Monaco fleet of 2,000 simulated
 * vehicles, a fix each a second for a minute, through the geofence kernel (the 9 quarters) and the
 * map-matching kernel, with and without snapshots; then one snapshot and one restore of that state.
 */
export async function state(): Promise<void> {
  const MONACO = '../shared/data/osm/monaco.osm.pbf';
  const network = await loadNetwork(MONACO);
  const sim = new TrafficSim(network.graph, { fleets: [{ name: 'veh', vehicles: 2000 }], seed: 1, start: 0 });
  const seconds = Array.from({ length: 60 }, () => batchFromRecords(sim.step().fixes));
  const fixes = seconds.reduce((n, b) => n + b.n, 0);
  const rows: (string | number)[][] = [];
  for (const [name, make] of [
    ['geofence (enter, exit, cross, dwell)', (snapshot?: false) => createGeofence({ fences: MONACO }, { snapshot })],
    ['mapmatch', (snapshot?: false) => createMapMatch({ network }, { snapshot })],
    ['hotspot (100 m cells, 3-minute window)', (snapshot?: false) => createHotspot({ cellSize: 100, band: 200, window: 180, slide: 30, originLon: 7.4246, originLat: 43.7384 }, { snapshot })],
  ] as const) {
    const timed = async (snapshot?: false) => {
      const k = await make(snapshot);
      const t0 = now();
      for (const b of seconds) k.process(b);
      return { k, ms: now() - t0 };
    };
    // alternately, best of three each: the machine is shared
    const without: number[] = [];
    const withSnaps: number[] = [];
    let k!: Awaited<ReturnType<typeof make>>;
    for (let i = 0; i < 3; i++) {
      without.push((await timed(false)).ms);
      const r = await timed();
      withSnaps.push(r.ms);
      k = r.k;
    }
    const taken = k.stats().snapshots;
    const takes: number[] = [];
    let state = k.snapshot();
    for (let i = 0; i < 20; i++) {
      const t0 = now();
      state = k.snapshot();
      takes.push(now() - t0);
    }
    const into = await make();
    const restores: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = now();
      into.restore(state);
      restores.push(now() - t0);
    }
    const devices = (k.stats() as { devices?: number }).devices;
    const [a, b] = [Math.min(...without), Math.min(...withSnaps)];
    rows.push([
      name,
      fmt((fixes / a) * 1000),
      fmt((fixes / b) * 1000),
      `${(100 * (b / a - 1)).toFixed(1)} %`,
      String(taken),
      `${(state.state.length / 1024).toFixed(0)} KB`,
      devices ? (state.state.length / devices).toFixed(0) : '–',
      percentile(takes.sort((a, b) => a - b), 50).toFixed(2),
      percentile(restores.sort((a, b) => a - b), 50).toFixed(2),
    ]);
  }
  console.log(`\nstate across traps: ${fixes.toLocaleString('en')} fixes of 2,000 simulated Monaco vehicles (a minute, a batch a second); default policy: a snapshot every 50,000 fixes or second, the batches since journalled\n`);
  console.log(table(['kernel', 'fixes/s, no snapshots', 'with snapshots', 'cost', 'snapshots taken', 'snapshot size', 'bytes/device', 'snapshot ms p50', 'restore ms p50'], rows));
  console.log('A trap then costs a restore plus replaying at most the journal (≤ 50,000 fixes or a second of them).');
}

/**
 * What moving a partition's devices costs (docs/kernel-abi.md, Devices moving): 10,000 simulated Monaco
 * vehicles, a fix each a second for 30 s, through geofence and mapmatch; then every device exported,
 * imported into a fresh instance, and dropped, and one partition of 16 exported (hash of the id mod 16).
 */
export async function devices(): Promise<void> {
  const MONACO = '../shared/data/osm/monaco.osm.pbf';
  const VEHICLES = 10_000;
  const network = await loadNetwork(MONACO);
  const sim = new TrafficSim(network.graph, { fleets: [{ name: 'veh', vehicles: VEHICLES }], seed: 1, start: 0 });
  const seconds = Array.from({ length: 30 }, () => batchFromRecords(sim.step().fixes));
  const ids = [...new Set(seconds.flatMap((b) => b.devices))];
  const partition = (d: string) => [...d].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 16 === 0;
  const median = (f: () => void) => {
    const t: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = now();
      f();
      t.push(now() - t0);
    }
    return percentile(t.sort((a, b) => a - b), 50);
  };
  const rows: (string | number)[][] = [];
  for (const [name, make] of [
    ['geofence (the 9 quarters)', () => createGeofence({ fences: MONACO }, { snapshot: false })],
    // 10,000 lattices need more than the default 64 MiB
    ['mapmatch', () => createMapMatch({ network }, { snapshot: false, maxPages: 8192 })],
  ] as const) {
    const k = await make();
    for (const b of seconds) k.process(b);
    const held = k.stats().devices;
    let bytes: Uint8Array = new Uint8Array(0);
    const exportMs = median(() => (bytes = k.exportDevices(ids)));
    const into = await make();
    const importMs = median(() => into.importDevices(bytes));
    const part = ids.filter(partition);
    const partMs = median(() => k.exportDevices(partition));
    const dropMs = median(() => into.dropDevices(ids));
    rows.push([name, fmt(held), `${(bytes.length / 1024).toFixed(0)} KB`, (bytes.length / held).toFixed(0), exportMs.toFixed(1), importMs.toFixed(1), dropMs.toFixed(2), `${fmt(part.length)}: ${partMs.toFixed(1)}`]);
  }
  console.log(`\ndevices moving: ${VEHICLES.toLocaleString('en')} simulated Monaco vehicles, 30 s of fixes (${fmt(seconds.reduce((n, b) => n + b.n, 0))}); median of 7\n`);
  console.log(table(['kernel', 'devices held', 'export of all', 'bytes/device', 'export ms', 'import ms', 'drop ms', 'one partition of 16: devices, export ms'], rows));
  console.log('hotspot moves whole only (its windows are per cell): its snapshot is in the table above.');
}

export async function run(): Promise<void> {
  await geofence();
  await hotspot();
  await coldStart();
  await state();
  await devices();
}
