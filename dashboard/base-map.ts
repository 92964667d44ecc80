import { resolve } from 'node:path';
import { compileFences } from '../kernels/fence-compiler.ts';
import { loadFences } from '../kernels/load-fences.ts';
import { loadNetwork } from '../network/load-network.ts';
import { HIGHWAY_CLASSES } from '../network/highway-classes.ts';
import { bboxOf, type RoadGraph } from '../network/road-graph.ts';
import type { Workflow } from '../workflows/schema.ts';

/**
 * The page's base map, made from the workflow's own data by the project's own code: the road network its
 * map matching or its simulator drives on (network/osm-import.ts), and the fences its geofence functions
 * watch (the fence compiler's ids and names, so an alert names the polygon it is about). No tile server.
 */

type Bbox = [number, number, number, number];
interface Feature<G, P> {
  type: 'Feature';
  geometry: G;
  properties: P;
}
export interface FeatureCollection<G = unknown, P = Record<string, unknown>> {
  type: 'FeatureCollection';
  features: Feature<G, P>[];
}
export type RoadProperties = { class: string; way: number; oneway: boolean };
export type FenceProperties = { fence: string; name: string; function: string };

export interface BaseMap {
  roads: FeatureCollection<{ type: 'LineString'; coordinates: number[][] }, RoadProperties>;
  fences: FeatureCollection<unknown, FenceProperties>;
  /** what the page fits its first view to: the fences (what the workflow watches), else the roads; undefined with neither */
  bbox?: Bbox;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** One line per road between two junctions: a two-way road's two directed edges are drawn once. */
export function roadsGeoJson(g: RoadGraph): BaseMap['roads'] {
  const seen = new Map<string, Feature<{ type: 'LineString'; coordinates: number[][] }, RoadProperties>>();
  for (let e = 0; e < g.edgeFrom.length; e++) {
    const [a, b] = [g.edgeFrom[e], g.edgeTo[e]];
    const key = `${g.edgeWay[e]}:${Math.min(a, b)}:${Math.max(a, b)}`;
    const twin = seen.get(key);
    if (twin) {
      twin.properties.oneway = false;
      continue;
    }
    const coordinates: number[][] = [];
    for (let p = g.pointStart[e]; p < g.pointStart[e + 1]; p++) coordinates.push([round6(g.pointLon[p]), round6(g.pointLat[p])]);
    seen.set(key, { type: 'Feature', geometry: { type: 'LineString', coordinates }, properties: { class: HIGHWAY_CLASSES[g.edgeClass[e]]?.[0] ?? 'road', way: g.edgeWay[e], oneway: true } });
  }
  return { type: 'FeatureCollection', features: [...seen.values()] };
}

/** The road network a workflow names: its map matching's, else its traffic simulator's. */
export function networkOf(wf: Workflow): string | undefined {
  const named = [...wf.functions.filter((f) => f.kernel === 'mapmatch').map((f) => f.params?.network), ...wf.sources.filter((s) => s.run === 'builtin:traffic').map((s) => s.params?.network)];
  const file = named.find((n): n is string => typeof n === 'string');
  return file && resolve(wf.dir, file);
}

/** A circular fence (a Point with a radius in metres) as a polygon the map can fill. */
function circle([lon, lat]: number[], radius: number): { type: 'Polygon'; coordinates: number[][][] } {
  const ring: number[][] = [];
  for (let i = 0; i <= 64; i++) {
    const a = (i / 64) * 2 * Math.PI;
    ring.push([round6(lon + (radius * Math.sin(a)) / (111_320 * Math.cos((lat * Math.PI) / 180))), round6(lat + (radius * Math.cos(a)) / 111_320)]);
  }
  ring[64] = ring[0];
  return { type: 'Polygon', coordinates: [ring] };
}

/** Every geofence function's fences, each with the id and name its alerts carry. */
export async function fencesOf(wf: Workflow): Promise<BaseMap['fences']> {
  const features: BaseMap['fences']['features'] = [];
  for (const f of wf.functions.filter((fn) => fn.kernel === 'geofence' && typeof fn.params?.fences === 'string')) {
    const adminLevel = typeof f.params!.adminLevel === 'number' ? f.params!.adminLevel : undefined;
    const { geojson, source } = await loadFences(f.params!.fences as string, wf.dir, adminLevel);
    const { fences } = compileFences(geojson, source);
    const raw = (geojson as { type: string; features?: Feature<{ type: string; coordinates: number[] }, Record<string, unknown>>[] }).features ?? [geojson as never];
    raw.forEach((feat, i) => {
      const geometry = feat.geometry.type === 'Point' ? circle(feat.geometry.coordinates, Number(feat.properties.radius)) : feat.geometry;
      features.push({ type: 'Feature', geometry, properties: { fence: fences[i].id, name: fences[i].name, function: f.name } });
    });
  }
  return { type: 'FeatureCollection', features };
}

function extent(points: Iterable<number[]>): Bbox | undefined {
  const b: Bbox = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of points) b.splice(0, 4, Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y));
  return Number.isFinite(b[0]) ? b : undefined;
}

function* fencePoints(fc: BaseMap['fences']): Iterable<number[]> {
  const walk = function* (c: unknown): Iterable<number[]> {
    if (Array.isArray(c) && typeof c[0] === 'number') yield c as number[];
    else if (Array.isArray(c)) for (const x of c) yield* walk(x);
  };
  for (const f of fc.features) yield* walk((f.geometry as { coordinates: unknown }).coordinates);
}

export async function loadBaseMap(wf: Workflow): Promise<BaseMap> {
  const network = networkOf(wf);
  const graph = network ? (await loadNetwork(network)).graph : undefined;
  const fences = await fencesOf(wf);
  const roads = graph ? roadsGeoJson(graph) : { type: 'FeatureCollection' as const, features: [] };
  // an extract's roads reach well past the city it is cut for (Monaco's run into France): the fences say where to look
  return { roads, fences, bbox: extent(fencePoints(fences)) ?? (graph && bboxOf(graph)) };
}
