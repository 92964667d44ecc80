import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { tap } from 'rxjs';
import { connectSource, connectStreamFunction, setLogLevel, type Logger, type Source } from '../index.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { fmt, table } from './stats.ts';

/**
 * The probe of issue #20 as a benchmark: N sources in this one process, each its own QUIC connection writing
 * one fix a second, to a real `geoflux serve` child (bench/soak.yaml: a geofence in serve's threads, and every
 * fix on to a collector function in this process). Every 30 s a row: sources connected (now and the fewest
 * seen in the 30 s), reconnects, the zipper's idle disconnects, fixes spooled, fixes written and not yet seen by
 * the collector, serve's RSS and heap. After writing stops, the rows go on until every fix is acknowledged and
 * seen, for at most END_LIMIT; then what was lost: fixes written that the collector never saw, exactly.
 *
 * GEOFLUX_SOAK_SOURCES (default "300,1000", one run each) and GEOFLUX_SOAK_SECONDS (default 300) set the size;
 * GEOFLUX_SOAK_NODE_ARGS passes Node flags to serve; GEOFLUX_SOAK_HEAP_DIR takes three heap snapshots of it.
 * serve runs what `npm run build` last compiled.
 */

const SOURCES = (process.env.GEOFLUX_SOAK_SOURCES ?? '300,1000').split(',').map(Number);
const SECONDS = Number(process.env.GEOFLUX_SOAK_SECONDS ?? 300);
/** Node flags for serve, to profile it: e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" */
const NODE_ARGS = (process.env.GEOFLUX_SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);
/**
 * A directory to write heap snapshots of serve's main thread into: before the sources dial (1-before.heapsnapshot),
 * when writing has stopped (2-writing-done), and after the sources have closed (3-closed). None falls in the
 * writing: a snapshot stops serve's loop for seconds, which its peers may take for silence.
 */
const HEAP_DIR = process.env.GEOFLUX_SOAK_HEAP_DIR;
const ROW_EVERY = 30_000;
/** after writing stops, at most this long for the spool to drain and the collector to see what was acknowledged */
const END_LIMIT = 180_000;
/** at most this long for closing sources, the collector and serve: they are what the numbers are about, not part of them */
const CLOSE_LIMIT = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
/** `p`, or undefined after `ms`: what did not finish is said, not waited for */
const within = <T>(p: Promise<T>, ms: number): Promise<T | undefined> => Promise.race([p, sleep(ms).then(() => undefined)]);
/** sources dialling at once while they connect */
const DIAL_AT_ONCE = 10;
/** the next group dials once this process's loop has run no later than this (ms) for a quarter second */
const CALM_LAG = 200;
const DIAL_PATIENCE = 10_000;

const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;

interface SoakResult {
  rows: (string | number)[][];
  written: number;
  /** fixes written that the collector never saw */
  lost: number;
  /** of them, still in the sources' spools when the end phase gave up */
  unacked: number;
  duplicates: number;
  idle: number;
  reconnects: number;
  rss: number[];
}

async function soak(n: number, seconds: number): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-bench-soak-'));
  const heapArgs = HEAP_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : [];
  const serve = await startServe('bench/soak.yaml', { GEOFLUX_TEST_STATE: join(dir, 'state') }, undefined, [...NODE_ARGS, ...heapArgs]);
  const trust = { zipper: serve.url, certHash: serve.certHash };
  const pid = serve.child.pid!;
  // a busy serve may close a kept-alive connection under a second request: one scrape per row, tried twice
  const scrape = async () => {
    const once = async () => parseExposition(await (await fetch(serve.metricsUrl!)).text());
    return once().catch(once);
  };
  // per device, the fix times seen: a fix is lost when never seen, duplicated when seen twice
  const seen = new Map<string, Map<number, number>>();
  const collector = await connectStreamFunction({ name: 'collector', observe: ['gps'], ...trust });
  collector.handle((in$) =>
    in$.pipe(
      tap((f: { deviceId: string; t: number }) => {
        const byT = seen.get(f.deviceId) ?? (seen.set(f.deviceId, new Map()), seen.get(f.deviceId)!);
        byT.set(f.t, (byT.get(f.t) ?? 0) + 1);
      }),
    ),
  );
  // SIGUSR2 makes serve write a snapshot (--heapsnapshot-signal); it is done when the file stops growing
  const heapSnapshot = async (name: string) => {
    if (!HEAP_DIR) return;
    const before = new Set(readdirSync(HEAP_DIR));
    process.kill(pid, 'SIGUSR2');
    const file = await waitFor(() => readdirSync(HEAP_DIR).find((f) => !before.has(f) && f.endsWith('.heapsnapshot')), { ms: 300_000, what: 'a heap snapshot' });
    let size = -1;
    await waitFor(() => size === (size = statSync(join(HEAP_DIR, file)).size) && size > 0, { ms: 300_000, every: 2000, what: 'the heap snapshot to be written' });
    renameSync(join(HEAP_DIR, file), join(HEAP_DIR, `${name}.heapsnapshot`));
    process.stderr.write(`  heap snapshot ${join(HEAP_DIR, name)}.heapsnapshot (${(size / 2 ** 20).toFixed(0)} MB)\n`);
  };
  await heapSnapshot(`${n}-1-before`);
  const sources: Source[] = [];
  // why sources lost the zipper and failed to get back, by the words the SDK logs (numbers and addresses left out)
  const why = new Map<string, number>();
  const note = (msg: string) => {
    const k = msg.replace(/\d+/g, 'N');
    why.set(k, (why.get(k) ?? 0) + 1);
  };
  const log: Logger = { debug: note, info: () => {}, warn: note, error: note, child: () => log };
  const timers: NodeJS.Timeout[] = [];
  let written = 0;
  try {
    let dialFailures = 0;
    // a first dial that fails in a busy process is tried again, and counted: it is not a disconnect
    const dial = async (name: string): Promise<Source> => {
      for (;;) {
        try {
          return await connectSource({ name, ...trust, connectTimeout: 60_000, log });
        } catch (e) {
          dialFailures++;
          note(`first dial failed: ${(e as Error).message}`);
        }
      }
    };
    // dials paced by this process's own lag: handshakes that starve the connected sources' heartbeats cost
    // reconnects, whose handshakes starve them more (at most DIAL_PATIENCE ms of waiting per group)
    const dialLag = monitorEventLoopDelay({ resolution: 20 });
    dialLag.enable();
    for (let i = 0; i < n; i += DIAL_AT_ONCE) {
      const until = Date.now() + DIAL_PATIENCE;
      do {
        dialLag.reset();
        await sleep(250);
      } while (dialLag.max / 1e6 > CALM_LAG && Date.now() < until);
      sources.push(...(await Promise.all(Array.from({ length: Math.min(DIAL_AT_ONCE, n - i) }, (_, j) => dial(`soak-${i + j}`)))));
    }
    dialLag.disable();
    if (dialFailures) process.stderr.write(`  ${dialFailures} first dials failed and were tried again\n`);
    process.stderr.write(`  ${n} sources connected; writing for ${seconds} s\n`);
    const t0 = Date.now();
    sources.forEach((s, i) => {
      let k = 0;
      // spread over the second, as independent devices would be
      const start = setTimeout(() => {
        const write = () => {
          s.write('gps', { deviceId: `veh-${i}`, t: t0 + k * 1000, lon: 7.41 + (i % 100) * 0.0003, lat: 43.725 + (k % 60) * 0.0002, speed: 10 });
          k++;
          written++;
        };
        write();
        timers.push(setInterval(write, 1000));
      }, (i * 1000) / n);
      timers.push(start);
    });
    const rows: (string | number)[][] = [];
    const rss: number[] = [];
    // how late this process's timers run: the heartbeats' enemy
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    let fewest = n;
    const sampler = setInterval(() => (fewest = Math.min(fewest, sources.filter((s) => s.stats().connected).length)), 1000);
    timers.push(sampler);
    const sum = (f: (s: Source) => number) => sources.reduce((a, s) => a + f(s), 0);
    const delivered = () => [...seen.values()].reduce((a, m) => a + m.size, 0);
    const row = async (note = '') => {
      const m = await scrape();
      const r = rssMb(pid);
      rss.push(r);
      rows.push([
        `${Math.round((Date.now() - t0) / 1000)} s${note}`,
        sources.filter((s) => s.stats().connected).length,
        fewest,
        sum((s) => s.stats().reconnects),
        total(m, 'geoflux_listener_timeouts_total', { kind: 'idle' }),
        sum((s) => s.stats().spooled),
        fmt(written),
        fmt(written - delivered()),
        r.toFixed(0),
        (total(m, 'geoflux_nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0),
        (total(m, 'geoflux_nodejs_eventloop_lag_max_seconds') * 1000).toFixed(0),
        (lag.max / 1e6).toFixed(0),
      ]);
      lag.reset();
      process.stderr.write(`  ${rows[rows.length - 1].join('  ')}\n`);
      fewest = n;
    };
    await row();
    const rowTimes: number[] = [];
    for (let next = ROW_EVERY; next < seconds * 1000; next += ROW_EVERY) rowTimes.push(next);
    rowTimes.push(seconds * 1000);
    for (const [i, at] of rowTimes.entries()) {
      await sleep(t0 + at - Date.now());
      if (i === rowTimes.length - 1) for (const t of timers.splice(0)) clearInterval(t);
      await row();
    }
    await heapSnapshot(`${n}-2-writing-done`);
    timers.push(setInterval(() => (fewest = Math.min(fewest, sources.filter((s) => s.stats().connected).length)), 1000));
    // the end: no more writes; rows go on until every fix is acknowledged and seen by the collector, or END_LIMIT
    process.stderr.write(`  writing stopped; waiting at most ${END_LIMIT / 1000} s for the spools to drain\n`);
    const given = () => sum((s) => s.stats().dropped + s.stats().refused);
    const settled = () => sum((s) => s.stats().spooled) === 0 && delivered() >= written - given();
    const endBy = Date.now() + END_LIMIT;
    while (!settled() && Date.now() < endBy) {
      await waitFor(settled, { ms: Math.min(ROW_EVERY, endBy - Date.now()), every: 200 }).catch(() => {});
      await row(' (end)');
    }
    const unacked = sum((s) => s.stats().spooled);
    const duplicates = [...seen.values()].reduce((a, m) => a + [...m.values()].filter((c) => c > 1).length, 0);
    for (const [k, c] of [...why].sort((a, b) => b[1] - a[1]).slice(0, 8)) process.stderr.write(`  ${c} × ${k}\n`);
    return {
      rows,
      written,
      lost: written - delivered(),
      unacked,
      duplicates,
      idle: total(await scrape(), 'geoflux_listener_timeouts_total', { kind: 'idle' }),
      reconnects: sum((s) => s.stats().reconnects),
      rss,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    const closed = await within(Promise.all([...sources.map((s) => s.close(0)), collector.close()]), CLOSE_LIMIT);
    if (!closed) process.stderr.write(`  sources and collector not closed after ${CLOSE_LIMIT / 1000} s; going on\n`);
    await heapSnapshot(`${n}-3-closed`).catch((e: Error) => process.stderr.write(`  ${e.message}\n`));
    if ((await within(serve.stop(), CLOSE_LIMIT)) === undefined) {
      process.stderr.write(`  serve still running ${CLOSE_LIMIT / 1000} s after Ctrl-C; killed\n`);
      serve.child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  setLogLevel('silent');
  const summary: (string | number)[][] = [];
  for (const n of SOURCES) {
    process.stderr.write(`soak: ${n} sources, 1 fix/s each, ${SECONDS} s\n`);
    const r = await soak(n, SECONDS);
    console.log(`\n${n} sources at 1 fix/s for ${SECONDS} s, one client process, serve in its own\n`);
    console.log(table(['time', 'connected', 'fewest', 'reconnects', 'zipper idle disconnects', 'spooled', 'written', 'not yet seen', 'serve RSS MB', 'serve heap MB', 'serve lag max ms', 'client lag max ms'], r.rows));
    summary.push([n, SECONDS, r.idle, r.reconnects, fmt(r.written), r.lost, r.duplicates, `${r.rss[0].toFixed(0)} → ${r.rss[r.rss.length - 1].toFixed(0)}`]);
    console.log(`\n${r.idle} idle disconnects at the zipper, ${r.reconnects} reconnects; ${r.lost} of ${r.written} fixes lost (${r.unacked} of them still unacknowledged when the end phase gave up), ${r.duplicates} duplicated`);
  }
  console.log('\n');
  console.log(table(['sources', 'seconds', 'zipper idle disconnects', 'source reconnects', 'fixes written', 'lost', 'duplicates', 'serve RSS MB'], summary));
}
