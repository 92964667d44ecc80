import type { GeoJSONSource, Map as MapLibreMap, MapMouseEvent } from 'maplibre-gl';
import { SOURCES } from './map-style.ts';

export type Polygon = GeoJSON.Feature<GeoJSON.Polygon>;

/**
 * Drawing a fence on the map: each click adds a corner; Finish (or Enter, or a double-click) closes it once
 * it has three; Escape, or Clear, throws it away. The ring is drawn as it grows.
 */
export class FenceDrawing {
  private corners: [number, number][] = [];
  private drawing = false;

  constructor(
    private readonly map: MapLibreMap,
    private readonly done: (fence: Polygon | undefined) => void,
    private readonly changed: (state: { drawing: boolean; corners: number }) => void,
  ) {
    map.on('click', (e: MapMouseEvent) => {
      if (!this.drawing) return;
      this.corners.push([round6(e.lngLat.lng), round6(e.lngLat.lat)]);
      this.render();
    });
    map.on('dblclick', (e: MapMouseEvent) => {
      if (!this.drawing) return;
      e.preventDefault(); // no zoom: the double-click closes the fence
      this.finish();
    });
    window.addEventListener('keydown', (e) => {
      if (!this.drawing) return;
      if (e.key === 'Enter') this.finish();
      if (e.key === 'Escape') this.clear();
    });
  }

  /** a fence is being drawn: a click adds a corner, and means nothing else */
  get active(): boolean {
    return this.drawing;
  }

  start(): void {
    this.corners = [];
    this.drawing = true;
    this.map.getCanvas().style.cursor = 'crosshair';
    this.render();
  }

  finish(): void {
    // a double-click also lands as two clicks at one spot: one corner, not three
    this.corners = this.corners.filter((c, i) => i === 0 || c[0] !== this.corners[i - 1][0] || c[1] !== this.corners[i - 1][1]);
    if (this.corners.length < 3) return;
    this.drawing = false;
    this.map.getCanvas().style.cursor = '';
    const fence: Polygon = { type: 'Feature', id: 'drawn', properties: { name: 'your fence' }, geometry: { type: 'Polygon', coordinates: [[...this.corners, this.corners[0]]] } };
    this.show([fence]);
    this.changed({ drawing: false, corners: this.corners.length });
    this.done(fence);
  }

  /** shows a fence given another way (its GeoJSON typed in) as if drawn */
  set(fence: Polygon): void {
    this.drawing = false;
    this.corners = fence.geometry.coordinates[0].slice(0, -1) as [number, number][];
    this.show([fence]);
    this.changed({ drawing: false, corners: this.corners.length });
    this.done(fence);
  }

  clear(): void {
    this.drawing = false;
    this.corners = [];
    this.map.getCanvas().style.cursor = '';
    this.show([]);
    this.changed({ drawing: false, corners: 0 });
    this.done(undefined);
  }

  private render(): void {
    const points = this.corners.map((c): GeoJSON.Feature => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: c } }));
    const line: GeoJSON.Feature[] = this.corners.length > 1 ? [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: this.corners } }] : [];
    this.show([...line, ...points]);
    this.changed({ drawing: true, corners: this.corners.length });
  }

  private show(features: GeoJSON.Feature[]): void {
    (this.map.getSource(SOURCES.drawn) as GeoJSONSource).setData({ type: 'FeatureCollection', features });
  }
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
