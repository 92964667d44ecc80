import { ringCrossing } from './ring-crossings.ts';
import { M_PER_DEG, metresPerDegLon } from '../network/geo.ts';

/**
 * GeoJSON fences → the flat binary the geofence kernel reads (kernels/assembly/geofence.ts), so no kernel,
 * in any language, needs a JSON parser. Polygon and MultiPolygon features (with holes), and circles: a
 * Point feature with `properties.radius` in metres.
 *
 * Layout, little-endian: u32 fences · u32 parts · u32 rings · u32 coords, then
 *   fences × { u32 kind (1 polygon, 2 circle) · u32 firstPart · u32 partCount · u32 0 · f64 bbox[4] · f64 centre[2] · f64 radius }
 *   parts  × { u32 firstRing · u32 ringCount }      rings × { u32 firstCoord · u32 coordCount }
 *   coords × { f64 lon · f64 lat }                  (every ring closed)
 */

export interface Fence {
  id: string;
  name: string;
  properties: Record<string, unknown>;
}

export class FenceError extends Error {
  override readonly name = 'FenceError';
}

type Pos = [number, number];

/** `warnings`: what compiles but is likely not what was meant (a ring that crosses itself), one line each */
export function compileFences(geojson: unknown, source = 'fences'): { fences: Fence[]; bytes: Uint8Array; warnings: string[] } {
  const bad = (i: number | null, why: string) => new FenceError(`${source}: ${i === null ? '' : `feature ${i}: `}${why}`);
  const g = geojson as { type?: string; features?: unknown[] };
  const features = g?.type === 'FeatureCollection' ? g.features : g?.type === 'Feature' ? [g] : undefined;
  if (!Array.isArray(features)) throw bad(null, 'expected a GeoJSON FeatureCollection or Feature');
  if (features.length === 0) throw bad(null, 'no features');

  const fences: Fence[] = [];
  const heads: { kind: number; firstPart: number; parts: number; bbox: number[]; circle: number[] }[] = [];
  const parts: number[][] = [];
  const rings: number[][] = [];
  const coords: number[] = [];
  const warnings: string[] = [];

  const position = (i: number, p: unknown): Pos => {
    if (!Array.isArray(p) || p.length < 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') throw bad(i, 'a position is not [lon, lat]');
    const [lon, lat] = p as Pos;
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) throw bad(i, `position [${lon}, ${lat}] is out of range`);
    return [lon, lat];
  };
  const addRing = (i: number, ring: unknown, bbox: number[]) => {
    if (!Array.isArray(ring) || ring.length < 4) throw bad(i, 'a polygon ring needs at least 4 positions');
    const pts = ring.map((p) => position(i, p));
    const [f, l] = [pts[0], pts[pts.length - 1]];
    if (f[0] !== l[0] || f[1] !== l[1]) throw bad(i, 'a polygon ring is not closed (first and last positions differ)');
    const first = coords.length / 2;
    rings.push([first, pts.length]);
    for (const [x, y] of pts) {
      coords.push(x, y);
      bbox[0] = Math.min(bbox[0], x);
      bbox[1] = Math.min(bbox[1], y);
      bbox[2] = Math.max(bbox[2], x);
      bbox[3] = Math.max(bbox[3], y);
    }
    const at = ringCrossing(coords, first, pts.length);
    if (at) warnings.push(`${source}: feature ${i}${named(i)}: a ring crosses itself near ${at[0].toFixed(6)},${at[1].toFixed(6)}; inside and outside there follow the even-odd rule`);
  };
  const named = (i: number) => {
    const p = (features[i] as { properties?: Record<string, unknown> | null })?.properties;
    return p?.name ? ` ("${String(p.name)}")` : '';
  };
  const addPolygon = (i: number, poly: unknown, bbox: number[]) => {
    if (!Array.isArray(poly) || poly.length === 0) throw bad(i, 'a polygon has no rings');
    parts.push([rings.length, poly.length]);
    for (const ring of poly) addRing(i, ring, bbox);
  };

  features.forEach((f, i) => {
    const feat = f as { type?: string; id?: unknown; geometry?: { type?: string; coordinates?: unknown }; properties?: Record<string, unknown> | null };
    if (feat?.type !== 'Feature') throw bad(i, 'not a GeoJSON Feature');
    const props = feat.properties ?? {};
    const id = String(feat.id ?? props.id ?? props.name ?? i);
    const geom = feat.geometry;
    const bbox = [Infinity, Infinity, -Infinity, -Infinity];
    const firstPart = parts.length;
    let kind = 1;
    let circle = [0, 0, 0];
    switch (geom?.type) {
      case 'Polygon':
        addPolygon(i, geom.coordinates, bbox);
        break;
      case 'MultiPolygon':
        if (!Array.isArray(geom.coordinates) || geom.coordinates.length === 0) throw bad(i, 'a MultiPolygon has no polygons');
        for (const poly of geom.coordinates) addPolygon(i, poly, bbox);
        break;
      case 'Point': {
        const [lon, lat] = position(i, geom.coordinates);
        const r = Number(props.radius);
        if (!(r > 0)) throw bad(i, 'a Point fence is a circle and needs properties.radius in metres');
        kind = 2;
        circle = [lon, lat, r];
        const dLat = r / M_PER_DEG;
        const dLon = r / metresPerDegLon(lat);
        bbox.splice(0, 4, lon - dLon, lat - dLat, lon + dLon, lat + dLat);
        break;
      }
      default:
        throw bad(i, `unsupported geometry ${geom?.type ? `"${geom.type}"` : '(none)'}: use Polygon, MultiPolygon or a Point with properties.radius`);
    }
    heads.push({ kind, firstPart, parts: parts.length - firstPart, bbox, circle });
    fences.push({ id, name: String(props.name ?? id), properties: props });
  });

  const size = 16 + heads.length * 72 + parts.length * 8 + rings.length * 8 + coords.length * 8;
  const bytes = new Uint8Array(size);
  const v = new DataView(bytes.buffer);
  let at = 0;
  const u32 = (x: number) => (v.setUint32(at, x, true), (at += 4));
  const f64 = (x: number) => (v.setFloat64(at, x, true), (at += 8));
  [heads.length, parts.length, rings.length, coords.length / 2].forEach(u32);
  for (const h of heads) {
    [h.kind, h.firstPart, h.parts, 0].forEach(u32);
    [...h.bbox, ...h.circle].forEach(f64);
  }
  for (const p of parts) p.forEach(u32);
  for (const r of rings) r.forEach(u32);
  coords.forEach(f64);
  return { fences, bytes, warnings };
}
