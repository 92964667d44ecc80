import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BaseMap } from './base-map.ts';
import { startDashboard, type Dashboard } from './server.ts';
import type { DashboardStatus } from './status.ts';

const baseMap: BaseMap = {
  roads: { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'LineString', coordinates: [[7.42, 43.73], [7.43, 43.73]] }, properties: { class: 'primary', way: 1, oneway: false } }] },
  fences: { type: 'FeatureCollection', features: [] },
  bbox: [7.41, 43.72, 7.44, 43.75],
};
let reads = 0;
const status = (): DashboardStatus => ({ at: 1000 + reads++, fixesIn: 500, alerts: 3, sinks: { connected: true, published: 9, buffered: 0, dropped: 0 }, functions: [{ name: 'quarters', instances: 2, backlog: 1, restarts: 0 }] });

describe('the dashboard server', () => {
  let d: Dashboard;
  beforeAll(async () => {
    d = await startDashboard({ host: '127.0.0.1', port: 0, name: 'demo', live: { url: 'ws://127.0.0.1:8083', alerts: ['geoflux/alerts/+/+/+'], positions: ['geoflux/positions'] }, baseMap: Promise.resolve(baseMap), status });
  });
  afterAll(() => d.close());
  const get = (path: string, headers: Record<string, string> = {}) => fetch(new URL(path, d.url), { headers });

  it('serves the built page, its bundle, MapLibre\'s worker and the kernels, and only lets the page reach here and the broker', async () => {
    const page = await get('/');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('data-testid="vehicle-count"');
    expect(page.headers.get('content-security-policy')).toBe("default-src 'self'; connect-src 'self' ws://127.0.0.1:8083; worker-src 'self' blob:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'wasm-unsafe-eval'");
    for (const [path, type] of [['/dashboard.js', 'text/javascript'], ['/dashboard.css', 'text/css'], ['/maplibre-gl-worker.mjs', 'text/javascript'], ['/kernels/geofence.wasm', 'application/wasm']]) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toMatch(new RegExp(`^${type}`));
    }
    const wasm = new Uint8Array(await (await get('/kernels/geofence.wasm')).arrayBuffer());
    expect(WebAssembly.validate(wasm)).toBe(true);
  });

  it('serves the config, the base map (gzipped when asked) and the status as JSON', async () => {
    expect(await (await get('/api/config')).json()).toEqual({ name: 'demo', live: { url: 'ws://127.0.0.1:8083', alerts: ['geoflux/alerts/+/+/+'], positions: ['geoflux/positions'] }, bbox: [7.41, 43.72, 7.44, 43.75], statusEvery: 1000 });
    const roads = await get('/api/roads.geojson');
    expect(roads.headers.get('content-type')).toBe('application/geo+json');
    expect(await roads.json()).toEqual(baseMap.roads);
    const zipped = await new Promise<Buffer>((resolve, reject) => {
      // fetch would unzip it: ask as a browser does and look at the bytes
      import('node:http').then(({ get: httpGet }) =>
        httpGet(new URL('/api/roads.geojson', d.url), { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          expect(res.headers['content-encoding']).toBe('gzip');
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
        }),
      );
    });
    expect(JSON.parse(gunzipSync(zipped).toString())).toEqual(baseMap.roads);
    const a = (await (await get('/api/status')).json()) as DashboardStatus;
    const b = (await (await get('/api/status')).json()) as DashboardStatus;
    expect(a).toMatchObject({ fixesIn: 500, alerts: 3, functions: [{ name: 'quarters', instances: 2, backlog: 1, restarts: 0 }] });
    expect(b.at).toBeGreaterThan(a.at);
  });

  it('answers 404 for anything else and 405 for anything but GET', async () => {
    expect((await get('/etc/passwd')).status).toBe(404);
    expect((await get('/../package.json')).status).toBe(404);
    expect((await fetch(new URL('/api/status', d.url), { method: 'POST' })).status).toBe(405);
  });

  it('says which field to change when its port is taken', async () => {
    const port = Number(new URL(d.url).port);
    await expect(startDashboard({ host: '127.0.0.1', port, name: 'x', live: { problem: 'none' }, baseMap: Promise.resolve(baseMap), status })).rejects.toThrow(`dashboard port ${port} is in use: set dashboard.port to another port (0 for any), or dashboard: false`);
  });
});
