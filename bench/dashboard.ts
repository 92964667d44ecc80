import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import mqtt from 'mqtt';
import { startEmbeddedBroker } from '../alerts/embedded-broker.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { BUILTIN_WASM } from '../kernels/host/builtin-wasm.ts';
import { loadWasmer, nodeWasi, wasmerWasi } from '../kernels/host/node-wasi.ts';
import type { WasiHost } from '../kernels/host/wasi.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseTrace } from '../simulators/replay/trace-formats.ts';
import { launchChromium, type Chromium } from '../testing/chromium.ts';
import { CHROMIUM, findTool, installHint } from '../testing/system-tool.ts';
import { fmt, table } from './stats.ts';
import { timeGeofence, type GeofenceTiming } from './time-geofence.ts';

/**
 * `npm run bench -- dashboard`: in Debian's chromium, headless (software WebGL, as in the tests)
 *   1. frames per second the dashboard renders with 500 and 2,000 live vehicles, from a real `geoflux serve`
 *      (requestAnimationFrame callbacks counted in the page), the map still and panning every frame;
 *   2. the geofence kernel's fixes/s in the page (geoflux's WASI shim) beside the same .wasm in Node (node:wasi,
 *      @wasmer/wasi);
 *   3. the page's data path: 2,000 vehicles as one retained state message each per second, or as one
 *      positions message a second, weighed by the page's main-thread time and this process's CPU.
 */

const seconds = Number(process.env.GEOFLUX_BENCH_SECONDS ?? 10);
const FENCES = '../shared/data/fences/seattle-neighborhoods.geojson';
const TRACE = '../shared/data/traces/seattle-newson-krumm-gps.txt';

/** a page of the bench's own: the probe bundled for browsers, and the geofence kernel */
async function probePage(): Promise<{ url: string; close(): Promise<void> }> {
  const out = await build({ entryPoints: [new URL('./dashboard-probe.ts', import.meta.url).pathname], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'warning' });
  const files: Record<string, [string, Buffer]> = {
    '/': ['text/html', Buffer.from('<!doctype html><meta charset="utf-8"><script type="module" src="/probe.js"></script>')],
    '/probe.js': ['text/javascript', Buffer.from(out.outputFiles[0].contents)],
  };
  const server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (!f) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

async function kernels(c: Chromium, page: string): Promise<void> {
  const fences = JSON.parse(readFileSync(FENCES, 'utf8')) as object;
  const fixes = parseTrace(readFileSync(TRACE, 'utf8')).records;
  const batches: GpsRecord[][] = [];
  for (let i = 0; i < fixes.length; i += 4096) batches.push(fixes.slice(i, i + 4096));
  const wasm = readFileSync(BUILTIN_WASM.geofence());
  const RUNS = 5;

  const inNode = async (host: WasiHost, hostInit: () => Promise<unknown>) => {
    const t = performance.now();
    await hostInit();
    return { hostInit: performance.now() - t, ...(await timeGeofence(wasm, host, fences, batches, RUNS)) };
  };
  await c.page.goto(page);
  await c.page.waitForFunction(() => 'probe' in window);
  const inPage = () =>
    c.page.evaluate(
      ({ wasm, fences, batches, runs }) => (window as unknown as { probe: { runKernel: Function } }).probe.runKernel(new Uint8Array(wasm).buffer, fences, batches, runs),
      { wasm: [...wasm], fences, batches, runs: RUNS },
    ).then((r) => ({ hostInit: 0, ...(r as GeofenceTiming) }));
  const rows: [string, Awaited<ReturnType<typeof inNode>>][] = [
    ['Node, node:wasi', await inNode(nodeWasi, async () => undefined)],
    ['Node, @wasmer/wasi', await inNode(wasmerWasi, loadWasmer)],
    ['chromium, geoflux browser shim', await inPage()],
  ];
  console.log(`geofence.wasm, events (enter/exit/cross/dwell): ${fixes.length} Seattle fixes × 90 neighbourhoods, batches of 4096, best of ${RUNS} (a fresh instance each)\n`);
  console.log(
    table(
      ['where, WASI', 'fixes/s', 'events', 'host init ms', 'compile ms', 'instance + fences ms'],
      rows.map(([name, r]) => [name, fmt(r.fixesPerSecond), r.events, r.hostInit.toFixed(1), r.compile.toFixed(2), r.instance.toFixed(2)]),
    ),
  );
}

/** the page's main-thread busy time and this process's CPU, per second, while `publish` runs */
async function dataPath(c: Chromium, page: string): Promise<void> {
  const broker = await startEmbeddedBroker({ port: 0, wsPort: 0 });
  const cdp = await c.context.newCDPSession(c.page);
  await cdp.send('Performance.enable');
  const busy = async () => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
    return metrics.find((m) => m.name === 'TaskDuration')!.value;
  };
  const VEHICLES = 2000;
  const state = (i: number, t: number) => ({ deviceId: `veh-${i}`, t, time: new Date(t).toISOString(), lon: 7.42 + i * 1e-5, lat: 43.73, speed: 8.3, edge: i, wayId: 1000 + i, fences: ['Monte-Carlo'] });
  const rows: (string | number)[][] = [];
  const pub = await mqtt.connectAsync(broker.url);
  for (const [name, topic, second] of [
    ['a retained state message per vehicle (geoflux/state/{deviceId})', 'geoflux/state/+', (t: number) => Array.from({ length: VEHICLES }, (_, i) => [`geoflux/state/veh-${i}`, JSON.stringify(state(i, t))] as const)],
    ['one positions message (geoflux/positions)', 'geoflux/positions', (t: number) => [['geoflux/positions', JSON.stringify({ t, vehicles: Array.from({ length: VEHICLES }, (_, i) => ({ deviceId: `veh-${i}`, t, lon: 7.42 + i * 1e-5, lat: 43.73, speed: 8.3 })) })] as const]],
  ] as const) {
    await c.page.goto(page);
    await c.page.waitForFunction(() => 'probe' in window);
    await c.page.evaluate(async ({ url, topic }) => Object.assign(window, { sub: await (window as unknown as { probe: { subscribe: Function } }).probe.subscribe(url, topic) }), { url: broker.wsUrl!, topic });
    const b0 = await busy();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let s = 0; s < seconds; s++) {
      const at = performance.now();
      for (const [tp, payload] of second(Date.now())) pub.publish(tp, payload, { qos: 0, retain: true });
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (performance.now() - at))));
    }
    await new Promise((r) => setTimeout(r, 500));
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const pageBusy = ((await busy()) - b0) / wall;
    const got = await c.page.evaluate(() => (window as unknown as { sub: { counts(): { messages: number; vehicles: number; bytes: number }; close(): void } }).sub.counts());
    await c.page.evaluate(() => (window as unknown as { sub: { close(): void } }).sub.close());
    rows.push([name, fmt(got.messages / wall), fmt(got.vehicles / wall), fmt(got.bytes / wall / 1024, 1), `${(pageBusy * 100).toFixed(1)} %`, `${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1)} %`]);
  }
  await pub.endAsync();
  await broker.close();
  console.log(`\nthe page's data path: ${VEHICLES} vehicles a second over MQTT over WebSocket (embedded broker), ${seconds} s each; the page only parses\n`);
  console.log(table(['positions as', 'messages/s in the page', 'vehicles/s', 'KiB/s', 'page main thread busy', 'broker + publisher CPU'], rows));
}

/** the dashboard of a real `geoflux serve` with `vehicles` simulated vehicles */
async function framesPerSecond(c: Chromium, vehicles: number, dir: string): Promise<(string | number)[]> {
  const wf = readFileSync('dashboard/testdata/live.yaml', 'utf8').replaceAll('../../../shared/', `${process.cwd()}/../shared/`).replace('vehicles: 150', `vehicles: ${vehicles}`).replace('speed: 5x', 'speed: 1x');
  const file = join(dir, `dashboard-${vehicles}.yaml`);
  writeFileSync(file, wf);
  const serve = spawn(process.execPath, ['bin/geoflux.js', 'serve', file, '--stats-every', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  serve.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise((r) => serve.on('exit', r));
  try {
    const end = Date.now() + 30_000;
    while (!/^dashboard: http:/m.test(stderr)) {
      if (Date.now() > end || serve.exitCode !== null) throw new Error(`serve printed no dashboard URL:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.page.goto(stderr.match(/^dashboard: (http:\S+)/m)![1]);
    await c.page.waitForFunction((n) => document.querySelector('[data-testid="vehicle-count"]')?.textContent === String(n), vehicles, { timeout: 60_000 });
    await new Promise((r) => setTimeout(r, 3000));
    const measure = (pan: boolean) =>
      c.page.evaluate(
        ({ ms, pan }) =>
          new Promise<{ raf: number; renders: number }>((resolve) => {
            const { map } = (window as unknown as { geoflux: { map: { on(e: string, f: () => void): void; off(e: string, f: () => void): void; panBy(o: [number, number], opts: object): void } } }).geoflux;
            let raf = 0;
            let renders = 0;
            const onRender = () => renders++;
            map.on('render', onRender);
            const t0 = performance.now();
            let dir = 1;
            const tick = (now: number) => {
              raf++;
              // back and forth, so the view stays on the city
              if (pan) map.panBy([dir * 2, 0], { duration: 0 });
              if (raf % 120 === 0) dir = -dir;
              if (now - t0 < ms) requestAnimationFrame(tick);
              else {
                map.off('render', onRender);
                resolve({ raf: (raf * 1000) / (now - t0), renders: (renders * 1000) / (now - t0) });
              }
            };
            requestAnimationFrame(tick);
          }),
        { ms: seconds * 1000, pan },
      );
    const still = await measure(false);
    const panning = await measure(true);
    const shown = await c.page.getByTestId('vehicle-count').textContent();
    return [vehicles, shown ?? '', still.raf.toFixed(1), still.renders.toFixed(1), panning.raf.toFixed(1), panning.renders.toFixed(1)];
  } finally {
    serve.kill('SIGINT');
    await exited;
  }
}

export async function run(): Promise<void> {
  if (!findTool(CHROMIUM)) {
    console.log(`skipped: ${installHint(CHROMIUM)}`);
    return;
  }
  setLogLevel('warn');
  const c = await launchChromium({ width: 1280, height: 800 });
  // tsx compiles this file keeping function names (`__name(f, "f")`), in the callbacks sent to the page too
  await c.context.addInitScript('globalThis.__name = (f) => f');
  const probe = await probePage();
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-bench-dashboard-'));
  mkdirSync(dir, { recursive: true });
  try {
    const rows = [await framesPerSecond(c, 500, dir), await framesPerSecond(c, 2000, dir)];
    console.log(`dashboard frames per second, 1280×800, headless chromium (software WebGL), ${seconds} s each; geoflux serve in its own process on the same 2 cores\n`);
    console.log(table(['vehicles', 'on the map', 'rAF/s, still', 'map frames/s, still', 'rAF/s, panning', 'map frames/s, panning'], rows));
    console.log('');
    await kernels(c, probe.url);
    await dataPath(c, probe.url);
  } finally {
    await probe.close();
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
