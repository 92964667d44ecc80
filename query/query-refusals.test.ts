import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type Dashboard } from '../dashboard/server.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { FleetIndex } from './fleet-index.ts';

/** The query API's refusals, on the dashboard's real HTTP server: each counted by endpoint and reason, and logged rate-limited. */
describe('what the query API refuses', () => {
  const log = keptLinesLog();
  const fleet = new FleetIndex();
  let d: Dashboard;
  beforeAll(async () => {
    fleet.position('car-1', { t: 1, lon: 7.42, lat: 43.73 });
    d = await startDashboard({ host: '127.0.0.1', port: 0, name: 'q', live: { problem: 'none' }, baseMap: new Promise(() => {}), status: () => ({}) as never, fleet, log });
  });
  afterAll(() => d.close());
  const status = async (path: string, init?: RequestInit) => (await fetch(new URL(path, d.url), init)).status;

  it('counts each refusal by endpoint and reason, a path that is no endpoint as other, and logs the first of a kind in 10 s', async () => {
    expect(await status('v1/nearby?lat=43.7')).toBe(400);
    expect(await status('v1/nearby?lon=7.4&lat=43.7&k=abc')).toBe(400);
    expect(await status('v1/nearby?lon=7.4&lat=43.7&radius=1e309')).toBe(400);
    expect(await status('v1/nearby?lon=7.4&lat=43.7')).toBe(200);
    expect(await status('v1/nearbye?x')).toBe(404);
    expect(await status('v1/admin')).toBe(404);
    expect(await status('v1/within?bbox=0,0,1,1', { method: 'DELETE' })).toBe(405);
    expect(await status('v1/fields', { method: 'POST', body: '{"deviceId":"nobody","fields":{"a":1}}' })).toBe(404);
    expect(await status('v1/fields', { method: 'POST', body: '[1]' })).toBe(400);
    const counts = Object.fromEntries(d.queryRefusals.samples().map((s) => [`${s.labels!.endpoint} ${s.labels!.reason}`, s.value]));
    expect(counts).toEqual({ '/v1/nearby bad_param': 3, 'other no_route': 2, '/v1/within method': 1, '/v1/fields unknown_vehicle': 1, '/v1/fields bad_param': 1 });
    // one line per endpoint and reason: the other two bad nearbys are counted, and said when the window ends
    expect(log.said.filter((l) => l.startsWith('warn query "/v1/nearby"'))).toEqual(['warn query "/v1/nearby" refused (bad_param): lon is required (a longitude in [-180, 180])']);
    expect(log.said).toContain('warn query "/v1/nearbye" refused (no_route): no /v1/nearbye here (did you mean "/v1/nearby"?); the API: /v1/nearby, /v1/within, /v1/intersects, /v1/fields');
    d.queryRefusals.flush();
    expect(log.said.some((l) => /^warn … 2 more in the last [\d.]+ s; the last: query "\/v1\/nearby" refused \(bad_param\): radius/.test(l))).toBe(true);
  });
});
