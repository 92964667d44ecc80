import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { connectSource, connectStreamFunction, setLogLevel } from '../index.ts';
import { startServe, type ServeProcess } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { freePort, freeUdpPort } from '../testing/free-port.ts';
import { fmt, now, percentile } from './stats.ts';

/**
 * What faults cost, against a real `geoflux serve` (the compiled command) in a process of its own: fixes
 * lost when it is killed mid-stream and started again, how long a crashed function takes to work again,
 * and what a Prometheus scrape costs.
 */

const scratch = () => mkdtempSync(join(tmpdir(), 'geoflux-bench-recovery-'));

/** A source writes 50 fixes every 10 ms; serve is SIGKILLed after 2 s and started again 3 s later. */
export async function fixesLostPerKill(scheme: 'quic' | 'webtransport'): Promise<{ written: number; lost: number; duplicates: number; unacked: number; back: number }> {
  const dir = scratch();
  const port = scheme === 'quic' ? await freeUdpPort() : await freePort();
  const env = { GEOFLUX_TEST_LISTEN: scheme === 'quic' ? `quic://127.0.0.1:${port}` : `webtransport://127.0.0.1:${port}/geoflux`, GEOFLUX_TEST_STATE: join(dir, 'state') };
  let serve = await startServe('reliability/testdata/relay.yaml', env);
  const trust = { zipper: serve.url, certHash: serve.certHash, maxBackoff: 250 };
  const seen = new Map<number, number>();
  const fn = await connectStreamFunction({ name: 'collector', observe: ['gps'], ...trust });
  // fixes are numbered by their time (a speed that counted them passed 1,000 knots, which write() refuses)
  fn.handle((in$) => in$.pipe(tap((r: { t: number }) => seen.set(r.t, (seen.get(r.t) ?? 0) + 1))));
  const source = await connectSource({ name: 'gw', ...trust });
  let written = 0;
  const t0 = Date.now();
  const writing = setInterval(() => {
    source.write('gps', Array.from({ length: 50 }, (_, j) => ({ deviceId: `veh-${j}`, t: t0 + written + j, lon: 7.42, lat: 43.73, speed: 10 })));
    written += 50;
  }, 10);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await sleep(2000);
    serve.child.kill('SIGKILL');
    await serve.exited;
    await sleep(3000);
    serve = await startServe('reliability/testdata/relay.yaml', env);
    const restarted = now();
    await waitFor(() => source.stats().connected, { ms: 30_000, what: 'the source back' });
    const back = now() - restarted;
    await sleep(2000);
    clearInterval(writing);
    const report = await source.close(30_000);
    await waitFor(() => seen.size >= written - report.unacked - report.dropped, { ms: 30_000, what: 'the collector' });
    return { written, lost: written - seen.size, duplicates: [...seen.values()].filter((n) => n > 1).length, unacked: report.unacked, back };
  } finally {
    clearInterval(writing);
    await fn.close();
    await serve.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ms from writing the fix a function crashes on (from a timer) to the restarted instance's output for it */
export async function functionRecovery(): Promise<number> {
  const dir = scratch();
  const serve: ServeProcess = await startServe('reliability/testdata/crash.yaml', { GEOFLUX_TEST_MODE: 'timer', GEOFLUX_TEST_MARKER: join(dir, 'failed-once'), GEOFLUX_TEST_STATE: join(dir, 'state') });
  try {
    const trust = { zipper: serve.url, certHash: serve.certHash };
    let boomAt = 0;
    const fn = await connectStreamFunction({ name: 'collector', observe: ['out'], ...trust });
    fn.handle((in$) => in$.pipe(tap((e: { by: string; deviceId: string }) => e.by === 'flaky' && e.deviceId === 'boom' && (boomAt = now()))));
    const source = await connectSource({ name: 'fleet', ...trust });
    source.write('gps', { deviceId: 'warm-up', t: Date.now(), lon: 7.42, lat: 43.73 });
    await source.flush();
    const t0 = now();
    source.write('gps', { deviceId: 'boom', t: Date.now(), lon: 7.42, lat: 43.73 });
    await waitFor(() => boomAt > 0, { ms: 60_000, what: 'the restarted function' });
    await source.close();
    await fn.close();
    return boomAt - t0;
  } finally {
    await serve.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** a /metrics scrape of a running serve: median and max ms over `n` scrapes, and its size */
export async function scrapeCost(n = 50): Promise<{ p50: number; max: number; bytes: number; series: number }> {
  const dir = scratch();
  const serve = await startServe('reliability/testdata/metrics.yaml', { GEOFLUX_TEST_STATE: join(dir, 'state'), GEOFLUX_TEST_MQTT_PORT: String(await freePort()) });
  try {
    const ms: number[] = [];
    let text = '';
    for (let i = 0; i < n; i++) {
      const t0 = now();
      text = await (await fetch(serve.metricsUrl!)).text();
      ms.push(now() - t0);
    }
    ms.sort((a, b) => a - b);
    return { p50: percentile(ms, 50), max: ms[ms.length - 1], bytes: text.length, series: text.split('\n').filter((l) => l && !l.startsWith('#')).length };
  } finally {
    await serve.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const recoveryRows = async (): Promise<(string | number)[][]> => {
  setLogLevel('silent');
  const rows: (string | number)[][] = [];
  for (const scheme of ['quic', 'webtransport'] as const) {
    const r = await fixesLostPerKill(scheme);
    rows.push([`serve SIGKILLed mid-stream and started again 3 s later (${scheme})`, `${fmt(r.lost)} of ${fmt(r.written)} fixes lost, ${r.duplicates} delivered twice, ${r.unacked} unacknowledged at close; source back ${fmt(r.back)} ms after serve listens`]);
  }
  const rec: number[] = [];
  for (let i = 0; i < 3; i++) rec.push(await functionRecovery());
  rec.sort((a, b) => a - b);
  rows.push(['a local function that crashes (an exception from a timer): the fix it crashed on handled again', `median ${fmt(percentile(rec, 50))} ms, max ${fmt(rec[rec.length - 1])} ms (3 runs)`]);
  const s = await scrapeCost();
  rows.push(['a /metrics scrape (one function, one sink, process metrics)', `median ${s.p50.toFixed(1)} ms, max ${s.max.toFixed(1)} ms; ${fmt(s.bytes)} bytes, ${s.series} series`]);
  return rows;
};
