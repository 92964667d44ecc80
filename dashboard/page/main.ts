import { AttributionControl, Map as MapLibreMap, NavigationControl, ScaleControl, setWorkerUrl, type GeoJSONSource } from 'maplibre-gl';
import type { GpsRecord } from '../../kernels/browser.ts';
import type { FeatureCollection, FenceProperties } from '../base-map.ts';
import type { PageConfig } from '../server.ts';
import { AlertList, type Alert } from './alert-list.ts';
import { ConnectionBanner } from './connection-banner.ts';
import { Counters, pollStatus } from './counters.ts';
import { byId, clock } from './dom.ts';
import { FenceDrawing, type Polygon } from './draw-fence.ts';
import { DrawnFenceEvents } from './drawn-fence-panel.ts';
import { DrawnFenceKernel } from './drawn-fence-kernel.ts';
import { labelFences } from './fence-labels.ts';
import { HotCells, type HotspotAlert } from './hotspots.ts';
import { renderLegend } from './legend.ts';
import { connectLive } from './live.ts';
import { mapStyle, SOURCES } from './map-style.ts';
import { NearestVehicles } from './nearest.ts';
import { Fleet, Flashes } from './vehicles.ts';

/**
 * The dashboard page: the base map from the dashboard's server, live layers from MQTT over WebSocket, the
 * counters from /api/status, the geofence kernel run in the page against a fence the user draws, and the
 * fleet index's nearest vehicles to a click.
 * Data is taken as it comes and drawn once a frame at most.
 */

/** how often layers that change with time alone (flashes, fading cells) are redrawn, ms */
const ANIMATE_EVERY = 100;

async function main(): Promise<void> {
  // MapLibre's worker, shipped beside the bundle: it would otherwise look for it beside its own module
  setWorkerUrl(new URL('/maplibre-gl-worker.mjs', location.href).href);
  const config = (await (await fetch('/api/config')).json()) as PageConfig;
  const fences = (await (await fetch('/api/fences.geojson')).json()) as FeatureCollection<{ type: string; coordinates: unknown }, FenceProperties>;
  document.title = `geoflux · ${config.name}`;
  byId('workflow').textContent = config.name;
  renderLegend(byId('legend'));

  const map = new MapLibreMap({
    container: 'map',
    style: mapStyle(fences as unknown as GeoJSON.GeoJSON),
    bounds: config.bbox,
    fitBoundsOptions: { padding: 24 },
    attributionControl: false,
  });
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.addControl(new AttributionControl({ compact: false }), 'bottom-right');
  // a handle for the console and for tests that look at the canvas itself
  Object.assign(window, { geoflux: { map } });
  await map.once('load');
  labelFences(map, fences);
  byId('map').dataset.loaded = 'true';

  const source = (id: string) => map.getSource(id) as GeoJSONSource;
  const fleet = new Fleet();
  const flashes = new Flashes();
  const hot = new HotCells();
  const alerts = new AlertList(byId<HTMLTableSectionElement>('alerts'));
  const drawnEvents = new DrawnFenceEvents(byId<HTMLTableSectionElement>('drawn-events'), byId('drawn-event-count'));
  const banner = new ConnectionBanner(byId('connection'), byId('banner'));
  let drawnKernel: DrawnFenceKernel | undefined;
  const dirty = { vehicles: false, hot: false, at: 0 };

  const counters = new Counters({
    fixes: byId('fixes-per-second'),
    alertsPerSecond: byId('alerts-per-second'),
    published: byId('mqtt-published'),
    buffered: byId('mqtt-buffered'),
    dropped: byId('mqtt-dropped'),
    functions: byId<HTMLTableSectionElement>('functions'),
    stale: byId('status-stale'),
  });
  pollStatus(config.statusEvery, counters);

  connectLive(config.live, {
    positions(m) {
      const fresh = fleet.update(m);
      if (!fresh.length) return;
      dirty.vehicles = true;
      dirty.at = Date.now();
      if (drawnKernel) drawnEvents.add(drawnKernel.process(fresh.map((p): GpsRecord => ({ deviceId: p.deviceId, t: p.t, lon: p.lon, lat: p.lat, speed: p.speed ?? undefined }))));
    },
    alert(a) {
      dirty.at = Date.now();
      if (a.kind === 'geofence') flashes.add((a as Alert & { kind: 'geofence' }).point, String(a.detect));
      else if (a.kind === 'roam') flashes.add((a as Alert & { kind: 'roam' }).point, String(a.detect));
      else if (a.kind === 'hotspot') {
        hot.update(a as unknown as HotspotAlert);
        dirty.hot = true;
      } else return;
      alerts.add(a as Alert);
    },
    state: (s) => banner.show(s),
  });

  const drawing = new FenceDrawing(
    map,
    async (fence) => {
      drawnEvents.clear();
      drawnKernel = undefined;
      (byId('drawn-geojson') as HTMLTextAreaElement).value = fence ? JSON.stringify(fence.geometry) : '';
      if (fence) drawnKernel = await DrawnFenceKernel.create(fence);
      byId('drawn-state').textContent = fence ? `watching ${fence.geometry.coordinates[0].length - 1} corners with geofence.wasm in this page` : 'no fence drawn';
    },
    ({ drawing: on, corners }) => {
      byId('draw-hint').textContent = on ? `${corners} corner${corners === 1 ? '' : 's'}: click the map to add one; Finish (or Enter, or a double-click) closes it, Escape cancels` : '';
      (byId('draw-finish') as HTMLButtonElement).disabled = !on || corners < 3;
    },
  );
  new NearestVehicles(map, byId<HTMLTableSectionElement>('nearest'), byId('nearest-state'), () => drawing.active);
  byId('draw-start').addEventListener('click', () => drawing.start());
  byId('draw-finish').addEventListener('click', () => drawing.finish());
  byId('draw-clear').addEventListener('click', () => drawing.clear());
  byId('drawn-apply').addEventListener('click', () => {
    const text = (byId('drawn-geojson') as HTMLTextAreaElement).value;
    try {
      const geometry = JSON.parse(text) as GeoJSON.Polygon;
      if (geometry.type !== 'Polygon') throw new Error('a GeoJSON Polygon, please');
      drawing.set({ type: 'Feature', id: 'drawn', properties: { name: 'your fence' }, geometry } satisfies Polygon);
      byId('drawn-error').textContent = '';
    } catch (e) {
      byId('drawn-error').textContent = `Not a fence: ${(e as Error).message}`;
    }
  });

  let animatedAt = 0;
  const frame = (now: number) => {
    if (dirty.vehicles) {
      source(SOURCES.vehicles).setData(fleet.geojson());
      byId('vehicle-count').textContent = String(fleet.latest.size);
      byId('vehicles-moving').textContent = String(fleet.moving);
      dirty.vehicles = false;
    }
    if (now - animatedAt > ANIMATE_EVERY && (flashes.active || dirty.hot || hot.fading)) {
      source(SOURCES.flashes).setData(flashes.geojson());
      source(SOURCES.hotspots).setData(hot.geojson());
      byId('hot-cells').textContent = String(hot.hot);
      dirty.hot = false;
      animatedAt = now;
    }
    alerts.flush();
    byId('alert-count').textContent = String(alerts.total);
    if (dirty.at) {
      const t = byId('last-update');
      t.textContent = clock(dirty.at);
      t.setAttribute('datetime', new Date(dirty.at).toISOString());
      dirty.at = 0;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

main().catch((e: Error) => {
  const banner = byId('banner');
  banner.className = 'banner unavailable';
  banner.textContent = `The dashboard could not start: ${e.message}`;
  banner.hidden = false;
  throw e;
});
