import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
 * seen in the 30 s), reconnects, the zipper's idle disconnects, fixes spooled, serve's RSS and heap. At the
 * end, what was lost: fixes written that the collector never saw.
 *
 * GEOFLUX_SOAK_SOURCES (default "300,1000", one run each) and GEOFLUX_SOAK_SECONDS (default 300) set the size;
 * GEOFLUX_SOAK_NODE_ARGS passes Node flags to serve. serve runs what `npm run build` last compiled.
 */

const SOURCES = (process.env.GEOFLUX_SOAK_SOURCES ?? '300,1000').split(',').map(Number);
const SECONDS = Number(process.env.GEOFLUX_SOAK_SECONDS ?? 300);
/** Node flags for serve, to profile it: e.g. "--heapsnapshot-signal=SIGUSR2" or "--cpu-prof --cpu-prof-dir=/tmp/prof" */
const NODE_ARGS = (process.env.GEOFLUX_SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);
const ROW_EVERY = 30_000;
/** sources dialling at once while they connect */
const DIAL_AT_ONCE = 10;

const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;

interface SoakResult {
  rows: (string | number)[][];
  written: number;
  lost: number;
  duplicates: number;
  idle: number;
  reconnects: number;
  rss: number[];
}

async function soak(n: number, seconds: number): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-bench-soak-'));
  const serve = await startServe('bench/soak.yaml', { GEOFLUX_TEST_STATE: join(dir, 'state') }, undefined, NODE_ARGS);
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
    for (let i = 0; i < n; i += DIAL_AT_ONCE) {
      sources.push(...(await Promise.all(Array.from({ length: Math.min(DIAL_AT_ONCE, n - i) }, (_, j) => dial(`soak-${i + j}`)))));
    }
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
    const row = async () => {
      const m = await scrape();
      const r = rssMb(pid);
      rss.push(r);
      rows.push([
        `${Math.round((Date.now() - t0) / 1000)} s`,
        sources.filter((s) => s.stats().connected).length,
        fewest,
        sum((s) => s.stats().reconnects),
        total(m, 'geoflux_listener_timeouts_total', { kind: 'idle' }),
        sum((s) => s.stats().spooled),
        fmt(written),
        r.toFixed(0),
        (total(m, 'geoflux_process_nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0),
        (total(m, 'geoflux_process_nodejs_eventloop_lag_max_seconds') * 1000).toFixed(0),
        (lag.max / 1e6).toFixed(0),
      ]);
      lag.reset();
      process.stderr.write(`  ${rows[rows.length - 1].join('  ')}\n`);
      fewest = n;
    };
    await row();
    for (let next = ROW_EVERY; next <= seconds * 1000; next += ROW_EVERY) {
      await new Promise((r) => setTimeout(r, t0 + next - Date.now()));
      await row();
    }
    if (seconds * 1000 % ROW_EVERY) {
      await new Promise((r) => setTimeout(r, t0 + seconds * 1000 - Date.now()));
      await row();
    }
    for (const t of timers) clearInterval(t);
    const reports = await Promise.all(sources.map((s) => s.close(60_000)));
    const unacked = reports.reduce((a, r) => a + r.unacked + r.dropped, 0);
    const expected = () => [...seen.values()].reduce((a, m) => a + m.size, 0);
    await waitFor(() => expected() >= written - unacked, { ms: 60_000, what: 'the collector to see every acknowledged fix' }).catch(() => {});
    const duplicates = [...seen.values()].reduce((a, m) => a + [...m.values()].filter((c) => c > 1).length, 0);
    for (const [k, c] of [...why].sort((a, b) => b[1] - a[1]).slice(0, 8)) process.stderr.write(`  ${c} × ${k}\n`);
    return {
      rows,
      written,
      lost: written - expected(),
      duplicates,
      idle: total(await scrape(), 'geoflux_listener_timeouts_total', { kind: 'idle' }),
      reconnects: sum((s) => s.stats().reconnects),
      rss,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    await Promise.all(sources.map((s) => s.close(0)));
    await collector.close();
    await serve.stop();
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
    console.log(table(['time', 'connected', 'fewest', 'reconnects', 'zipper idle disconnects', 'spooled', 'written', 'serve RSS MB', 'serve heap MB', 'serve lag max ms', 'client lag max ms'], r.rows));
    summary.push([n, SECONDS, r.idle, r.reconnects, fmt(r.written), r.lost, r.duplicates, `${r.rss[0].toFixed(0)} → ${r.rss[r.rss.length - 1].toFixed(0)}`]);
    console.log(`\n${r.idle} idle disconnects at the zipper, ${r.reconnects} reconnects; ${r.lost} of ${r.written} fixes lost, ${r.duplicates} duplicated`);
  }
  console.log('\n');
  console.log(table(['sources', 'seconds', 'zipper idle disconnects', 'source reconnects', 'fixes written', 'lost', 'duplicates', 'serve RSS MB'], summary));
}
