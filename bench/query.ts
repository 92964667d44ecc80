import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import KDBush from 'kdbush';
import { haversine, M_PER_DEG, metresPerDegLon } from '../network/geo.ts';
import { FleetIndex } from '../query/fleet-index.ts';
import { startRedis } from '../testing/redis-process.ts';
import { HttpGetClient } from '../testing/http-get-client.ts';
import { RespClient } from '../testing/resp-client.ts';
import { waitFor } from '../testing/wait-for.ts';
import { MovingFleet, queryPoints } from './moving-fleet.ts';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * `npm run bench -- query`: the fleet index (docs/query.md) with 10,000 and 100,000 vehicles moving at 1 Hz.
 * First in this process, to choose the index: the grid updated in place that query/ keeps, beside a kdbush
 * rebuilt every second and a scan of every vehicle. Then over the network, each while its fleet's updates
 * stream in (one after the other, so one's ingest does not load the machine while the other is asked):
 * geoflux's HTTP API (bench/fleet-server.ts, compiled, a process of its own) beside Redis 7 GEOSEARCH
 * (redis-server started here, fed the same positions by bench/redis-feeder.ts): nearby k=5 within 1 km, and
 * everything in a 1 km box, Redis asked for the coordinates too (geoflux answers each vehicle's state);
 * geoflux through its fast path, and again through node:http alone, in the same run. One
 * query in flight at a time, each through a thin client on one kept-alive socket, for
 * GEOFLUX_BENCH_QUERY_SECONDS (default 5) each. Last, the floor under both: Redis' PING beside a node:http
 * server answering a constant, a bare net server writing the same bytes, and geoflux's API (its fast path)
 * over an empty fleet.
 */

const RADIUS = 1000;
const HALF_BOX = 500;
const us = (ms: number) => fmt(ms * 1000);

const boxAround = (lon: number, lat: number): [number, number, number, number] => {
  const dx = HALF_BOX / metresPerDegLon(lat);
  const dy = HALF_BOX / M_PER_DEG;
  return [lon - dx, lat - dy, lon + dx, lat + dy];
};

function timed(count: number, f: (i: number) => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = now();
    f(i);
    out.push(now() - t);
  }
  return out.sort((a, b) => a - b);
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/** rows: index, update per tick, nearby p50/p99, box p50/p99 */
function inProcess(n: number): (string | number)[][] {
  const fleet = new MovingFleet(n);
  const points = queryPoints(2000);
  const rows: (string | number)[][] = [];

  const grid = new FleetIndex({ ttl: 3600 });
  const feedGrid = (t: number) => {
    for (let i = 0; i < n; i++) grid.position(fleet.ids[i], { t, lon: fleet.lon[i], lat: fleet.lat[i], speed: 10, heading: 90 });
  };
  feedGrid(0);
  const gridTicks = [1, 2, 3].map((t) => (fleet.step(), timed(1, () => feedGrid(t))[0]));
  const gNear = timed(points.length, (i) => grid.nearby({ lon: points[i][0], lat: points[i][1], k: 5, radius: RADIUS }));
  const gBox = timed(points.length, (i) => grid.withinBox(boxAround(...points[i])));
  rows.push([n, 'grid, updated in place (geoflux)', fmt(median(gridTicks), 1), us(percentile(gNear, 50)), us(percentile(gNear, 99)), us(percentile(gBox, 50)), us(percentile(gBox, 99))]);

  let kd = new KDBush(n);
  const build = () => {
    kd = new KDBush(n);
    for (let i = 0; i < n; i++) kd.add(fleet.lon[i], fleet.lat[i]);
    kd.finish();
  };
  const kdTicks = [1, 2, 3].map(() => (fleet.step(), timed(1, build)[0]));
  const kNear = timed(points.length, (i) => {
    const [lon, lat] = points[i];
    const dx = RADIUS / metresPerDegLon(lat);
    const dy = RADIUS / M_PER_DEG;
    const hits = kd
      .range(lon - dx, lat - dy, lon + dx, lat + dy)
      .map((id) => ({ id, d: haversine(lon, lat, fleet.lon[id], fleet.lat[id]) }))
      .filter((h) => h.d <= RADIUS)
      .sort((a, b) => a.d - b.d)
      .slice(0, 5);
    return hits.map((h) => ({ deviceId: fleet.ids[h.id], lon: fleet.lon[h.id], lat: fleet.lat[h.id], distance: h.d }));
  });
  const kBox = timed(points.length, (i) =>
    kd
      .range(...boxAround(...points[i]))
      .map((id) => ({ deviceId: fleet.ids[id], lon: fleet.lon[id], lat: fleet.lat[id] }))
      .sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)),
  );
  rows.push([n, 'kdbush, rebuilt each second', fmt(median(kdTicks), 1), us(percentile(kNear, 50)), us(percentile(kNear, 99)), us(percentile(kBox, 50)), us(percentile(kBox, 99))]);

  const scan = 200;
  const sNear = timed(scan, (q) => {
    const [lon, lat] = points[q];
    const best: { i: number; d: number }[] = [];
    for (let i = 0; i < n; i++) {
      const d = haversine(lon, lat, fleet.lon[i], fleet.lat[i]);
      if (d <= RADIUS) best.push({ i, d });
    }
    return best.sort((a, b) => a.d - b.d).slice(0, 5);
  });
  const sBox = timed(scan, (q) => {
    const b = boxAround(...points[q]);
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (fleet.lon[i] >= b[0] && fleet.lon[i] <= b[2] && fleet.lat[i] >= b[1] && fleet.lat[i] <= b[3]) out.push(i);
    return out;
  });
  rows.push([n, 'scan of every vehicle', '0', us(percentile(sNear, 50)), us(percentile(sNear, 99)), us(percentile(sBox, 50)), us(percentile(sBox, 99))]);
  return rows;
}

/** the HTTP servers the benchmark starts, compiled: the fleet's (bench/fleet-server.ts) and the floor's constant one */
interface Servers {
  fleet: string;
  constant: string;
}

/** `node --import tsx <args>`, or `node <args>` for a script compiled() made */
function child(args: string[]): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, args[0].endsWith('.mjs') ? args : ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { proc, out: () => out };
}

async function stopChild(c: { proc: ChildProcess }): Promise<void> {
  const gone = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGTERM');
  await gone;
}

/**
 * A server of the benchmark's compiled to one plain JS file, as `geoflux serve` runs compiled JS (dist/):
 * through tsx's loader, every closure a request creates is wrapped to keep its name (esbuild's keepNames),
 * about 10 µs a request on the development machine, which is the loader's cost, not geoflux's.
 */
async function compiled(entry: string, dir: string): Promise<string> {
  const outfile = join(dir, `${basename(entry, '.ts')}.mjs`);
  // CommonJS dependencies require() node's modules: an ES module has no require of its own
  const banner = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, banner: { js: banner }, logLevel: 'warning' });
  return outfile;
}

const POINTS = queryPoints(100_000, 11);
/** how many of POINTS were asked about: each loop goes on from where the last stopped */
let asked = 0;

/** sequential calls for `seconds`, over the query points; sorted latencies, ms */
async function loop(seconds: number, call: (p: [number, number]) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  const end = now() + seconds * 1000;
  while (now() < end) {
    const t = now();
    await call(POINTS[asked++ % POINTS.length]);
    out.push(now() - t);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Two ways of asking, `seconds` each, in alternating slices of SLICE_MS, so that the load of the machine at
 * the time (other work on it) falls on both alike; their latencies (ms), sorted
 */
async function alternating(seconds: number, a: (p: [number, number]) => Promise<unknown>, b: (p: [number, number]) => Promise<unknown>): Promise<[number[], number[]]> {
  const [fromA, fromB]: number[][] = [[], []];
  for (let s = 0; s < (seconds * 1000) / SLICE_MS; s++) {
    fromA.push(...(await loop(SLICE_MS / 1000, a)));
    fromB.push(...(await loop(SLICE_MS / 1000, b)));
  }
  return [fromA.sort((x, y) => x - y), fromB.sort((x, y) => x - y)];
}

const SLICE_MS = 250;

/**
 * A client of geoflux's API over one kept-alive socket: through the dashboard's fast path (query/fast-gets.ts),
 * or through node:http alone when its first request is one the fast path leaves to Node (a GET with a
 * Content-Length, even of 0), which then has the connection for good.
 */
async function apiClient(url: string, via: 'fast path' | 'node:http'): Promise<HttpGetClient> {
  const web = await HttpGetClient.connect(url);
  if (via === 'node:http') await web.get('/v1/nearby?lon=0&lat=0', 'content-length: 0\r\n');
  return web;
}

/** geoflux's side, alone on the machine with its own ingest: query latencies (ms), through the fast path and through node:http, and the fold's ms per second */
async function geofluxOverHttp(n: number, seconds: number, servers: Servers) {
  const server = child([servers.fleet, String(n)]);
  try {
    const url = (await waitFor(() => /^url (\S+)/m.exec(server.out())?.[1], { ms: 60_000, what: 'the fleet server' })) as string;
    // the ingest under way before anything is measured
    await waitFor(() => (server.out().match(/^tick /gm) ?? []).length >= 2, { ms: 30_000, what: 'two ticks of the fleet server' });
    const ticksBefore = server.out().match(/^tick (\S+)/gm)?.length ?? 0;
    // through clients as thin as Redis': one kept-alive socket each, no pooling, the answer parsed
    const [fast, slow] = [await apiClient(url, 'fast path'), await apiClient(url, 'node:http')];
    const http = (web: HttpGetClient) => async (path: string) => {
      const { status, body } = await web.get(path);
      if (status !== 200) throw new Error(`${path}: ${status} ${body}`);
      return JSON.parse(body) as unknown;
    };
    const [viaFast, viaNode] = [http(fast), http(slow)];
    // output=points: ids, positions (and distances), what Redis' WITHCOORD (and WITHDIST) gives back
    const nearby = (ask: typeof viaFast) => ([lon, lat]: [number, number]) => ask(`/v1/nearby?lon=${lon}&lat=${lat}&k=5&radius=${RADIUS}&output=points`);
    const box = (ask: typeof viaFast) => ([lon, lat]: [number, number]) => ask(`/v1/within?bbox=${boxAround(lon, lat).join(',')}&output=points`);
    const [nearFast, nearNode] = await alternating(seconds, nearby(viaFast), nearby(viaNode));
    const [boxFast, boxNode] = await alternating(seconds, box(viaFast), box(viaNode));
    fast.close();
    slow.close();
    const ticks = (server.out().match(/^tick (\S+)/gm) ?? []).slice(ticksBefore).map((l) => Number(l.slice(5)));
    return { near: nearFast, box: boxFast, slow: { near: nearNode, box: boxNode }, updateMs: median(ticks) };
  } finally {
    await stopChild(server);
  }
}

/** Redis' side, alone on the machine with its own ingest: query latencies (ms) and its own ms per second in GEOADD */
async function redisGeosearch(n: number, port: number, seconds: number) {
  const feeder = child(['bench/redis-feeder.ts', String(port), String(n)]);
  try {
    await waitFor(() => /^ready$/m.test(feeder.out()), { ms: 60_000, what: 'the Redis feeder' });
    const redis = await RespClient.connect(port);
    const geoaddUsec = async () => Number(/cmdstat_geoadd:calls=\d+,usec=(\d+)/.exec(String(await redis.call('INFO', 'commandstats')))?.[1] ?? 0);
    // two seconds of updates under way first, as for geoflux
    await new Promise((r) => setTimeout(r, 2000));
    const [r0, t0] = [await geoaddUsec(), now()];
    const near = await loop(seconds, ([lon, lat]) => redis.call('GEOSEARCH', 'fleet', 'FROMLONLAT', lon, lat, 'BYRADIUS', RADIUS, 'm', 'ASC', 'COUNT', 5, 'WITHDIST', 'WITHCOORD'));
    const box = await loop(seconds, ([lon, lat]) => redis.call('GEOSEARCH', 'fleet', 'FROMLONLAT', lon, lat, 'BYBOX', 2 * HALF_BOX, 2 * HALF_BOX, 'm', 'WITHCOORD'));
    const updateMs = ((await geoaddUsec()) - r0) / (now() - t0);
    redis.close();
    return { near, box, updateMs };
  } finally {
    await stopChild(feeder);
  }
}

/**
 * The floor: a round trip with nothing to find, through the same clients and loop. Redis' PING; a bare net
 * server writing a constant response (the round trip and nothing else); a node:http server answering the
 * same (Node's HTTP server and nothing else); geoflux's /v1/nearby over an empty fleet (the dashboard
 * server's fast path, the routing, the parameters, an empty answer). No query of either side's can answer
 * faster than its floor.
 */
async function floors(redisPort: number, seconds: number, servers: Servers): Promise<(string | number)[][]> {
  const path = '/v1/nearby?lon=7.42&lat=43.74&k=5&radius=1000';
  const overHttp = async (args: string[], via: 'fast path' | 'node:http' = 'fast path') => {
    const server = child(args);
    try {
      const url = (await waitFor(() => /^url (\S+)/m.exec(server.out())?.[1], { ms: 60_000, what: args[0] })) as string;
      const web = await apiClient(url, via);
      const ms = await loop(seconds, () => web.get(path));
      web.close();
      return ms;
    } finally {
      await stopChild(server);
    }
  };
  const redis = await RespClient.connect(redisPort);
  const ping = await loop(seconds, () => redis.call('PING'));
  redis.close();
  const constant = await overHttp([servers.constant]);
  const bare = await overHttp([servers.constant, 'net']);
  const empty = await overHttp([servers.fleet, '0']);
  const emptyNode = await overHttp([servers.fleet, '0'], 'node:http');
  const row = (what: string, ms: number[]) => [what, us(percentile(ms, 50)), us(percentile(ms, 99)), `${(percentile(ms, 50) / percentile(ping, 50)).toFixed(2)}×`, ms.length];
  return [row('Redis PING', ping), row('a bare net server writing a constant', bare), row('node:http answering a constant', constant), row('geoflux /v1/nearby, empty fleet (fast path)', empty), row('geoflux /v1/nearby, empty fleet (node:http)', emptyNode)];
}

/** one after the other, so neither's ingest loads the machine while the other is measured */
async function overTheNetwork(n: number, redisPort: number, seconds: number, servers: Servers) {
  const g = await geofluxOverHttp(n, seconds, servers);
  const r = await redisGeosearch(n, redisPort, seconds);
  const p50p99 = (xs: number[]) => `${us(percentile(xs, 50))} / ${us(percentile(xs, 99))}`;
  const row = (q: string, gq: number[], sq: number[], rq: number[]) => [n, q, p50p99(gq), p50p99(sq), p50p99(rq), `${(percentile(gq, 50) / percentile(rq, 50)).toFixed(2)}×`, gq.length, rq.length];
  return {
    rows: [row(`nearby k=5, ${RADIUS / 1000} km`, g.near, g.slow.near, r.near), row(`within a ${(2 * HALF_BOX) / 1000} km box`, g.box, g.slow.box, r.box)],
    update: [n, fmt(g.updateMs, 1), fmt(r.updateMs, 1)],
  };
}

export async function run(): Promise<void> {
  const seconds = Number(process.env.GEOFLUX_BENCH_QUERY_SECONDS ?? 5);
  const sizes = [10_000, 100_000];
  const choice = sizes.flatMap(inProcess);
  console.log('In this process, choosing the index (2,000 queries at random points of a 20 km square; the scan 200):\n');
  console.log(table(['vehicles', 'index', 'update / s (ms)', 'nearby p50 µs', 'p99 µs', '1 km box p50 µs', 'p99 µs'], choice));
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-bench-query-'));
  const servers = { fleet: await compiled('bench/fleet-server.ts', dir), constant: await compiled('bench/http-constant-server.ts', dir) };
  const redis = await startRedis();
  try {
    const results = [];
    for (const n of sizes) results.push(await overTheNetwork(n, redis.port, seconds, servers));
    console.log(`\nOver the network, one query in flight, while every vehicle moves each second (${seconds} s each; geoflux, then Redis, each with only its own ingest running):\n`);
    console.log(table(['vehicles', 'query', 'geoflux HTTP p50 / p99 µs', 'via node:http alone', 'Redis GEOSEARCH p50 / p99 µs', 'p50 geoflux/Redis', 'geoflux queries', 'Redis queries'], results.flatMap((r) => r.rows)));
    console.log(`\nThe floor: a round trip with nothing to find, the same clients, one request in flight (${seconds} s each):\n`);
    console.log(table(['round trip', 'p50 µs', 'p99 µs', 'p50 / PING', 'requests'], await floors(redis.port, seconds, servers)));
    console.log('\nThe updates, per second of the fleet: CPU of the fleet fold in geoflux\'s thread, beside Redis\' own time in GEOADD (INFO commandstats):\n');
    console.log(table(['vehicles', 'geoflux fold ms / s', 'Redis GEOADD ms / s'], results.map((r) => r.update)));
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
