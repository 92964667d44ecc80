import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { BUILTIN_WASM } from '../kernels/host/builtin-wasm.ts';
import { logger, type Logger } from '../log/logger.ts';
import type { FleetIndex } from '../query/fleet-index.ts';
import { answerQuery, queryAnswer, ROUTES } from '../query/http-api.ts';
import { fastGets } from '../query/fast-gets.ts';
import { QueryRefusals } from '../query/query-refusals.ts';
import type { BaseMap } from './base-map.ts';
import type { LiveSource } from './live-source.ts';
import type { DashboardStatus } from './status.ts';

/**
 * The dashboard's HTTP server: the page (bundled at build time into dist/dashboard/page/), the kernels the
 * page runs, the base map as GeoJSON, where the live data is, and the counters. Everything the page loads
 * comes from here or from the MQTT broker's WebSocket: no CDN, no tile server; its Content-Security-Policy
 * says so to the browser too. Under /v1/ it answers queries over the fleet (query/http-api.ts).
 */

export interface DashboardOptions {
  host: string;
  port: number;
  /** the workflow's name, for the page's title */
  name: string;
  live: LiveSource;
  /** the base map, loading while the server already answers */
  baseMap: Promise<BaseMap>;
  status: () => DashboardStatus;
  /** the workflow's fleet index, which /v1/ queries ask (docs/query.md) */
  fleet?: FleetIndex;
  log?: Logger;
}

export interface Dashboard {
  url: string;
  /** the /v1/ queries it refused, by endpoint and reason (for /metrics) */
  queryRefusals: QueryRefusals;
  close(): Promise<void>;
}

/** What the page reads first (`GET /api/config`). */
export interface PageConfig {
  name: string;
  live: LiveSource;
  bbox?: [number, number, number, number];
  /** how often the page polls /api/status, ms */
  statusEvery: number;
}

// the page's bundle sits beside the compiled server; run from the sources (tests), take the one the build made
const PAGE_DIR = new URL(import.meta.url.endsWith('.ts') ? '../dist/dashboard/page/' : './page/', import.meta.url);

const STATIC: Record<string, [file: URL, type: string]> = {
  '/': [new URL('index.html', PAGE_DIR), 'text/html; charset=utf-8'],
  '/dashboard.js': [new URL('dashboard.js', PAGE_DIR), 'text/javascript; charset=utf-8'],
  '/dashboard.css': [new URL('dashboard.css', PAGE_DIR), 'text/css; charset=utf-8'],
  '/maplibre-gl-worker.mjs': [new URL('maplibre-gl-worker.mjs', PAGE_DIR), 'text/javascript; charset=utf-8'],
  '/kernels/geofence.wasm': [BUILTIN_WASM.geofence(), 'application/wasm'],
  '/kernels/hotspot.wasm': [BUILTIN_WASM.hotspot(), 'application/wasm'],
};

const STATUS_EVERY = 1000;

/** connect-src: this server, and the broker's WebSocket when there is one */
function policy(live: LiveSource): string {
  const broker = 'url' in live ? ` ${new URL(live.url).origin}` : '';
  return `default-src 'self'; connect-src 'self'${broker}; worker-src 'self' blob:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'`;
}

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const cache = new Map<string, Promise<{ body: Buffer; gzip?: Buffer }>>();
  const asset = (path: string, load: () => Promise<Buffer>, compress = false) => {
    let hit = cache.get(path);
    if (!hit) {
      hit = load().then((body) => ({ body, gzip: compress ? gzipSync(body) : undefined }));
      cache.set(path, hit);
      hit.catch(() => cache.delete(path));
    }
    return hit;
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  const csp = policy(o.live);
  const queryRefusals = new QueryRefusals(o.log ?? logger('dashboard'), Object.keys(ROUTES));

  const send = (req: IncomingMessage, res: ServerResponse, type: string, { body, gzip }: { body: Buffer; gzip?: Buffer }, cacheable = false) => {
    const zipped = gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, {
      'content-type': type,
      'content-length': (zipped ? gzip : body).length,
      'cache-control': cacheable ? 'max-age=3600' : 'no-store',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      ...(zipped ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : zipped ? gzip : body);
  };

  const routes: Record<string, () => Promise<[type: string, data: { body: Buffer; gzip?: Buffer }]>> = {
    '/api/config': async () => ['application/json', { body: json({ name: o.name, live: o.live, bbox: (await o.baseMap).bbox, statusEvery: STATUS_EVERY } satisfies PageConfig) }],
    '/api/status': async () => ['application/json', { body: json(o.status()) }],
    '/api/roads.geojson': async () => ['application/geo+json', await asset('roads', async () => json((await o.baseMap).roads), true)],
    '/api/fences.geojson': async () => ['application/geo+json', await asset('fences', async () => json((await o.baseMap).fences), true)],
  };

  const server = createServer((req, res) => {
    // the query API before any URL is parsed: it reads its own, cheaply (query/http-api.ts)
    if (req.url?.startsWith('/v1/')) return answerQuery(o.fleet, req, res, queryRefusals);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const fail = (code: number, why: string) => {
      if (!res.headersSent) res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(why);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'GET only');
    const route = routes[path];
    const file = STATIC[path];
    if (!route && !file) return fail(404, `no ${path} here`);
    const answer = route ? route() : asset(path, () => readFile(fileURLToPath(file[0])), file[1].startsWith('text/')).then((a) => [file[1], a] as const);
    answer.then(
      ([type, data]) => send(req, res, type, data, Boolean(file) && path !== '/'),
      (e: Error) => {
        o.log?.warn(`dashboard ${path}: ${e.message}`);
        fail(500, e.message);
      },
    );
  });
  // the query API's GETs answered before node:http reads them, from the same queryAnswer (query/fast-gets.ts)
  const fast = fastGets(server, '/v1/', (target) => queryAnswer(o.fleet, 'GET', target, queryRefusals).answer(''));
  server.listen(o.port, o.host);
  try {
    await once(server, 'listening');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw err.code === 'EADDRINUSE' ? new Error(`dashboard port ${o.port} is in use: set dashboard.port to another port (0 for any), or dashboard: false`) : err;
  }
  const { port } = server.address() as { port: number };
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/`;
  o.log?.info(`dashboard on ${url}`);
  return {
    url,
    queryRefusals,
    async close() {
      queryRefusals.flush();
      fast.closeAll();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
