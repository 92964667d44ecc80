import type { GeoJSONSource, Map as MapLibreMap, MapMouseEvent } from 'maplibre-gl';
import { el } from './dom.ts';
import { SOURCES } from './map-style.ts';

const K = 5;

interface Hit {
  deviceId: string;
  lon: number;
  lat: number;
  distance: number;
  fields: Record<string, unknown>;
}

/**
 * A click on the map (while no fence is being drawn) asks the workflow's fleet index for the 5 nearest
 * vehicles (GET /v1/nearby, docs/query.md): they are ringed on the map and listed, nearest first, with
 * their distance. A workflow without a fleet function says so in the list's place.
 */
export class NearestVehicles {
  private asked = 0;

  constructor(
    private readonly map: MapLibreMap,
    private readonly list: HTMLTableSectionElement,
    private readonly state: HTMLElement,
    drawing: () => boolean,
  ) {
    map.on('click', (e: MapMouseEvent) => {
      if (!drawing()) void this.ask(e.lngLat.lng, e.lngLat.lat);
    });
  }

  private async ask(lon: number, lat: number): Promise<void> {
    const mine = ++this.asked;
    this.state.textContent = 'asking…';
    const res = await fetch(`/v1/nearby?lon=${lon.toFixed(6)}&lat=${lat.toFixed(6)}&k=${K}`);
    const answer = (await res.json()) as { items?: Hit[]; error?: string };
    // a slow answer to an earlier click does not overwrite a later one's
    if (mine !== this.asked) return;
    if (!res.ok) {
      this.state.textContent = answer.error ?? `the fleet index answered ${res.status}`;
      return this.show(lon, lat, []);
    }
    const hits = answer.items ?? [];
    this.state.textContent = `${hits.length} nearest ${lon.toFixed(5)}, ${lat.toFixed(5)}`;
    this.show(lon, lat, hits);
  }

  private show(lon: number, lat: number, hits: Hit[]): void {
    this.list.replaceChildren(
      ...hits.map((h, i) => {
        const tr = document.createElement('tr');
        tr.className = 'nearest';
        Object.assign(tr.dataset, { device: h.deviceId, distance: String(h.distance) });
        const status = typeof h.fields.status === 'string' ? h.fields.status : '';
        tr.append(el('td', String(i + 1)), el('td', h.deviceId), el('td', `${Math.round(h.distance)} m`), el('td', status));
        return tr;
      }),
    );
    const point = (c: [number, number], properties: Record<string, unknown>): GeoJSON.Feature => ({ type: 'Feature', properties, geometry: { type: 'Point', coordinates: c } });
    (this.map.getSource(SOURCES.nearest) as GeoJSONSource).setData({
      type: 'FeatureCollection',
      features: [point([lon, lat], { role: 'asked' }), ...hits.map((h) => point([h.lon, h.lat], { role: 'hit', deviceId: h.deviceId }))],
    });
  }
}
