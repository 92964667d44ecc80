import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { connectStreamFunction, setLogLevel } from '../index.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import type { ClientsRow, FromClients, SoakClientsConfig, ToClients } from './soak-clients.ts';
import { fmt, table } from './stats.ts';

/**
 * The probe of issue #20 as a benchmark: N sources, each its own QUIC connection writing one fix a second, to a
 * real `geoflux serve` child (bench/soak.yaml: a geofence in serve's threads, and every fix on to a collector
 * function in this process). The sources live in client processes of their own (bench/soak-clients.ts), at
 * most SOURCES_PER_CLIENT each, as real devices are spread over machines: one process holding them all was
 * itself the bottleneck, its stalls the disconnects. Every 30 s a row: sources connected (now and the fewest
 * seen in the 30 s), reconnects, the zipper's idle disconnects, the disconnects the clients saw while their own
 * loop was stalled and otherwise, fixes spooled, fixes written and not yet seen by the collector, serve's RSS
 * and heap, and how late serve's and the clients' loops ran. After writing stops, rows go on until every fix
 * is acknowledged and seen, for at most END_LIMIT; then the sources close within CLOSE_LIMIT, and what the
 * collector never saw is lost, exactly.
 *
 * GEOFLUX_SOAK_SOURCES (default "300,1000", one run each), GEOFLUX_SOAK_SECONDS (default 300) and
 * GEOFLUX_SOAK_CLIENTS (client processes; default enough for SOURCES_PER_CLIENT each) set the size;
 * GEOFLUX_SOAK_NODE_ARGS passes Node flags to serve; GEOFLUX_SOAK_HEAP_DIR takes three heap snapshots of it;
 * GEOFLUX_SOAK_SERVE_LOG keeps what it logged.
 * serve runs what `npm run build` last compiled.
 */

const SOURCES = (process.env.GEOFLUX_SOAK_SOURCES ?? '300,1000').split(',').map(Number);
const SECONDS = Number(process.env.GEOFLUX_SOAK_SECONDS ?? 300);
const SOURCES_PER_CLIENT = 250;
const CLIENTS = process.env.GEOFLUX_SOAK_CLIENTS ? Number(process.env.GEOFLUX_SOAK_CLIENTS) : undefined;
/** Node flags for serve, to profile it: e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" */
const NODE_ARGS = (process.env.GEOFLUX_SOAK_NODE_ARGS ?? '').split(' ').filter(Boolean);
/**
 * A directory to write heap snapshots of serve's main thread into: before the sources dial (1-before.heapsnapshot),
 * when writing has stopped (2-writing-done), and after the sources have closed (3-closed). None falls in the
 * writing: a snapshot stops serve's loop for seconds, which its peers may take for silence.
 */
const HEAP_DIR = process.env.GEOFLUX_SOAK_HEAP_DIR;
/** a file to write what serve logged into, once it has stopped (its idle disconnects say how long each peer was silent) */
const SERVE_LOG = process.env.GEOFLUX_SOAK_SERVE_LOG;
const ROW_EVERY = 30_000;
/** sources dialling at once while they connect, over all the client processes */
const DIAL_AT_ONCE = 10;
/** the next group dials once serve's loop has run no later than this (ms) since the last look ... */
const CALM_LAG = 300;
/** ... or this long (ms) has passed */
const DIAL_PATIENCE = 5000;
/** after writing stops, at most this long for the spools to drain and the collector to see what was acknowledged */
const END_LIMIT = 60_000;
const END_ROW_EVERY = 10_000;
/** at most this long for closing sources, the collector and serve: what is unacknowledged then is lost */
const CLOSE_LIMIT = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
/** `p`, or undefined after `ms`: what did not finish is said, not waited for */
const within = <T>(p: Promise<T>, ms: number): Promise<T | undefined> => Promise.race([p, sleep(ms).then(() => undefined)]);

const rssMb = (pid: number) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024;

/** a client process and the next message of a kind from it */
class Clients {
  private readonly waiting = new Map<string, ((m: FromClients) => void)[]>();
  constructor(
    readonly child: ChildProcess,
    readonly cfg: SoakClientsConfig,
  ) {
    child.on('message', (m: FromClients) => this.waiting.get(m.type)?.shift()?.(m));
  }
  ask<K extends FromClients['type']>(m: ToClients, answer: K): Promise<Extract<FromClients, { type: K }>> {
    const p = new Promise<Extract<FromClients, { type: K }>>((r) => {
      const q = this.waiting.get(answer) ?? (this.waiting.set(answer, []), this.waiting.get(answer)!);
      q.push(r as (m: FromClients) => void);
    });
    this.child.send(m);
    return p;
  }
}

interface SoakResult {
  rows: (string | number)[][];
  perClient: (string | number)[][];
  written: number;
  /** fixes written that the collector never saw */
  lost: number;
  /** of them, still in the sources' spools when they closed */
  unacked: number;
  duplicates: number;
  idle: number;
  reconnects: number;
  disconnectsStalled: number;
  disconnectsOther: number;
  rss: number[];
}

async function soak(n: number, seconds: number): Promise<SoakResult> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-bench-soak-'));
  const heapArgs = HEAP_DIR ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${HEAP_DIR}`] : [];
  const serve = await startServe('bench/soak.yaml', { GEOFLUX_TEST_STATE: join(dir, 'state') }, undefined, [...NODE_ARGS, ...heapArgs]);
  const pid = serve.child.pid!;
  // a busy serve may close a kept-alive connection under a second request: one scrape per row, tried twice
  const scrape = async () => {
    const once = async () => parseExposition(await (await fetch(serve.metricsUrl!)).text());
    return once().catch(once);
  };
  // per device, the fix times seen: a fix is lost when never seen, duplicated when seen twice
  const seen = new Map<string, Map<number, number>>();
  const collector = await connectStreamFunction({ name: 'collector', observe: ['gps'], zipper: serve.url, certHash: serve.certHash });
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
  const k = CLIENTS ?? Math.ceil(n / SOURCES_PER_CLIENT);
  const clients: Clients[] = [];
  for (let c = 0, first = 0; c < k; c++) {
    const cfg: SoakClientsConfig = { zipper: serve.url, certHash: serve.certHash, first, count: Math.floor((n * (c + 1)) / k) - first, total: n };
    first += cfg.count;
    clients.push(new Clients(fork(new URL('./soak-clients.ts', import.meta.url).pathname, [JSON.stringify(cfg)]), cfg));
  }
  const rowsOf = (ask: ToClients) => Promise.all(clients.map((c) => c.ask(ask, 'row')));
  const closed: Extract<FromClients, { type: 'closed' }>[] = [];
  try {
    const dialStart = Date.now();
    const dialled = clients.map(() => 0);
    const failed = clients.map(() => 0);
    let lastSaid = Date.now();
    // one group of DIAL_AT_ONCE at a time over all the processes in turn, each once serve's loop has run no later
    // than CALM_LAG since the last look (its lag metric starts afresh at each scrape), for at most DIAL_PATIENCE:
    // a burst of handshakes stalls serve's loop, and a zipper silent past its clients' patience loses them all
    while (clients.some((c, i) => dialled[i] < c.cfg.count)) {
      for (const [i, c] of clients.entries()) {
        if (dialled[i] >= c.cfg.count) continue;
        const until = Date.now() + DIAL_PATIENCE;
        let m = await scrape();
        while (total(m, 'geoflux_nodejs_eventloop_lag_max_seconds') * 1000 > CALM_LAG && Date.now() < until) {
          await sleep(250);
          m = await scrape();
        }
        if (Date.now() - lastSaid >= ROW_EVERY) {
          lastSaid = Date.now();
          const [conn, idle, tls] = [total(m, 'geoflux_connections', { kind: 'source' }), total(m, 'geoflux_listener_timeouts_total', { kind: 'idle' }), total(m, 'geoflux_listener_timeouts_total', { kind: 'tls' })];
          process.stderr.write(`  dialling: ${Math.round((Date.now() - dialStart) / 1000)} s, ${conn} connected, ${idle} idle disconnects, ${tls} handshakes not done in time\n`);
        }
        const count = Math.min(DIAL_AT_ONCE, c.cfg.count - dialled[i]);
        failed[i] = (await c.ask({ type: 'dial', count }, 'dialed')).dialFailures;
        dialled[i] += count;
      }
    }
    const dialFailures = failed.reduce((a, x) => a + x, 0);
    if (dialFailures) process.stderr.write(`  ${dialFailures} first dials failed and were tried again\n`);
    process.stderr.write(`  ${n} sources connected in ${k} client processes in ${((Date.now() - dialStart) / 1000).toFixed(0)} s; writing for ${seconds} s\n`);
    const t0 = Date.now() + 1000;
    for (const c of clients) c.child.send({ type: 'write', t0 } satisfies ToClients);
    const rows: (string | number)[][] = [];
    const rss: number[] = [];
    const delivered = () => [...seen.values()].reduce((a, m) => a + m.size, 0);
    let last: ClientsRow[] = [];
    const add = (rs: ClientsRow[], f: (r: ClientsRow) => number) => rs.reduce((a, r) => a + f(r), 0);
    const row = async (ask: ToClients, note = '') => {
      const rs = (last = await rowsOf(ask));
      const m = await scrape();
      const r = rssMb(pid);
      rss.push(r);
      rows.push([
        `${Math.round((Date.now() - t0) / 1000)} s${note}`,
        add(rs, (x) => x.connected),
        add(rs, (x) => x.fewest),
        add(rs, (x) => x.reconnects),
        total(m, 'geoflux_listener_timeouts_total', { kind: 'idle' }),
        `${add(rs, (x) => x.disconnectsStalled)} / ${add(rs, (x) => x.disconnectsOther)}`,
        add(rs, (x) => x.spooled),
        fmt(add(rs, (x) => x.written)),
        fmt(add(rs, (x) => x.written) - delivered()),
        r.toFixed(0),
        (total(m, 'geoflux_nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0),
        (total(m, 'geoflux_nodejs_eventloop_lag_max_seconds') * 1000).toFixed(0),
        Math.max(...rs.map((x) => x.lagMax)).toFixed(0),
        Math.max(...rs.map((x) => x.stallMax)).toFixed(0),
      ]);
      process.stderr.write(`  ${rows[rows.length - 1].join('  ')}\n`);
    };
    await row({ type: 'row' });
    for (let at = ROW_EVERY; at < seconds * 1000; at += ROW_EVERY) {
      await sleep(t0 + at - Date.now());
      await row({ type: 'row' });
    }
    await sleep(t0 + seconds * 1000 - Date.now());
    await row({ type: 'stop' });
    await heapSnapshot(`${n}-2-writing-done`);
    // the end: no more writes; rows go on until every fix is acknowledged and seen by the collector, or END_LIMIT
    process.stderr.write(`  writing stopped; waiting at most ${END_LIMIT / 1000} s for the spools to drain\n`);
    const written = add(last, (x) => x.written);
    const settled = () => add(last, (x) => x.spooled) === 0 && delivered() >= written - add(last, (x) => x.given);
    const endBy = Date.now() + END_LIMIT;
    while (!settled() && Date.now() < endBy) {
      await sleep(Math.min(END_ROW_EVERY, endBy - Date.now()));
      await row({ type: 'row' }, ' (end)');
    }
    // sources close within CLOSE_LIMIT; what they still hold unacknowledged then is lost, as the collector counts
    closed.push(...(await Promise.all(clients.map((c) => c.ask({ type: 'close', ms: CLOSE_LIMIT }, 'closed')))));
    const sent = closed.reduce((a, c) => a + c.written, 0);
    await waitFor(() => delivered() >= sent - closed.reduce((a, c) => a + c.unacked, 0), { ms: CLOSE_LIMIT, every: 200 }).catch(() => {});
    const duplicates = [...seen.values()].reduce((a, m) => a + [...m.values()].filter((x) => x > 1).length, 0);
    const why = new Map<string, number>();
    for (const c of closed) for (const [w, x] of c.why) why.set(w, (why.get(w) ?? 0) + x);
    for (const [w, x] of [...why].sort((a, b) => b[1] - a[1]).slice(0, 8)) process.stderr.write(`  ${x} × ${w}\n`);
    const seenOf = (c: Clients) => Array.from({ length: c.cfg.count }, (_, i) => seen.get(`veh-${c.cfg.first + i}`)?.size ?? 0).reduce((a, x) => a + x, 0);
    const perClient = clients.map((c, i) => [
      i,
      c.cfg.count,
      fmt(closed[i].written),
      closed[i].written - seenOf(c),
      closed[i].unacked,
      last[i].reconnects,
      `${last[i].disconnectsStalled} / ${last[i].disconnectsOther}`,
      closed[i].closedInTime ? 'yes' : 'no',
    ]);
    return {
      rows,
      perClient,
      written: sent,
      lost: sent - delivered(),
      unacked: closed.reduce((a, c) => a + c.unacked, 0),
      duplicates,
      idle: total(await scrape(), 'geoflux_listener_timeouts_total', { kind: 'idle' }),
      reconnects: add(last, (x) => x.reconnects),
      disconnectsStalled: add(last, (x) => x.disconnectsStalled),
      disconnectsOther: add(last, (x) => x.disconnectsOther),
      rss,
    };
  } finally {
    for (const c of clients) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    if (!(await within(collector.close(), CLOSE_LIMIT))) process.stderr.write(`  collector not closed after ${CLOSE_LIMIT / 1000} s; going on\n`);
    // after serve has let go of every source's connection (a killed client process's only at its idle timeout)
    if (HEAP_DIR) await waitFor(async () => total(await scrape(), 'geoflux_connections', { kind: 'source' }) === 0, { ms: 30_000, every: 1000 }).catch(() => process.stderr.write('  sources still connected to serve 30 s after closing\n'));
    await heapSnapshot(`${n}-3-closed`).catch((e: Error) => process.stderr.write(`  ${e.message}\n`));
    // a profiler (GEOFLUX_SOAK_NODE_ARGS) writes its profile as serve exits: give it the time
    const serveLimit = NODE_ARGS.length ? 10 * CLOSE_LIMIT : CLOSE_LIMIT;
    if ((await within(serve.stop(), serveLimit)) === undefined) {
      process.stderr.write(`  serve still running ${serveLimit / 1000} s after Ctrl-C; killed\n`);
      serve.child.kill('SIGKILL');
    }
    if (SERVE_LOG) writeFileSync(SERVE_LOG, serve.out.stderr);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  setLogLevel('silent');
  const summary: (string | number)[][] = [];
  for (const n of SOURCES) {
    process.stderr.write(`soak: ${n} sources, 1 fix/s each, ${SECONDS} s\n`);
    const r = await soak(n, SECONDS);
    console.log(`\n${n} sources at 1 fix/s for ${SECONDS} s in ${r.perClient.length} client processes, serve in its own\n`);
    console.log(
      table(
        ['time', 'connected', 'fewest', 'reconnects', 'zipper idle disconnects', 'client disconnects: own stall / other', 'spooled', 'written', 'not yet seen', 'serve RSS MB', 'serve heap MB', 'serve lag max ms', 'client lag max ms', 'client stall max ms/s'],
        r.rows,
      ),
    );
    console.log('\n');
    console.log(table(['client process', 'sources', 'written', 'lost', 'unacknowledged at close', 'reconnects', 'disconnects: own stall / other', 'closed in time'], r.perClient));
    summary.push([n, SECONDS, r.idle, r.reconnects, `${r.disconnectsStalled} / ${r.disconnectsOther}`, fmt(r.written), r.lost, r.duplicates, `${r.rss[0].toFixed(0)} → ${r.rss[r.rss.length - 1].toFixed(0)}`]);
    console.log(`\n${r.idle} idle disconnects at the zipper, ${r.reconnects} reconnects (${r.disconnectsStalled} while the client's own loop was stalled); ${r.lost} of ${r.written} fixes lost (${r.unacked} of them unacknowledged when the sources closed), ${r.duplicates} duplicated`);
  }
  console.log('\n');
  console.log(table(['sources', 'seconds', 'zipper idle disconnects', 'source reconnects', 'disconnects: client stalled / other', 'fixes written', 'lost', 'duplicates', 'serve RSS MB'], summary));
}
