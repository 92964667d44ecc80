import type { GpsRecord } from '../../codecs/gps-record.ts';
import { readDecimal } from '../../codecs/decimal.ts';
import { unixTimeMs } from '../../codecs/fix-checks.ts';
import { KNOT } from '../../codecs/fix-checks.ts';
import { jsonMeasure, unknownAsAbsent } from '../device-rules.ts';
import { jsonObject } from '../json-object.ts';

/**
 * The OsmAnd protocol as Traccar reads it (org.traccar.protocol.OsmAndProtocolDecoder), which Traccar Client
 * and OsmAnd's live tracking speak: a GET or a form POST of `id` (or `deviceid`), `lat`, `lon` (or
 * `location=lat,lon`), `timestamp` (unix seconds, ms, ISO 8601 or "yyyy-MM-dd HH:mm:ss" UTC; now when absent),
 * `speed` in knots, `bearing` (or `heading`) and `accuracy` in metres; or, from Traccar Client 9, a JSON body
 * `{ device_id, location: { timestamp, coords: { latitude, longitude, speed (m/s), heading, accuracy } } }`.
 */

export type Decoded = { fix: GpsRecord } | { error: string };

class BadParam extends Error {}

/**
 * A parameter under any of its names, null when absent. Given more than once with different values
 * (`id=a&id=b`, `id=a&deviceid=b`) it is refused as ambiguous: taking the first would file one device's fix
 * under another, and nothing would say so.
 */
const param = (q: URLSearchParams, ...names: string[]): string | null => {
  const given = names.flatMap((name) => q.getAll(name).filter((v) => v !== '').map((v) => ({ name, v })));
  if (new Set(given.map((g) => g.v)).size > 1) throw new BadParam(`ambiguous: ${given.map((g) => `${g.name}=${JSON.stringify(g.v)}`).join(', ')}; send one`);
  return given[0]?.v ?? null;
};

/** a number parameter, undefined when absent; one that is not a number is refused, not taken as unknown */
const num = (q: URLSearchParams, ...names: string[]): number | undefined => {
  const v = param(q, ...names);
  if (v === null) return undefined;
  const n = readDecimal(v);
  if (!Number.isFinite(n)) throw new BadParam(`${names.find((name) => q.getAll(name).includes(v))} "${v}" is not a number`);
  return n;
};

/** epoch ms of an OsmAnd timestamp; NaN when it is none of the forms (a sign, an exponent, a year of other than 4 digits) */
export function osmandTime(v: string): number {
  if (/^\d+$/.test(v)) return unixTimeMs(Number(v));
  if (!/^\d{4}-\d\d-\d\d/.test(v)) return NaN;
  if (v.includes('T')) return Date.parse(v);
  return Date.parse(`${v.replace(' ', 'T')}Z`);
}

export function decodeQuery(q: URLSearchParams, now: number): Decoded {
  try {
    const deviceId = param(q, 'id', 'deviceid');
    if (!deviceId) return { error: 'no device id (id= or deviceid=)' };
    const location = param(q, 'location');
    const [lat, lon] = location ? location.split(',').map(Number) : [num(q, 'lat'), num(q, 'lon')];
    if (lat === undefined || lon === undefined) return { error: 'no position (lat= and lon=, or location=lat,lon)' };
    const ts = param(q, 'timestamp');
    const t = ts ? osmandTime(ts) : now;
    if (Number.isNaN(t)) return { error: `timestamp "${ts}" is not unix seconds, ms or ISO 8601` };
    const speed = unknownAsAbsent(num(q, 'speed'));
    return { fix: withMotion({ deviceId, t, lon, lat }, speed === undefined ? undefined : speed * KNOT, unknownAsAbsent(num(q, 'bearing', 'heading')), unknownAsAbsent(num(q, 'accuracy'))) };
  } catch (e) {
    if (e instanceof BadParam) return { error: e.message };
    throw e;
  }
}

interface TraccarJson {
  device_id?: unknown;
  location?: { timestamp?: unknown; coords?: { latitude?: unknown; longitude?: unknown; speed?: unknown; heading?: unknown; accuracy?: unknown } };
}

export function decodeJson(body: string): Decoded {
  const parsed = jsonObject(body, 'the body');
  if ('error' in parsed) return parsed;
  const root = parsed.json as TraccarJson;
  const deviceId = typeof root.device_id === 'number' ? String(root.device_id) : root.device_id;
  if (typeof deviceId !== 'string' || !deviceId) return { error: 'no device_id' };
  const c = root.location?.coords;
  if (!c || typeof c.latitude !== 'number' || typeof c.longitude !== 'number') return { error: 'no location.coords.latitude/longitude' };
  const ts = root.location?.timestamp;
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  if (Number.isNaN(t)) return { error: `location.timestamp ${JSON.stringify(ts)} is not ISO 8601` };
  // speed is m/s here (the phone's own), -1 when unknown, as is heading
  return { fix: withMotion({ deviceId, t, lon: c.longitude, lat: c.latitude }, jsonMeasure(c.speed), jsonMeasure(c.heading), jsonMeasure(c.accuracy)) };
}

function withMotion(fix: GpsRecord, speed: number | undefined, heading: number | undefined, accuracy: number | undefined): GpsRecord {
  if (speed !== undefined) fix.speed = speed;
  if (heading !== undefined) fix.heading = heading;
  if (accuracy !== undefined) fix.accuracy = accuracy;
  return fix;
}
