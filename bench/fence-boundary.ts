import { haversine, metresFrom, snapToSegment } from '../network/geo.ts';

type Position = number[];
/** a fence as bench/events.ts builds them: an OSM quarter's (multi)polygon, or a Point with `properties.radius` */
export interface FenceFeature {
  id?: string | number;
  properties?: { radius?: number } | null;
  geometry: { type: 'Polygon'; coordinates: Position[][] } | { type: 'MultiPolygon'; coordinates: Position[][][] } | { type: 'Point'; coordinates: Position };
}

/** metres from (lon, lat) to the fence's boundary, in the local frame there: how far the point is from changing side */
export function boundaryDistance(fence: FenceFeature, lon: number, lat: number): number {
  const g = fence.geometry;
  if (g.type === 'Point') return Math.abs(haversine(g.coordinates[0], g.coordinates[1], lon, lat) - (fence.properties?.radius ?? 0));
  const rings = g.type === 'Polygon' ? g.coordinates : g.coordinates.flat();
  let best = Infinity;
  for (const ring of rings) {
    let [ax, ay] = metresFrom(lon, lat, ring[0][0], ring[0][1]);
    for (let i = 1; i < ring.length; i++) {
      const [bx, by] = metresFrom(lon, lat, ring[i][0], ring[i][1]);
      best = Math.min(best, snapToSegment(ax, ay, bx, by).distance);
      ax = bx;
      ay = by;
    }
  }
  return best;
}
