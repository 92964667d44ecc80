import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { controlRequest } from '../client/control-client.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { connectSource } from '../source/connect-source.ts';
import { SQUARES } from '../testing/fence-squares.ts';
import { freePort } from '../testing/free-port.ts';
import { startServe, type ServeProcess } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { thousands } from '../log/thousands.ts';
import { fmt, table } from './stats.ts';

/**
 * What geoflux holds in memory at the edge (issue #23, item 5), beside a bare `node` in the same run: the
 * resident set (RSS, /proc/<pid>/status) and the threads of each process after GEOFLUX_FOOTPRINT_SECONDS
 * (default 60) of: `node` idle; `npm start`'s workflow.yaml (on free ports); a geofence-only gateway fed
 * 1,000 devices a fix a second from this process; the same gateway once GEOFLUX_FOOTPRINT_KERNELS (default
 * 100) kernels were deployed with `--min 0` and scaled to zero (the difference); the gateway twice, with V8's
 * default settings and with the edge setting `npm start` uses (its Node flags, read from package.json), with the
 * CPU each row's serve spent in its window, which is what the edge setting costs. serve runs what
 * `npm run build` last compiled. GEOFLUX_FOOTPRINT_THREADS=1 also says, for each serve row, what each thread's
 * isolate holds (bench/thread-memory.mjs preloaded: a few KB and a timer in each thread).
 */

const SECONDS = Number(process.env.GEOFLUX_FOOTPRINT_SECONDS ?? 60);
const KERNELS = Number(process.env.GEOFLUX_FOOTPRINT_KERNELS ?? 100);
const DEVICES = 1000;
const DATA = resolve('../shared/data');
const THREADS = process.env.GEOFLUX_FOOTPRINT_THREADS === '1';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Usage {
  rssMb: number;
  threads: number;
  /** user and system CPU seconds the process spent in the row's window */
  cpu: number;
}

/** a process's user + system CPU seconds so far (/proc/<pid>/stat, in clock ticks of 1/100 s) */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** RSS and threads of `pid` after `SECONDS`, and the CPU it spent meanwhile */
async function measured(pid: number): Promise<Usage> {
  const cpu = cpuSeconds(pid);
  await sleep(SECONDS * 1000);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))![1]);
  return { rssMb: field('VmRSS') / 1024, threads: field('Threads'), cpu: cpuSeconds(pid) - cpu };
}

async function bareNode(): Promise<Usage> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    return await measured(child.pid!);
  } finally {
    child.kill();
  }
}

/** How `npm start` runs serve: the environment it sets (`NAME=value` before `node`) and Node's own flags. */
export interface StartSetting {
  env: Record<string, string>;
  flags: string[];
}

/** `npm start`'s setting (`[NAME=value …] node <flags> bin/geoflux.js serve workflow.yaml`), so that its rows run as it does */
export function startSetting(script: string): StartSetting {
  const words = script.trim().split(/\s+/);
  const node = words.indexOf('node');
  const env = words.slice(0, Math.max(node, 0));
  if (node < 0 || !words.includes('bin/geoflux.js') || env.some((w) => !/^[A-Z_][A-Z0-9_]*=\S*$/.test(w))) throw new Error(`npm start is not "[NAME=value …] node [flags] bin/geoflux.js …": ${script}`);
  return { env: Object.fromEntries(env.map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)])), flags: words.slice(node + 1, words.indexOf('bin/geoflux.js')) };
}
const START = startSetting((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start);
/** the setting as a row's label says it */
const START_LABEL = [...Object.entries(START.env).map(([k, v]) => `${k}=${v}`), ...(START.flags.length ? [`node ${START.flags.join(' ')}`] : [])].join(' ');

/** workflow.yaml as `npm start` serves it, but on free ports and with the data where this checkout finds it */
async function demoWorkflow(dir: string): Promise<string> {
  const text = readFileSync('workflow.yaml', 'utf8')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:0')
    .replace(/embedded: \{ port: \d+, ws: \d+ \}/, `embedded: { port: 0, ws: ${await freePort()} }`)
    .replace(/metrics: \{ port: \d+ \}/, 'metrics: { port: 0 }')
    .replace(/dashboard:\n  port: \d+/, 'dashboard:\n  port: 0')
    .replaceAll('../shared/data', DATA);
  const file = join(dir, 'workflow.yaml');
  writeFileSync(file, text);
  return file;
}

/** serve's environment for a row, with the per-thread probe when asked */
function rowEnv(dir: string, row: string, env: Record<string, string> = {}): Record<string, string> {
  if (!THREADS) return env;
  const probe = resolve('bench/thread-memory.mjs');
  return { ...env, GEOFLUX_THREAD_MEMORY: join(dir, `${row}.threads.jsonl`), NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${probe}`.trim() };
}

interface ThreadMemory {
  thread: string;
  heap: number;
  young: number;
  old: number;
  code: number;
  external: number;
  wasm: number[];
}

/** each thread's latest report of a row's serve, as table rows (none without GEOFLUX_FOOTPRINT_THREADS) */
function threadRows(dir: string, row: string): (string | number)[][] {
  if (!THREADS) return [];
  const latest = new Map<string, ThreadMemory>();
  for (const line of readFileSync(join(dir, `${row}.threads.jsonl`), 'utf8').split('\n')) {
    if (!line) continue;
    const t = JSON.parse(line) as ThreadMemory;
    latest.set(t.thread, t);
  }
  return [...latest.values()].map((t) => [row, t.thread, fmt(t.heap, 1), fmt(t.young, 1), fmt(t.old, 1), fmt(t.code, 1), fmt(t.external, 1), t.wasm.map((w) => fmt(w, 1)).join(' + ') || '—']);
}

async function demo(dir: string): Promise<Usage> {
  const serve = await startServe(await demoWorkflow(dir), rowEnv(dir, 'npm start', START.env), undefined, START.flags);
  try {
    return await measured(serve.child.pid!);
  } finally {
    await serve.stop();
  }
}

const GATEWAY = `name: gateway
listen: [quic://127.0.0.1:0]
auth: { token: source-token }
control: { token: control-token }
metrics: { port: 0 }
tags: { gps: 16, fences: 17, quiet: 18 }
functions:
  - name: fences
    observe: [gps]
    emit: fences
    dispatch: { partition: deviceId }
    host: local
    kernel: geofence
    params: { fences: fences.geojson, detect: [enter, exit] }
`;

/** 1,000 devices, a fix each a second, walking back and forth across the squares' borders */
function fixes(second: number): GpsRecord[] {
  const t = Date.UTC(2026, 0, 1) + second * 1000;
  return Array.from({ length: DEVICES }, (_, i) => ({ deviceId: `dev-${i}`, t, lon: (i % 50) * 0.002 + 0.0005 * Math.sin(second / 10 + i), lat: 0.0005 + Math.floor(i / 50) * 0.00045, speed: 5 }));
}

async function metricSum(serve: ServeProcess, name: string): Promise<number> {
  const text = await (await fetch(serve.metricsUrl!)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
}

interface Gateway {
  alone: Usage;
  parked: Usage;
  deployed: number;
  parkedCount: number;
}

/** the gateway, fed, then with KERNELS parked kernels; `row` names its files in `dir` */
async function gateway(dir: string, row: string, setting: StartSetting): Promise<Gateway> {
  writeFileSync(join(dir, 'fences.geojson'), JSON.stringify(SQUARES));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, GATEWAY);
  const serve = await startServe(file, rowEnv(dir, row, { ...setting.env, GEOFLUX_TEST_STATE: join(dir, `${row}.state`) }), undefined, setting.flags);
  const src = await connectSource({ name: 'devices', zipper: serve.url, certHash: serve.certHash, token: 'source-token' });
  let second = 0;
  const feeding = setInterval(() => src.write('gps', fixes(second++)), 1000);
  try {
    const alone = await measured(serve.child.pid!);
    const wasm = readFileSync('kernels/build/geofence.wasm');
    const hash = createHash('sha256').update(wasm).digest('hex');
    const control = { zipper: serve.url, certHash: serve.certHash, token: 'control-token' };
    let deployed = 0;
    for (let i = 0; i < KERNELS; i++) {
      // each observes a tag nothing writes: deployed, then idle
      const r = await controlRequest(control, { op: 'deploy', name: `idle-${i}`, observe: ['quiet'], emit: ['fences'], params: { fences: 'fences.geojson', detect: ['enter', 'exit'] }, min: 0, max: 1, idle: 1, wasm, hash });
      if (!r.ok) throw new Error(`deploy idle-${i}: ${r.error}`);
      deployed++;
    }
    const parkedCount = await waitFor(() => metricSum(serve, 'geoflux_function_scaled_to_zero'), { ms: 120_000, what: `${KERNELS} functions scaled to zero`, until: (n) => n >= KERNELS });
    return { alone, parked: await measured(serve.child.pid!), deployed, parkedCount };
  } finally {
    clearInterval(feeding);
    await src.close(1000);
    await serve.stop();
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-footprint-'));
  try {
    // one at a time, so that none measures while another loads the machine
    const node = await bareNode();
    const start = await demo(dir);
    const gateways = [
      { label: "Node's defaults", row: 'gateway', gw: await gateway(dir, 'gateway', { env: {}, flags: [] }) },
      { label: START_LABEL || "Node's defaults", row: 'gateway, edge', gw: await gateway(dir, 'gateway, edge', START) },
    ];
    const { deployed, parkedCount } = gateways[0].gw;
    console.log(`resident memory (RSS), threads and CPU seconds spent of each process in ${SECONDS} s; ${thousands(DEVICES)} devices a fix a second; ${deployed} kernels deployed with --min 0, ${parkedCount} scaled to zero\n`);
    const row = (name: string, u: Usage, goal: string) => [name, fmt(u.rssMb, 0), fmt(u.rssMb - node.rssMb, 0), u.threads, fmt(u.cpu, 1), goal];
    console.log(
      table(
        ['process', 'RSS MB', 'over node MB', 'threads', 'CPU s', 'goal'],
        [
          row('node, idle', node, '—'),
          row(`npm start (workflow.yaml${START_LABEL ? `, ${START_LABEL}` : ''})`, start, 'RSS ≤ 150 MB'),
          ...gateways.flatMap(({ label, gw }) => [
            row(`geofence-only gateway, ${thousands(DEVICES)} devices (${label})`, gw.alone, 'RSS ≤ 80 MB'),
            [`  + ${gw.deployed} idle kernels scaled to zero`, fmt(gw.parked.rssMb, 0), `${gw.parked.rssMb >= gw.alone.rssMb ? '+' : ''}${fmt(gw.parked.rssMb - gw.alone.rssMb, 0)} (added)`, gw.parked.threads, fmt(gw.parked.cpu, 1), 'added ≤ 20 MB'],
          ]),
        ],
      ),
    );
    const threads = [...threadRows(dir, 'npm start'), ...gateways.flatMap((g) => threadRows(dir, g.row))];
    if (threads.length) {
      console.log(`\nwhat each thread's isolate held at its last report (MB; the gateway's after the parked kernels; external includes the WebAssembly memories at their size, of which most is never touched and so not resident: npm run bench -- mapmatch reads a matcher's resident bytes):\n`);
      console.log(table(['process', 'thread', 'V8 heap', 'young gen.', 'old space', 'code', 'external', 'WebAssembly memories'], threads));
    }
    console.log(`\nthis machine: ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} (1 min) at the end: shared, so compare rows of one run`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
