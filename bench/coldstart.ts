import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import { kernelFiles } from '../kernels/create-kernel.ts';
import { GeofenceKernel, type GeofenceParams } from '../kernels/geofence.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { servedWakes } from './coldstart-serve.ts';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * Cold start, first frame → result, of the same kernel (geofence, 5 fences) with the state of 1,000 devices
 * restored, five ways in one run: a new instance from the module this process compiled and the params it
 * prepared (what a scaled-to-zero function restores), serve's own wake of a parked function
 * (bench/coldstart-serve.ts: through a zipper, an instance in a host thread), a fresh worker thread, a fresh `node` process, and a
 * container (crun, an OCI bundle of node and its libraries, namespaces but no image pull) when it runs here.
 * The last three run bench/coldstart-child.mjs against dist/ (npm run build first).
 */

const DEVICES = 1000;
/** the first frame: one fix of each of 100 devices, the second after they crossed into f0 */
const FRAME = 100;
const RUNS = { instance: 200, wake: 30, worker: 20, process: 15, container: 15 };
const CHILD = resolve('bench/coldstart-child.mjs');
const DIST = resolve('dist');

interface Row {
  name: string;
  ms: number[];
  note?: string;
}

async function runs(n: number, once: () => Promise<number>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    ms.push(await once());
    // a turn between starts, as between a real system's: the kernel's spare instance is made here, untimed
    await new Promise((r) => setTimeout(r, 1));
  }
  return ms.sort((a, b) => a - b);
}

/** ms from spawning `cmd` until it prints the events line */
function spawned(cmd: string, args: string[], expect: string): Promise<number> {
  return new Promise((ok, fail) => {
    const t0 = now();
    // the container's environment, nothing inherited (NODE_EXTRA_CA_CERTS alone costs a start tens of ms)
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    let out = '';
    let err = '';
    let t1 = 0;
    child.stdout.on('data', (d) => {
      out += d;
      if (!t1 && out.includes('\n')) t1 = now();
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 && out.trim() === expect ? ok(t1 - t0) : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out}${err}`))));
  });
}

function inWorker(data: string, expect: string): Promise<number> {
  return new Promise((ok, fail) => {
    const t0 = now();
    // without the benchmark's own tsx loader: a thread as a function's would start
    const w = new Worker(CHILD, { workerData: [DIST, data], execArgv: [] });
    w.once('message', (m: string) => {
      const t1 = now();
      void w.terminate();
      m === expect ? ok(t1 - t0) : fail(new Error(`worker said ${m}`));
    });
    w.once('error', fail);
  });
}

/**
 * An OCI bundle whose root holds node and the libraries it links (nothing pulled), with the repository,
 * its node_modules and the data mounted read-only; crun runs it in a mount namespace of its own whose
 * /sys/fs/cgroup is empty (crun 1.8 refuses this host's hybrid cgroups; the container gets no cgroup
 * limits, the rest: pid, network, ipc, uts and mount namespaces, a pivoted read-only root).
 */
function containerBundle(dir: string, data: string): { args: string[] } | { why: string } {
  if (process.getuid?.() !== 0) return { why: 'not root' };
  if (spawnSync('crun', ['--version']).status !== 0) return { why: 'crun is not installed' };
  const root = join(dir, 'rootfs');
  const node = realpathSync(process.execPath);
  const libs = (spawnSync('ldd', [node], { encoding: 'utf8' }).stdout.match(/\/\S+/g) ?? []).filter((p) => !p.includes('vdso'));
  for (const f of [node, ...libs]) {
    mkdirSync(join(root, dirname(f)), { recursive: true });
    cpSync(realpathSync(f), join(root, f));
  }
  // node_modules may be a link (a worktree's to its main checkout's): mounted where the link points
  const modules = realpathSync('node_modules');
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'app', 'data', modules]) mkdirSync(join(root, d), { recursive: true });
  const spec = spawnSync('crun', ['spec'], { cwd: dir });
  if (spec.status !== 0) return { why: `crun spec: ${spec.stderr}` };
  const bind = (source: string, destination: string) => ({ destination, type: 'bind', source, options: ['rbind', 'ro'] });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process = { ...config.process, terminal: false, args: [node, '/app/bench/coldstart-child.mjs', '/app/dist', '/data'], rlimits: undefined };
  config.root = { path: 'rootfs', readonly: true };
  config.mounts = [...config.mounts.filter((m: { type: string }) => m.type !== 'cgroup'), bind(process.cwd(), '/app'), bind(modules, modules), bind(data, '/data')];
  delete config.linux.resources;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  let n = 0;
  const run = () => ['-m', 'sh', '-c', `mount -t tmpfs none /sys/fs/cgroup && exec crun --cgroup-manager=disabled run --bundle ${dir} geoflux-coldstart-${process.pid}-${n++}`];
  const probe = spawnSync('unshare', run(), { encoding: 'utf8' });
  if (probe.status !== 0) return { why: `crun run failed: ${(probe.stderr || probe.stdout).trim()}` };
  return { get args() { return run(); } };
}

export async function run(): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'geoflux-coldstart-'));
  try {
    // a warm kernel that has seen 1,000 devices, a fix a second for 10 s: its state is what every start restores
    const { setup, params } = await kernelFiles('geofence', { fences: SQUARES, detect: ['enter', 'exit'] });
    const warm = GeofenceKernel.create(params as unknown as GeofenceParams, setup);
    for (let s = 0; s < 10; s++) warm.process(batchFromRecords(Array.from({ length: DEVICES }, (_, v) => crossingFix(v, s))));
    const state = warm.snapshot();
    const frame = Array.from({ length: FRAME }, (_, v) => crossingFix(v, 11));
    const expected = warm.process(batchFromRecords(frame)).length;
    const expect = `events ${expected}`;
    writeFileSync(join(data, 'fences.geojson'), JSON.stringify(SQUARES));
    writeFileSync(join(data, 'state.bin'), state.state);
    writeFileSync(join(data, 'devices.json'), JSON.stringify(state.devices));
    writeFileSync(join(data, 'frame.json'), JSON.stringify(frame));

    const rows: Row[] = [];
    rows.push({
      name: 'wasm instance from the cached module, state restored',
      ms: await runs(RUNS.instance, async () => {
        const t0 = now();
        const k = GeofenceKernel.create(params as unknown as GeofenceParams, setup);
        k.restore(state);
        const n = k.process(batchFromRecords(frame)).length;
        const t = now() - t0;
        if (n !== expected) throw new Error(`restored kernel gave ${n} events, not ${expected}`);
        return t;
      }),
    });
    rows.push({ name: "serve's wake of a parked function (write → event over QUIC)", ms: await servedWakes(RUNS.wake, DEVICES) });
    rows.push({ name: 'fresh worker thread (loads the host, compiles the module)', ms: await runs(RUNS.worker, () => inWorker(data, expect)) });
    rows.push({ name: 'fresh node process', ms: await runs(RUNS.process, () => spawned(process.execPath, [CHILD, DIST, data], expect)) });
    const bundle = mkdtempSync(join(tmpdir(), 'geoflux-oci-'));
    try {
      const c = containerBundle(bundle, data);
      if ('why' in c) rows.push({ name: 'container (crun)', ms: [], note: c.why });
      else rows.push({ name: 'container (crun, OCI bundle, no cgroups)', ms: await runs(RUNS.container, () => spawned('unshare', c.args, expect)) });
    } finally {
      rmSync(bundle, { recursive: true, force: true });
    }

    const p50 = (r: Row) => percentile(r.ms, 50);
    const [wasm, wake, , proc] = rows;
    const container = rows[4].ms.length ? rows[4] : undefined;
    const less = (r: Row, than: Row | undefined) => {
      if (!than) return '—';
      const d = 100 * (1 - p50(r) / p50(than));
      return `${d >= 0 ? '−' : '+'}${Math.abs(d).toFixed(1)} %`;
    };
    console.log(`cold start, first frame (${FRAME} fixes) → its events, geofence with ${DEVICES.toLocaleString('en')} devices of state restored (ms)\n`);
    console.log(
      table(
        ['start', 'runs', 'p50 ms', 'p90 ms', 'vs process', 'vs container'],
        rows.map((r) => (r.ms.length ? [r.name, r.ms.length, fmt(p50(r), 2), fmt(percentile(r.ms, 90), 2), r === proc ? '—' : less(r, proc), r === container ? '—' : less(r, container)] : [r.name, 0, '—', '—', '—', `not run: ${r.note}`])),
      ),
    );
    console.log(`\nthis machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} (1 min) at the end: shared, so compare rows of one run`);
    console.log(`\ngoal: the wasm instance p50 ≤ 5 ms (${fmt(p50(wasm), 2)} ms), ≥ 99 % below a process start (${less(wasm, proc)}); serve's wake p50 ≤ 5 ms (${fmt(p50(wake), 2)} ms)`);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}
