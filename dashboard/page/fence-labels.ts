import { Marker, type Map as MapLibreMap } from 'maplibre-gl';
import type { FeatureCollection, FenceProperties } from '../base-map.ts';
import { el } from './dom.ts';

/** Where a fence's name goes: the middle of its largest ring's box (fine for city quarters). */
function labelPoint(geometry: { type: string; coordinates: unknown }): [number, number] {
  const polygons = (geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates) as number[][][][];
  let best: [number, number] = [0, 0];
  let bestArea = -1;
  for (const [outer] of polygons) {
    const xs = outer.map((p) => p[0]);
    const ys = outer.map((p) => p[1]);
    const [w, e, s, n] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    if ((e - w) * (n - s) > bestArea) [best, bestArea] = [[(w + e) / 2, (s + n) / 2], (e - w) * (n - s)];
  }
  return best;
}

/**
 * Fence names as HTML markers rather than map text: text on a MapLibre map needs glyphs from a font
 * server, and the dashboard works with no network at all. Real text is also what screen readers read.
 */
export function labelFences(map: MapLibreMap, fences: FeatureCollection<{ type: string; coordinates: unknown }, FenceProperties>): void {
  for (const f of fences.features) {
    const label = el('span', f.properties.name, 'fence-label');
    label.dataset.fence = f.properties.fence;
    new Marker({ element: label }).setLngLat(labelPoint(f.geometry)).addTo(map);
  }
}
