import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { controlRequest } from '../client/control-client.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { logger, setLogLevel } from '../log/logger.ts';
import { sha256 } from '../serve/deployment-store.ts';
import { threadInstances } from '../serve/scale-instances.ts';
import { serveWorkflow, startFunction, stopFunction, type ServedWorkflow } from '../serve/serve-workflow.ts';
import { connectSource, type Source } from '../source/connect-source.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * Autoscaling a deployed geofence (issue #23, item 3), in this process: `serveWorkflow` with its zipper,
 * the function's instances in threads of their own, a source writing over memory://. Three tables:
 *   1. throughput at a fixed 1, 2 and 4 instances (`--min n --max n`), then 1 again: a burst of fixes,
 *      written as fast as the source takes them, until all are acknowledged (handled);
 *   2. the same burst against `--min 1 --max 4` and the default rule: when each instance came, how long its
 *      move held frames, and the burst's throughput;
 *   3. one scale change, 1 → 2 and 2 → 1, with 2,000 devices of state (about 1,000 of them move each time):
 *      the whole change (2 → 1 includes closing the thread) and the time frames were held.
 */

const GEOFENCE = resolve('kernels/build/geofence.wasm');
/** Monaco's quarters and boundary, from the OSM extract: real polygons, so that the kernel's work per fix is a real fence's */
const MONACO = resolve('../shared/data/osm/monaco.osm.pbf');
/** a gateway's frame: 100 devices' fixes; the burst: 2,000 frames over 1,000 devices */
const PER_FRAME = 100;
const DEVICES = 1000;
const BURST = 2000;
const MOVE_DEVICES = 2000;
const MOVE_RUNS = 10;

const workflowText = (dir: string) => `name: autoscale-bench
listen: [quic://127.0.0.1:0]
auth: { token: source-token }
control: { token: control-token }
state: ${join(dir, 'state')}
tags: { gps: 16, alerts: 20 }
functions: []
`;

async function serve(dir: string): Promise<ServedWorkflow & { wf: Workflow }> {
  const file = join(dir, 'workflow.yaml');
  await writeFile(file, workflowText(dir));
  const wf = parseWorkflow(readFileSync(file, 'utf8'), file);
  return Object.assign(await serveWorkflow(wf, { log: logger('bench'), drainTimeout: 1000 }), { wf });
}

/** a round of fixes: devices [from, from + PER_FRAME) at second `s`, spread over Monaco, moving east */
const frame = (from: number, s: number, count = DEVICES): GpsRecord[] =>
  Array.from({ length: PER_FRAME }, (_, i) => {
    const d = (from + i) % count;
    return { deviceId: `v${d}`, t: s * 1000, lon: 7.409 + (d % 40) * 0.0006 + (s % 60) * 0.00005, lat: 43.725 + Math.floor(d / 40) * 0.0008, speed: 10 };
  });

/** `frames` frames written as fast as the source takes them; ms until all are acknowledged */
async function burst(src: Source, frames: number, start = 0, devices = DEVICES): Promise<number> {
  const t0 = now();
  for (let n = 0; n < frames; n++) {
    const k = start + n;
    if (!src.write('gps', frame((k * PER_FRAME) % devices, Math.floor((k * PER_FRAME) / devices) + 1, devices))) await waitFor(() => src.stats().spooled < 20_000, 'the spool to drain');
    else if (n % 8 === 7) await turn();
  }
  if (!(await src.flush(300_000))) throw new Error('the burst was not acknowledged');
  return now() - t0;
}

async function deploy(served: ServedWorkflow, name: string, min: number, max: number, fences: string): Promise<void> {
  const wasm = new Uint8Array(readFileSync(GEOFENCE));
  const url = served.zipper.listeners[0].url;
  const r = await controlRequest({ zipper: url, certHash: served.zipper.tls.certHash, token: 'control-token' }, { op: 'deploy', name, observe: ['gps'], emit: ['alerts'], params: { fences, detect: ['enter', 'exit'] }, min, max, wasm, hash: sha256(wasm) });
  if (!r.ok) throw new Error(r.error);
}

export async function run(): Promise<void> {
  setLogLevel('warn');
  const dir = await mkdtemp(join(tmpdir(), 'geoflux-autoscale-bench-'));
  const fences = MONACO;
  const fixes = BURST * PER_FRAME;
  try {
    // 1. fixed sizes; one instance again at the end, to show what the run's order and the machine's load do
    const fixed: (string | number)[][] = [];
    for (const [i, n] of [1, 2, 4, 1].entries()) {
      const served = await serve(dir);
      const src = await connectSource({ name: 'gw', zipper: served.zipper.memoryUrl, token: 'source-token' });
      try {
        await deploy(served, `fixed${n}`, n, n, fences);
        await burst(src, DEVICES / PER_FRAME); // every device seen once: state, and the kernels warm
        const ms = await burst(src, BURST, DEVICES / PER_FRAME);
        fixed.push([`${n} (--min ${n} --max ${n})${i === 3 ? ', again' : ''}`, fmt(fixes), fmt(ms), fmt((fixes / ms) * 1000)]);
      } finally {
        await src.close(1000);
        await served.stop();
      }
    }

    // 2. the burst against --min 1 --max 4, the default rule
    const changes: (string | number)[][] = [];
    let autoRow: (string | number)[];
    {
      const served = await serve(dir);
      const src = await connectSource({ name: 'gw', zipper: served.zipper.memoryUrl, token: 'source-token' });
      try {
        await deploy(served, 'auto', 1, 4, fences);
        await burst(src, DEVICES / PER_FRAME);
        const scaler = served.deployments!.autoscaling()[0].scaler;
        const t0 = now();
        let seen = 0;
        const watch = setInterval(() => {
          // each change as it is counted: when, and how long it held frames
          if (scaler.ups > seen) {
            seen = scaler.ups;
            changes.push([`up to ${seen + 1}`, fmt((now() - t0) / 1000, 1), fmt(scaler.lastHeldMs, 1)]);
          }
        }, 20);
        const ms = await burst(src, BURST, DEVICES / PER_FRAME);
        clearInterval(watch);
        autoRow = [`autoscaled (--min 1 --max 4), ended at ${scaler.instances}`, fmt(fixes), fmt(ms), fmt((fixes / ms) * 1000)];
      } finally {
        await src.close(1000);
        await served.stop();
      }
    }

    // 3. one change with 2,000 devices' state, straight through the instance host
    const moves = { up: [] as number[], upHeld: [] as number[], down: [] as number[], downHeld: [] as number[], moved: [] as number[] };
    {
      const served = await serve(dir);
      const src = await connectSource({ name: 'gw', zipper: served.zipper.memoryUrl, token: 'source-token' });
      try {
        const f: WorkflowFunction = { name: 'moving', observe: ['gps'], emit: ['alerts'], dispatch: { kind: 'partition', key: 'deviceId' }, instances: 1, host: 'local', kernel: GEOFENCE, params: { fences, detect: ['enter', 'exit'] }, where: 'edge' };
        served.zipper.addFunction(f);
        await startFunction(served.wf, f, served, logger('bench'), (e) => e);
        const host = threadInstances(served.wf, served, logger('bench'), f);
        await burst(src, MOVE_DEVICES / PER_FRAME, 0, MOVE_DEVICES);
        for (let i = 0; i < MOVE_RUNS; i++) {
          let t = now();
          const up = await host.add();
          moves.up.push(now() - t);
          moves.upHeld.push(up.heldMs);
          moves.moved.push(up.moved);
          // a round between changes, so the devices' state is live on their new owners
          await burst(src, MOVE_DEVICES / PER_FRAME, (i + 1) * (MOVE_DEVICES / PER_FRAME), MOVE_DEVICES);
          t = now();
          const down = await host.remove();
          moves.down.push(now() - t);
          moves.downHeld.push(down.heldMs);
          moves.moved.push(down.moved);
        }
      } finally {
        await src.close(1000);
        // not a workflow's function nor a deployed one: serve's stop would leave it to lose the zipper
        await stopFunction(served, 'moving');
        await served.stop();
      }
    }

    console.log(`geofence (Monaco's quarters and boundary), a burst of ${fmt(BURST)} frames of ${PER_FRAME} fixes over ${fmt(DEVICES)} devices, written as fast as the source takes them\n`);
    console.log(table(['instances', 'fixes', 'ms until all handled', 'fixes/s'], [...fixed, autoRow!]));
    console.log(`\nthe autoscaled run's changes (rule: +1 after 2 s over 64 frames an instance, −1 after 30 s idle)\n`);
    console.log(table(['change', 's after the burst began', 'frames held ms'], changes.length ? changes : [['none', '—', '—']]));
    const s = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const p = (xs: number[], q: number) => fmt(percentile(s(xs), q), 1);
    console.log(`\none scale change with ${fmt(MOVE_DEVICES)} devices of state, ${MOVE_RUNS} runs each way (devices moved per change: p50 ${p(moves.moved, 50)})\n`);
    console.log(
      table(
        ['change', 'whole change p50 ms', 'p90 ms', 'frames held p50 ms', 'p90 ms'],
        [
          ['1 → 2 (thread started aside, then the move)', p(moves.up, 50), p(moves.up, 90), p(moves.upHeld, 50), p(moves.upHeld, 90)],
          ['2 → 1 (the move, then the thread closed)', p(moves.down, 50), p(moves.down, 90), p(moves.downHeld, 50), p(moves.downHeld, 90)],
        ],
      ),
    );
    console.log(`\nthis machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} (1 min) at the end: shared, so compare rows of one run`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
