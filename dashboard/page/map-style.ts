import type { ExpressionSpecification, GeoJSONSourceSpecification, StyleSpecification } from 'maplibre-gl';
import { BACKGROUND, DRAWN_COLOUR, ENTER_COLOUR, EXIT_COLOUR, FENCE_COLOUR, NEAREST_COLOUR, ROAD_STYLE, SPEED_STOPS, Z_STOPS } from './colours.ts';

/**
 * The map's style: everything from the dashboard's own server (roads and fences as GeoJSON) or made in the
 * page (vehicles, flashes, hot cells, the drawn fence, the nearest vehicles to a click). No glyphs, sprites or tiles from anywhere: fence
 * labels are HTML markers (fence-labels.ts), so no font server is needed either.
 */

const empty = (): GeoJSONSourceSpecification => ({ type: 'geojson', data: { type: 'FeatureCollection', features: [] } });

const ramp = (input: ExpressionSpecification, stops: [number, string][]): ExpressionSpecification => ['interpolate', ['linear'], input, ...stops.flat()] as ExpressionSpecification;

const roadMatch = (pick: (s: (typeof ROAD_STYLE)[number]) => string | number, fallback: string | number): ExpressionSpecification =>
  ['match', ['get', 'class'], ...ROAD_STYLE.flatMap((s) => [s[0], pick(s)]), fallback] as unknown as ExpressionSpecification;

export const SOURCES = { roads: 'roads', fences: 'fences', vehicles: 'vehicles', flashes: 'flashes', hotspots: 'hotspots', drawn: 'drawn', nearest: 'nearest' } as const;

/** `fences`: the page has them already, for their labels */
export function mapStyle(fences: GeoJSON.GeoJSON): StyleSpecification {
  return {
    version: 8,
    sources: {
      [SOURCES.roads]: { type: 'geojson', data: '/api/roads.geojson', attribution: '© OpenStreetMap contributors (ODbL)' },
      [SOURCES.fences]: { type: 'geojson', data: fences },
      [SOURCES.hotspots]: empty(),
      [SOURCES.drawn]: empty(),
      [SOURCES.vehicles]: empty(),
      [SOURCES.flashes]: empty(),
      [SOURCES.nearest]: empty(),
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': BACKGROUND } },
      { id: 'fences-fill', type: 'fill', source: SOURCES.fences, paint: { 'fill-color': FENCE_COLOUR, 'fill-opacity': 0.06, 'fill-antialias': false } },
      {
        id: 'roads',
        type: 'line',
        source: SOURCES.roads,
        // butt caps, miter joins and no sort key: fewer triangles and no per-frame sorting, which software WebGL feels
        layout: {},
        paint: {
          'line-color': roadMatch((s) => s[1], '#bbbbbb'),
          'line-width': ['interpolate', ['exponential', 1.6], ['zoom'], 12, ['*', 0.25, roadMatch((s) => s[2], 1)], 15, roadMatch((s) => s[2], 1), 18, ['*', 4, roadMatch((s) => s[2], 1)]],
        },
      },
      { id: 'fences-line', type: 'line', source: SOURCES.fences, paint: { 'line-color': FENCE_COLOUR, 'line-width': 2, 'line-dasharray': [3, 2] } },
      {
        id: 'hotspots',
        type: 'fill',
        source: SOURCES.hotspots,
        paint: { 'fill-color': ramp(['get', 'z'], Z_STOPS), 'fill-opacity': ['*', 0.75, ['get', 'opacity']], 'fill-antialias': false },
      },
      { id: 'drawn-fill', type: 'fill', source: SOURCES.drawn, filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': DRAWN_COLOUR, 'fill-opacity': 0.15 } },
      { id: 'drawn-line', type: 'line', source: SOURCES.drawn, paint: { 'line-color': DRAWN_COLOUR, 'line-width': 3 } },
      { id: 'drawn-points', type: 'circle', source: SOURCES.drawn, filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 5, 'circle-color': '#ffffff', 'circle-stroke-color': DRAWN_COLOUR, 'circle-stroke-width': 2 } },
      {
        id: 'flashes',
        type: 'circle',
        source: SOURCES.flashes,
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['get', 'age'], 0, 6, 1, 22],
          'circle-color': 'rgba(0,0,0,0)',
          'circle-stroke-width': 3,
          'circle-stroke-color': ['match', ['get', 'detect'], ['enter', 'nearby'], ENTER_COLOUR, EXIT_COLOUR],
          'circle-stroke-opacity': ['-', 1, ['get', 'age']],
        },
      },
      {
        id: 'vehicles',
        type: 'circle',
        source: SOURCES.vehicles,
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 2.5, 15, 4.5, 18, 8],
          'circle-color': ['case', ['==', ['get', 'kmh'], null], '#777777', ramp(['get', 'kmh'], SPEED_STOPS)],
          'circle-stroke-color': '#ffffff',
          'circle-stroke-width': 1,
        },
      },
      // the answer to a click: the point asked about, and a ring round each of the nearest vehicles
      {
        id: 'nearest',
        type: 'circle',
        source: SOURCES.nearest,
        paint: {
          'circle-radius': ['match', ['get', 'role'], 'asked', 4, 10],
          'circle-color': ['match', ['get', 'role'], 'asked', NEAREST_COLOUR, 'rgba(0,0,0,0)'],
          'circle-stroke-color': NEAREST_COLOUR,
          'circle-stroke-width': 3,
        },
      },
    ],
  };
}
