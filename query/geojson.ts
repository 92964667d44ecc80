import { ringCrossing } from '../kernels/ring-crossings.ts';
import { inRing } from '../network/geo.ts';

/**
 * The GeoJSON a query may carry (RFC 7946), read once into rings and lines the index tests points against.
 * A device is a point: it is `within` an area when strictly inside it, and `intersects` an area when inside
 * or on its boundary, a line or a point only when on it (to a nanodegree: a few centimetres at most).
 */

export type Position = [number, number];
export type BBox = [west: number, south: number, east: number, north: number];

/** A geometry as the index tests it: polygons (outer ring, then holes), lines, points, and their bounds. */
export interface Shape {
  polygons: Position[][][];
  lines: Position[][];
  points: Position[];
  bbox: BBox;
}

const ON = 1e-9;

export class GeoJsonError extends Error {}

const isPosition = (p: unknown): p is Position =>
  Array.isArray(p) && p.length >= 2 && typeof p[0] === 'number' && typeof p[1] === 'number' && Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90;

function positions(v: unknown, what: string, min: number): Position[] {
  if (!Array.isArray(v) || v.length < min || !v.every(isPosition)) throw new GeoJsonError(`${what} must be an array of at least ${min} [lon, lat] positions within ±180, ±90`);
  return v.map((p) => [p[0], p[1]]);
}

function ring(v: unknown): Position[] {
  const r = positions(v, 'a polygon ring', 4);
  const [a, b] = [r[0], r[r.length - 1]];
  if (a[0] !== b[0] || a[1] !== b[1]) throw new GeoJsonError('a polygon ring must end where it starts');
  // a bow tie has no inside RFC 7946 defines: an answer by the even-odd rule would be a guess at what was meant
  const at = ringCrossing(r.flat(), 0, r.length);
  if (at) throw new GeoJsonError(`a polygon ring crosses itself near ${at[0].toFixed(7)},${at[1].toFixed(7)}: split it into polygons that do not (a MultiPolygon)`);
  return r;
}

function polygon(v: unknown): Position[][] {
  if (!Array.isArray(v) || v.length === 0) throw new GeoJsonError('a Polygon has coordinates [[ring], [hole]...]');
  return v.map(ring);
}

const list = (v: unknown, what: string): unknown[] => {
  if (!Array.isArray(v)) throw new GeoJsonError(`${what} must be an array`);
  return v;
};

/** Reads a geometry, Feature or FeatureCollection; `areasOnly` (within) takes only Polygon and MultiPolygon. */
export function readShape(input: unknown, areasOnly: boolean): Shape {
  const shape: Shape = { polygons: [], lines: [], points: [], bbox: [Infinity, Infinity, -Infinity, -Infinity] };
  const add = (g: unknown): void => {
    if (typeof g !== 'object' || g === null || Array.isArray(g)) throw new GeoJsonError(`expected a GeoJSON object, got ${Array.isArray(g) ? 'an array' : JSON.stringify(g) ?? 'nothing'}`);
    const { type, coordinates } = g as { type?: unknown; coordinates?: unknown };
    if (type === undefined) throw new GeoJsonError('a GeoJSON object has a "type": a geometry\'s, "Feature" or "FeatureCollection" (got none)');
    if (type === 'Feature') return add((g as { geometry?: unknown }).geometry);
    if (type === 'FeatureCollection') return list((g as { features?: unknown }).features, 'features').forEach(add);
    if (type === 'Polygon') shape.polygons.push(polygon(coordinates));
    else if (type === 'MultiPolygon') for (const p of list(coordinates, 'MultiPolygon coordinates')) shape.polygons.push(polygon(p));
    else if (areasOnly) throw new GeoJsonError(`within takes a Polygon or MultiPolygon (got ${String(type)}); intersects takes any geometry`);
    else if (type === 'LineString') shape.lines.push(positions(coordinates, 'a LineString', 2));
    else if (type === 'MultiLineString') for (const l of list(coordinates, 'MultiLineString coordinates')) shape.lines.push(positions(l, 'a LineString', 2));
    else if (type === 'Point') shape.points.push(...positions([coordinates], 'a Point', 1));
    else if (type === 'MultiPoint') shape.points.push(...positions(coordinates, 'a MultiPoint', 1));
    else if (type === 'GeometryCollection') list((g as { geometries?: unknown }).geometries, 'geometries').forEach(add);
    else throw new GeoJsonError(`unknown GeoJSON type ${JSON.stringify(type)}`);
  };
  add(input);
  const all = [...shape.polygons.flat(2), ...shape.lines.flat(), ...shape.points];
  if (all.length === 0) throw new GeoJsonError('the geometry is empty');
  for (const [x, y] of all) {
    shape.bbox = [Math.min(shape.bbox[0], x), Math.min(shape.bbox[1], y), Math.max(shape.bbox[2], x), Math.max(shape.bbox[3], y)];
  }
  return shape;
}

/** planar distance (degrees) from (x, y) to segment a-b: "on" a boundary, a line or a point means within ON of it */
function segmentDistance(x: number, y: number, a: Position, b: Position): number {
  const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / len2)) : 0;
  return Math.hypot(x - a[0] - t * dx, y - a[1] - t * dy);
}

const onPath = (x: number, y: number, path: Position[]) => path.some((p, i) => i > 0 && segmentDistance(x, y, path[i - 1], p) <= ON);

const inPolygon = (x: number, y: number, p: Position[][]) => inRing([x, y], p[0]) && !p.slice(1).some((hole) => inRing([x, y], hole));

/** strictly inside one of the shape's polygons (a point on a boundary is not within) */
export const isWithin = (s: Shape, x: number, y: number): boolean => s.polygons.some((p) => !p.some((r) => onPath(x, y, r)) && inPolygon(x, y, p));

/** inside or on one of the shape's polygons, or on one of its lines or points */
export const intersects = (s: Shape, x: number, y: number): boolean =>
  s.polygons.some((p) => p.some((r) => onPath(x, y, r)) || inPolygon(x, y, p)) ||
  s.lines.some((l) => onPath(x, y, l)) ||
  s.points.some((p) => Math.hypot(x - p[0], y - p[1]) <= ON);

export const inBBox = (b: BBox, x: number, y: number): boolean => x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
