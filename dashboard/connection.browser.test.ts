import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../alerts/embedded-broker.ts';
import { setLogLevel } from '../log/logger.ts';
import { launchChromium, type Chromium } from '../testing/chromium.ts';
import { CHROMIUM, requireTool } from '../testing/system-tool.ts';
import { freePort } from '../testing/free-port.ts';
import type { BaseMap } from './base-map.ts';
import type { LiveSource } from './live-source.ts';
import { startDashboard, type Dashboard } from './server.ts';

setLogLevel('silent');

/** The page says plainly when its live connection drops, when it is back, and when there can be none. */

const EMPTY: BaseMap = { roads: { type: 'FeatureCollection', features: [] }, fences: { type: 'FeatureCollection', features: [] }, bbox: [7.40, 43.72, 7.44, 43.75] };
const status = () => ({ at: Date.now(), fixesIn: 0, alerts: 0, sinks: null, functions: [] });

const open: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const x of open.reverse()) await x.close();
});

async function page(live: LiveSource): Promise<{ dashboard: Dashboard; c: Chromium }> {
  const dashboard = await startDashboard({ host: '127.0.0.1', port: 0, name: 'banner', live, baseMap: Promise.resolve(EMPTY), status });
  const c = await launchChromium();
  open.push(dashboard, c);
  await c.page.goto(dashboard.url);
  return { dashboard, c };
}

const banner = (c: Chromium) => c.page.getByRole('alert');

describe('the live connection, as the page tells it', () => {
  it('shows a banner when the broker goes away, and another when it is back', { timeout: 60_000 }, async (ctx) => {
    requireTool(ctx, CHROMIUM);
    const wsPort = await freePort();
    let broker: EmbeddedBroker = await startEmbeddedBroker({ port: 0, wsPort });
    const { c } = await page({ url: broker.wsUrl!, alerts: ['geoflux/alerts/+/+/+'], positions: ['geoflux/positions'] });
    const connection = c.page.getByTestId('connection');
    await expect.poll(() => connection.textContent(), { timeout: 20_000 }).toBe('live');
    await expect(banner(c).isHidden()).resolves.toBe(true);

    await broker.close();
    await expect.poll(() => connection.textContent(), { timeout: 20_000 }).toBe('reconnecting');
    await expect.poll(() => banner(c).textContent()).toMatch(/^Live connection lost at \d\d:\d\d:\d\d: reconnecting…/);
    expect(await banner(c).isVisible()).toBe(true);

    broker = await startEmbeddedBroker({ port: 0, wsPort });
    open.push(broker);
    await expect.poll(() => connection.textContent(), { timeout: 20_000 }).toBe('live');
    await expect.poll(() => banner(c).textContent()).toMatch(/^Live connection back at \d\d:\d\d:\d\d \(it was down \d+ s\)\.$/);
  });

  it('says why there is no live data when a browser cannot reach the broker', { timeout: 60_000 }, async (ctx) => {
    requireTool(ctx, CHROMIUM);
    const problem = 'the workflow publishes to mqtts://broker.example:8883, which a browser cannot reach (MQTT over TCP): set dashboard.mqtt to that broker\'s WebSocket listener (ws://… or wss://…)';
    const { c } = await page({ problem });
    await expect.poll(() => banner(c).textContent(), { timeout: 20_000 }).toBe(`No live data: ${problem}.`);
    expect(await c.page.getByTestId('connection').textContent()).toBe('no live data');
  });
});
