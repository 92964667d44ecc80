import type { BBox } from './geojson.ts';
import type { Hit, Vehicle, Where } from './fleet-index.ts';

/**
 * The query API from code: `queryFleet('http://127.0.0.1:8080').nearby({ lon, lat, k: 5 })`. Each call is
 * one HTTP request to the workflow's dashboard server; an answer other than 200 throws with the server's reason.
 */

export interface FleetAnswer<T> {
  count: number;
  items: T[];
}

export interface NearbyQuery {
  lon: number;
  lat: number;
  /** how many, nearest first (default 5) */
  k?: number;
  /** metres (default: any distance) */
  radius?: number;
  where?: Where;
}

export class FleetQueryError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const whereParam = (where?: Where) => (where ? Object.entries(where).map(([k, v]) => `${k}:${v}`).join(',') : undefined);

/** the API's `{ error }`, or whatever else answered (a server that is not geoflux's) */
function reasonOf(text: string): string {
  try {
    return (JSON.parse(text) as { error?: string }).error ?? text;
  } catch {
    return text;
  }
}

export function queryFleet(url: string) {
  const base = new URL(url.endsWith('/') ? url : `${url}/`);
  const call = async <T>(path: string, params: Record<string, string | number | undefined>, body?: unknown): Promise<T> => {
    const target = new URL(path, base);
    for (const [k, v] of Object.entries(params)) if (v !== undefined) target.searchParams.set(k, String(v));
    let res: Response;
    try {
      res = await fetch(target, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (e) {
      throw new FleetQueryError(`no geoflux serve answers at ${base.origin} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is it running, with dashboard: { port } and a builtin:fleet function?`, 0);
    }
    const text = await res.text();
    if (!res.ok) throw new FleetQueryError(`${target.pathname}: ${res.status} ${reasonOf(text)}`, res.status);
    return JSON.parse(text) as T;
  };
  return {
    /** the k nearest vehicles (within radius metres, with the fields in `where`), nearest first, each with its distance */
    nearby: (q: NearbyQuery) => call<FleetAnswer<Hit>>('v1/nearby', { lon: q.lon, lat: q.lat, k: q.k, radius: q.radius, where: whereParam(q.where) }),
    /** the vehicles in a box (west, south, east, north) or strictly inside a GeoJSON Polygon / MultiPolygon */
    within: (area: { bbox: BBox } | { geometry: object }, where?: Where) =>
      'bbox' in area
        ? call<FleetAnswer<Vehicle>>('v1/within', { bbox: area.bbox.join(','), where: whereParam(where) })
        : call<FleetAnswer<Vehicle>>('v1/within', { where: whereParam(where) }, area.geometry),
    /** the vehicles inside or on a GeoJSON geometry */
    intersects: (geometry: object, where?: Where) => call<FleetAnswer<Vehicle>>('v1/intersects', { where: whereParam(where) }, geometry),
    /** sets a vehicle's user fields (null removes one): what `where` filters on */
    setFields: (deviceId: string, fields: Record<string, unknown>) => call<Vehicle>('v1/fields', {}, { deviceId, fields }),
  };
}

export type FleetClient = ReturnType<typeof queryFleet>;
