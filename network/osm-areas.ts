import { inRing } from './geo.ts';
import { readOsm, type Position } from './read-osm.ts';

/**
 * Areas of an OSM PBF as GeoJSON polygons: the boundary relations at one `admin_level` (Monaco's
 * quarters are level 10), their outer and inner member ways joined end to end into rings. Geofences for
 * a city come from its own map data this way, not from shapes drawn by hand.
 */
export interface AreaQuery {
  /** boundary=administrative relations at this level (default 10: quarters) */
  adminLevel?: number;
}

type Ring = [number, number][];

export interface AreaFeature {
  type: 'Feature';
  id: string;
  properties: { name: string; osmRelation: number; adminLevel: number };
  geometry: { type: 'MultiPolygon'; coordinates: Position[][][] };
}

export async function areasFromOsm(path: string, { adminLevel = 10 }: AreaQuery = {}): Promise<{ type: 'FeatureCollection'; features: AreaFeature[] }> {
  const { coords, ways: allWays, relations } = await readOsm(path, {
    wayTags: false,
    relationTags: true,
    keepWay: () => true, // relations come after ways in a PBF: which ways they use is not known yet
    keepRelation: (r) => r.tags.boundary === 'administrative' && Number(r.tags.admin_level) === adminLevel,
  });
  const wayRefs = new Map(allWays.map((w) => [w.id, w.refs]));
  const features: AreaFeature[] = [];
  for (const r of relations) {
    const ways = (role: string) => r.members.filter((m) => m.type === 'way' && (m.role || 'outer') === role).map((m) => wayRefs.get(m.ref)).filter((w): w is number[] => !!w);
    const toRing = (ids: number[]) => ids.map((id) => coords.get(id)).filter((c): c is Position => !!c);
    const outers = joinRings(ways('outer')).map(toRing).filter((x) => x.length >= 4);
    if (outers.length === 0) continue; // the extract cut this boundary off
    const polygons: Ring[][] = outers.map((o) => [o]);
    for (const inner of joinRings(ways('inner')).map(toRing)) polygons.find(([o]) => inRing(inner[0], o))?.push(inner);
    const name = r.tags.name ?? String(r.id);
    features.push({ type: 'Feature', id: name, properties: { name, osmRelation: r.id, adminLevel }, geometry: { type: 'MultiPolygon', coordinates: polygons } });
  }
  return { type: 'FeatureCollection', features };
}

/** Joins ways (node id lists) that share end nodes into closed rings; pieces that never close are dropped. */
export function joinRings(ways: number[][]): number[][] {
  const left = ways.filter((w) => w.length >= 2).map((w) => [...w]);
  const rings: number[][] = [];
  while (left.length) {
    const ring = left.shift()!;
    while (ring[0] !== ring[ring.length - 1]) {
      const end = ring[ring.length - 1];
      const i = left.findIndex((w) => w[0] === end || w[w.length - 1] === end);
      if (i < 0) break;
      const [w] = left.splice(i, 1);
      ring.push(...(w[0] === end ? w : w.reverse()).slice(1));
    }
    if (ring.length >= 4 && ring[0] === ring[ring.length - 1]) rings.push(ring);
  }
  return rings;
}
