import { readDecimal } from '../codecs/decimal.ts';
import { didYouMean } from '../workflows/errors.ts';
import { GeoJsonError, readShape, type BBox, type Shape } from './geojson.ts';
import type { Where } from './fleet-index.ts';

/**
 * The query API's parameters, read and checked in one place: a bad one is a `BadQuery` whose message is the
 * reason the HTTP API answers with (400).
 */

export class BadQuery extends Error {}

export const MAX_K = 1000;

/** a request's query parameters, each given once */
export type Params = Map<string, string>;

const decode = (s: string): string => {
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    throw new BadQuery(`a malformed %-escape in "${s}"`);
  }
};

/**
 * The query string after `?`, read as a form (`+` a space), each parameter once: `?k=5&k=7` is refused, not
 * answered for one of them (which one would be the server's guess).
 */
export function readParams(search: string): Params {
  const params: Params = new Map();
  if (search === '') return params;
  for (const pair of search.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const before = params.get(name);
    if (before !== undefined) throw new BadQuery(`${name} is given twice (${name}=${before} and ${name}=${value}): give it once`);
    params.set(name, value);
  }
  return params;
}

/** refuses a parameter the endpoint does not read (`radus=10` would otherwise be answered as if no radius were asked) */
export function onlyKnown(q: Params, known: readonly string[], path: string): void {
  for (const name of q.keys()) {
    if (!known.includes(name)) throw new BadQuery(`${path} takes no ${name}${didYouMean(name, known)} (it takes ${known.length ? known.join(', ') : 'no parameters'})`);
  }
}

const number = (q: Params, name: string, ok: (v: number) => boolean, must: string, dflt?: number): number => {
  const raw = q.get(name);
  if (raw === undefined || raw === '') {
    if (dflt === undefined) throw new BadQuery(`${name} is required (${must})`);
    return dflt;
  }
  const v = readDecimal(raw);
  // 1e309 is a decimal past a double's range: "must be > 0 (got 1e309)" read as a contradiction
  if (v === Infinity || v === -Infinity) throw new BadQuery(`${name} must be ${must} (got "${raw}", beyond the largest number, about 1.8e308)`);
  if (Number.isNaN(v) || !ok(v)) throw new BadQuery(`${name} must be ${must} (got "${raw}")`);
  return v;
};

/** `where=status:free,kind:van`: each field equal, as text (fleet-index.ts says how other values compare) */
/** What an answer's items hold: `objects`, all the fleet knows of each vehicle (the default); `points`, its id and position (and distance), as Tile38's POINTS and Redis' WITHCOORD answer. */
export type Output = 'objects' | 'points';
const OUTPUTS: readonly Output[] = ['objects', 'points'];

export function readOutput(q: Params): Output {
  const raw = q.get('output');
  if (raw === undefined || raw === '') return 'objects';
  if (!(OUTPUTS as readonly string[]).includes(raw)) throw new BadQuery(`output is ${OUTPUTS.join(' or ')} (got "${raw}")${didYouMean(raw, OUTPUTS)}`);
  return raw as Output;
}

export function readWhere(q: Params): Where | undefined {
  const raw = q.get('where');
  if (raw === undefined || raw === '') return undefined;
  const where: Where = {};
  for (const part of raw.split(',')) {
    const at = part.indexOf(':');
    if (at <= 0) throw new BadQuery(`where takes field:value pairs, comma-separated (got "${part}")`);
    if (part.indexOf(':', at + 1) >= 0) throw new BadQuery(`where takes field:value pairs, one ':' each (got "${part}")`);
    const field = part.slice(0, at).trim();
    if (field in where) throw new BadQuery(`where names ${field} twice`);
    where[field] = part.slice(at + 1).trim();
  }
  return where;
}

export function readNearby(q: Params): { lon: number; lat: number; k: number; radius?: number; where?: Where } {
  const radius = q.get('radius');
  return {
    lon: number(q, 'lon', (v) => Math.abs(v) <= 180, 'a longitude in [-180, 180]'),
    lat: number(q, 'lat', (v) => Math.abs(v) <= 90, 'a latitude in [-90, 90]'),
    k: number(q, 'k', (v) => Number.isInteger(v) && v >= 1 && v <= MAX_K, `a whole number from 1 to ${MAX_K}`, 5),
    ...(radius === undefined ? {} : { radius: number(q, 'radius', (v) => v > 0, 'metres > 0') }),
    where: readWhere(q),
  };
}

/** `bbox=west,south,east,north` in degrees, as GeoJSON orders a bbox */
export function readBBox(q: Params): BBox {
  const raw = q.get('bbox');
  if (!raw) throw new BadQuery('bbox is required: west,south,east,north in degrees (or POST a GeoJSON polygon)');
  const b = raw.split(',').map(readDecimal);
  if (b.length !== 4 || !b.every(Number.isFinite)) throw new BadQuery(`bbox is four numbers, west,south,east,north (got "${raw}")`);
  if (Math.abs(b[0]) > 180 || Math.abs(b[2]) > 180 || Math.abs(b[1]) > 90 || Math.abs(b[3]) > 90) throw new BadQuery(`bbox is out of range: longitudes within ±180, latitudes within ±90 (got "${raw}")`);
  if (b[0] > b[2] || b[1] > b[3]) throw new BadQuery(`bbox runs west,south,east,north: west ≤ east and south ≤ north (got "${raw}")`);
  return b as BBox;
}

/** a POSTed GeoJSON body; `areasOnly` for within */
export function readGeometry(body: string, areasOnly: boolean): Shape {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new BadQuery(`the body is not JSON: ${(e as Error).message}`);
  }
  try {
    return readShape(json, areasOnly);
  } catch (e) {
    throw e instanceof GeoJsonError ? new BadQuery(e.message) : e;
  }
}

/** POST /v1/fields: `{ "deviceId": "…", "fields": { "status": "busy" } }` */
export function readFields(body: string): { deviceId: string; fields: Record<string, unknown> } {
  let json: { deviceId?: unknown; fields?: unknown };
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new BadQuery(`the body is not JSON: ${(e as Error).message}`);
  }
  const shape = '{ "deviceId": "…", "fields": { "status": "free" } }';
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BadQuery(`the body is ${Array.isArray(json) ? 'an array' : JSON.stringify(json)}, not ${shape}`);
  if (typeof json.deviceId !== 'string' || !json.deviceId) throw new BadQuery(`deviceId is required: ${shape}`);
  if (typeof json.fields !== 'object' || json.fields === null || Array.isArray(json.fields)) throw new BadQuery('fields is an object of field: value (null removes a field)');
  for (const [name, value] of Object.entries(json.fields)) {
    const problem = fieldProblem(name, value);
    if (problem) throw new BadQuery(problem);
  }
  return { deviceId: json.deviceId, fields: json.fields as Record<string, unknown> };
}

/** the most bytes a user field's value may take, as JSON: a status, a driver's name, a few ids; not a document */
export const MAX_FIELD_BYTES = 1024;
/** the longest a user field's name may be, in characters */
export const MAX_FIELD_NAME = 64;

/**
 * Why a user field cannot be kept, undefined when it can: a name `where` cannot ask for (with `,` or `:`,
 * which separate its pairs, or empty or longer than MAX_FIELD_NAME), a text value with `,` or `:` (which
 * `where` could never match), or a value past MAX_FIELD_BYTES as JSON. Each is held for every vehicle and
 * copied into every answer that holds the vehicle. One rule for /v1/fields and for the fields fixes carry.
 */
export function fieldProblem(name: string, value: unknown): string | undefined {
  if (name === '' || name.length > MAX_FIELD_NAME || /[,:]/.test(name)) return `field name ${JSON.stringify(name.slice(0, MAX_FIELD_NAME))}${name.length > MAX_FIELD_NAME ? '…' : ''}: 1 to ${MAX_FIELD_NAME} characters without "," or ":" (which where=field:value,… uses)`;
  if (typeof value === 'string' && /[,:]/.test(value)) return `field ${name}: a text with "," or ":" (${JSON.stringify(value.slice(0, 40))}), which where=field:value,… could never match`;
  const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value) ?? '');
  if (bytes > MAX_FIELD_BYTES) return `field ${name}: ${bytes} bytes as JSON, more than ${MAX_FIELD_BYTES}`;
  return undefined;
}
