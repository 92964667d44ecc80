import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PositionsMessage } from '../alerts/positions.ts';
import { createGeofence } from '../kernels/create-kernel.ts';
import { launchChromium, type Chromium } from '../testing/chromium.ts';
import { CHROMIUM, findTool, requireTool } from '../testing/system-tool.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * The dashboard as a user opens it: a real `geoflux serve` (a child process running dist/) on a small live
 * workflow (simulator → geofence, hotspot → MQTT sinks), Debian's chromium headless on the printed URL, and
 * what the page shows read from its DOM.
 */

const WORKFLOW = 'dashboard/testdata/live.yaml';

interface Served {
  url: string;
  mqttUrl: string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

async function serve(): Promise<Served> {
  const child = spawn(process.execPath, ['bin/geoflux.js', 'serve', WORKFLOW, '--stats-every', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  const end = Date.now() + 30_000;
  while (!/^dashboard: http:/m.test(stderr)) {
    if (child.exitCode !== null || Date.now() > end) throw new Error(`serve printed no dashboard URL:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: stderr.match(/^dashboard: (http:\S+)/m)![1],
    mqttUrl: stderr.match(/MQTT: embedded broker (mqtt:\S+?),/)![1],
    stderr: () => stderr,
    stop: () => (child.kill('SIGINT'), exited),
  };
}

const text = (c: Chromium, id: string) => c.page.getByTestId(id).textContent();
const number = async (c: Chromium, id: string) => Number((await text(c, id))?.replace(/,/g, ''));

describe('the dashboard in a real browser', () => {
  let served: Served | undefined;
  let browser: Chromium | undefined;
  const problems: string[] = [];

  // each test says it needs chromium (skipped without it, failed under CI); only start what they can use
  beforeAll(async () => {
    if (!findTool(CHROMIUM)) return;
    served = await serve();
    browser = await launchChromium({ width: 1280, height: 800 });
    const { page } = browser;
    page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    // the page works with no network beyond this machine: everything it loads is served here
    page.on('request', (r) => /^(https?|wss?):\/\/127\.0\.0\.1:/.test(r.url()) || /^(blob|data):/.test(r.url()) || problems.push(`request off the machine: ${r.url()}`));
    await page.goto(served.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (served) expect(await served.stop()).toBe(0);
  });

  it('renders the base map into the canvas: roads and fences, the quarters labelled', { timeout: 60_000 }, async (ctx) => {
    requireTool(ctx, CHROMIUM);
    const c = browser!;
    await c.page.locator('#map[data-loaded="true"]').waitFor({ timeout: 30_000 });
    const colours = await c.page.evaluate(async () => {
      const { map } = (window as unknown as { geoflux: { map: { getCanvas(): HTMLCanvasElement; once(e: string): Promise<unknown>; triggerRepaint(): void } } }).geoflux;
      // read the WebGL canvas right after a frame is drawn, before the browser may clear it
      const shot = new Promise<string>((resolve) => void map.once('render').then(() => resolve(map.getCanvas().toDataURL())));
      map.triggerRepaint();
      const img = new Image();
      img.src = await shot;
      await img.decode();
      const canvas = Object.assign(document.createElement('canvas'), { width: img.width, height: img.height });
      const g = canvas.getContext('2d')!;
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, img.width, img.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < px.length; i += 4 * 97) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      return { size: [img.width, img.height], distinct: seen.size, roads: seen.has(0xf0b429) || seen.has(0xe8920c) };
    });
    expect(colours.size[0]).toBeGreaterThan(600);
    expect(colours.distinct, 'a drawn map has many colours, a blank canvas one').toBeGreaterThan(20);
    expect(await c.page.locator('.fence-label').allTextContents()).toEqual(expect.arrayContaining(['Monte-Carlo', 'Monaco-Ville', 'Fontvieille', 'La Condamine']));
    expect(await c.page.locator('.fence-label').count()).toBe(9);
  });

  it('connects live; vehicles appear and move; alerts are listed, roam pairs among them; the counters change', { timeout: 90_000 }, async (ctx) => {
    requireTool(ctx, CHROMIUM);
    const c = browser!;
    await waitFor(() => text(c, 'connection'), { until: (t) => t === 'live', what: 'the connection', every: 200 });
    await waitFor(() => number(c, 'vehicle-count'), { until: (n) => n === 150, what: 'vehicles on the map', every: 200 });
    await waitFor(() => number(c, 'vehicles-moving'), { until: (n) => n > 0, what: 'vehicles moving', every: 200 });
    const row = c.page.locator('[data-testid="alerts"] tr.geofence').first();
    await row.waitFor({ timeout: 60_000 });
    expect(await row.locator('td').allTextContents()).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d$/), expect.stringMatching(/^veh-\d+$/), expect.any(String), expect.stringMatching(/^(enter|exit)$/)]);
    const pair = c.page.locator('[data-testid="alerts"] tr.roam').first();
    await pair.waitFor({ timeout: 60_000 });
    expect(await pair.locator('td').allTextContents()).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d$/), expect.stringMatching(/^veh-\d+$/), expect.stringMatching(/^veh-\d+ · \d+ m$/), expect.stringMatching(/^(nearby|faraway)$/)]);
    await waitFor(() => number(c, 'alert-count'), { until: (n) => n > 0, what: 'alerts counted', every: 200 });
    const fixes = await waitFor(() => number(c, 'fixes-per-second'), { until: (n) => n > 0, what: 'fixes/s in', every: 200 });
    expect(fixes).toBeGreaterThan(0);
    const published = await number(c, 'mqtt-published');
    await waitFor(() => number(c, 'mqtt-published'), { until: (n) => n > published, what: 'MQTT published growing', every: 200 });
    expect(await c.page.locator('#functions tr').allTextContents()).toEqual(expect.arrayContaining([expect.stringMatching(/^quarters1\d+0$/)]));
    expect(await text(c, 'last-update')).toMatch(/^\d\d:\d\d:\d\d$/);
  });

  it('runs geofence.wasm in the page against a drawn fence: the same events as the Node kernel on a fixed trace', { timeout: 90_000 }, async (ctx) => {
    requireTool(ctx, CHROMIUM);
    const c = browser!;
    const box = (await c.page.locator('#map canvas').boundingBox())!;
    const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
    await c.page.getByRole('button', { name: 'Draw a fence' }).click();
    for (const [dx, dy] of [[-120, -90], [110, -100], [140, 80], [-90, 110]]) await c.page.mouse.click(cx + dx, cy + dy);
    await c.page.getByRole('button', { name: 'Finish' }).click();
    await waitFor(() => text(c, 'drawn-state'), { until: (t) => /^watching 4 corners/.test(t ?? ''), what: 'the drawn fence watched', every: 200 });
    const polygon = JSON.parse((await c.page.getByTestId('drawn-geojson').inputValue()) || 'null') as { type: 'Polygon'; coordinates: number[][][] };
    expect(polygon.coordinates[0]).toHaveLength(5);

    // a vehicle of its own driving across the fence and back, twice, then waiting outside long enough for the
    // last exit to be confirmed: enter, exit, enter, exit
    const ring = polygon.coordinates[0];
    const lons = ring.map((p) => p[0]);
    const lat = ring.reduce((s, p) => s + p[1], 0) / ring.length;
    const [w, e] = [Math.min(...lons) - 0.003, Math.max(...lons) + 0.003];
    const start = Date.parse('2026-01-01T08:00:00Z');
    const trace = Array.from({ length: 100 }, (_, i) => {
      const f = i < 40 ? i / 39 : Math.max(0, (79 - i) / 39);
      return { deviceId: 'trace-1', t: start + i * 1000, lon: Math.round((w + f * (e - w)) * 1e6) / 1e6, lat: Math.round(lat * 1e6) / 1e6, speed: 12 };
    });
    const node = await createGeofence({ fences: { type: 'FeatureCollection', features: [{ type: 'Feature', id: 'drawn', properties: { name: 'your fence' }, geometry: polygon }] }, detect: ['enter', 'exit'] });
    const expected = node.process(trace).map((ev) => ({ device: ev.deviceId, detect: ev.detect, time: ev.time, lon: String(ev.point[0]), lat: String(ev.point[1]) }));
    expect(expected.map((ev) => ev.detect)).toEqual(['enter', 'exit', 'enter', 'exit']);

    const client = await mqtt.connectAsync(served!.mqttUrl);
    try {
      for (const fix of trace) await client.publishAsync('geoflux/positions', JSON.stringify({ t: fix.t, vehicles: [fix] } satisfies PositionsMessage), { qos: 1 });
    } finally {
      await client.endAsync();
    }
    const rows = c.page.locator('[data-testid="drawn-events"] tr[data-device="trace-1"]');
    await waitFor(() => rows.count(), { until: (n) => n >= expected.length, what: 'the trace\'s events in the page', every: 200 });
    const got = await rows.evaluateAll((trs) => trs.map((tr) => ({ ...(tr as HTMLElement).dataset })).reverse());
    expect(got).toEqual(expected);
  });

  it('logged no console error, and loaded nothing from off the machine', (ctx) => {
    requireTool(ctx, CHROMIUM);
    expect(problems).toEqual([]);
  });
});
