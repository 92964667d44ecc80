import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEGREES, METRES, round } from '../codecs/precision.ts';
import { didYouMean } from '../workflows/errors.ts';
import type { FleetIndex, Hit, Vehicle } from './fleet-index.ts';
import type { QueryRefusalReason, QueryRefusals } from './query-refusals.ts';
import { BadQuery, onlyKnown, readBBox, readFields, readGeometry, readNearby, readOutput, readParams, readWhere, type Params } from './query-params.ts';

/**
 * The query API under /v1/ (docs/query.md): nearby, within and intersects over the fleet's index, and
 * fields a dispatcher sets. Answers are JSON, `{ count, items }`, every item with its deviceId; a bad
 * parameter is a 400 with `{ error }` saying why, a body past MAX_BODY a 413.
 */

const MAX_BODY = 1 << 20;

/** `takes`: the query parameters it reads, and no others */
type Route = { method: 'GET' | 'POST'; takes: readonly string[]; answer: (fleet: FleetIndex, q: Params, body: string) => unknown };

// positions to 1e-7° and distances to the centimetre (codecs/precision.ts), without a double's 17 digits in
// every answer (which also made JSON.stringify slower: npm run bench -- query)
/** rounds, in place, a vehicle the index copied for this answer (its answers are copies: nothing live changes) */
const rounded = <V extends Vehicle | Hit>(v: V): V => {
  v.lon = round(v.lon, DEGREES);
  v.lat = round(v.lat, DEGREES);
  if ('distance' in v && v.distance !== undefined) v.distance = round(v.distance, METRES);
  return v;
};

/** a vehicle as `output=points` gives it: what a map needs to draw it */
const point = (v: Vehicle | Hit) => ('distance' in v && v.distance !== undefined ? { deviceId: v.deviceId, lon: v.lon, lat: v.lat, distance: v.distance } : { deviceId: v.deviceId, lon: v.lon, lat: v.lat });

const items = (copies: (Vehicle | Hit)[], q: Params) => {
  const out = readOutput(q);
  return { count: copies.length, items: out === 'points' ? copies.map((v) => point(rounded(v))) : copies.map(rounded) };
};

export const ROUTES: Record<string, Route[]> = {
  '/v1/nearby': [{ method: 'GET', takes: ['lon', 'lat', 'k', 'radius', 'where', 'output'], answer: (f, q) => items(f.nearby(readNearby(q)), q) }],
  '/v1/within': [
    { method: 'GET', takes: ['bbox', 'where', 'output'], answer: (f, q) => items(f.withinBox(readBBox(q), readWhere(q)), q) },
    { method: 'POST', takes: ['where', 'output'], answer: (f, q, body) => items(f.within(readGeometry(body, true), readWhere(q)), q) },
  ],
  '/v1/intersects': [{ method: 'POST', takes: ['where', 'output'], answer: (f, q, body) => items(f.intersecting(readGeometry(body, false), readWhere(q)), q) }],
  '/v1/fields': [
    {
      method: 'POST',
      takes: [],
      answer: (f, _q, body) => {
        const { deviceId, fields } = readFields(body);
        if (!f.setFields(deviceId, fields)) throw new NotFound(`no vehicle "${deviceId}" in the fleet (it has sent no fix within the TTL)`);
        return rounded({ ...f.get(deviceId)! });
      },
    },
  ],
};

class NotFound extends Error {}
class TooLarge extends Error {}

/** an answer, whichever server writes it: the dashboard's node:http server or its fast path (query/fast-gets.ts) */
export interface Answer {
  status: number;
  /** raw, name then value: no header object for Node to copy and check */
  headers: string[];
  body: string;
}

const json = (status: number, value: unknown, extra?: string[]): Answer => {
  const body = JSON.stringify(value);
  const headers = ['content-type', 'application/json', 'cache-control', 'no-store', 'content-length', String(Buffer.byteLength(body))];
  return { status, headers: extra ? headers.concat(extra) : headers, body };
};

// the body a string: Node sends it in the head's write
const send = (res: ServerResponse, a: Answer) => {
  res.writeHead(a.status, a.headers);
  res.end(a.body);
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // the rest is read and dropped, so the client, still sending, gets the answer rather than a reset
      if (size > MAX_BODY) reject(new TooLarge(`the body is over ${MAX_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const status = (e: Error): [number, QueryRefusalReason] =>
  e instanceof BadQuery ? [400, 'bad_param'] : e instanceof NotFound ? [404, 'unknown_vehicle'] : e instanceof TooLarge ? [413, 'too_large'] : [500, 'error'];

/** a refusal's answer, told to `refusals` (counted, logged rate-limited) */
const refused = (path: string, code: number, reason: QueryRefusalReason, error: string, refusals?: QueryRefusals, extra?: string[]): Answer => {
  refusals?.refuse(path, reason, error);
  return json(code, { error }, extra);
};

const failure = (e: Error, path: string, refusals?: QueryRefusals): Answer => {
  const [code, reason] = status(e);
  return refused(path, code, reason, e.message, refusals);
};

/**
 * The answer to a /v1/ request (`target` as on its request line): `answer` takes its body, which only a
 * request with `body` true has to read first; a GET's is answered from '' in the caller's turn. What is not
 * answered 200 is told to `refusals`.
 */
export function queryAnswer(fleet: FleetIndex | undefined, method: string, target: string, refusals?: QueryRefusals): { body: boolean; answer: (body: string) => Answer } {
  const at = (a: Answer) => ({ body: false, answer: () => a });
  // split by hand: a WHATWG URL is most of the parsing cost of a nearby query (npm run bench -- query)
  const mark = target.indexOf('?');
  const path = mark < 0 ? target : target.slice(0, mark);
  const routes = ROUTES[path];
  if (!routes) return at(refused(path, 404, 'no_route', `no ${path} here${didYouMean(path, Object.keys(ROUTES))}; the API: ${Object.keys(ROUTES).join(', ')}`, refusals));
  const route = routes.find((r) => r.method === method);
  if (!route) return at(refused(path, 405, 'method', `${path} takes ${routes.map((r) => r.method).join(' or ')}`, refusals, ['allow', routes.map((r) => r.method).join(', ')]));
  if (!fleet) return at(refused(path, 404, 'no_fleet', 'this workflow keeps no fleet index: add a function { name: fleet, observe: [gps], host: local, run: builtin:fleet }', refusals));
  const search = mark < 0 ? '' : target.slice(mark + 1);
  return {
    body: route.method === 'POST',
    answer: (body) => {
      try {
        const q = readParams(search);
        onlyKnown(q, route.takes, path);
        return json(200, route.answer(fleet, q, body));
      } catch (e) {
        return failure(e as Error, path, refusals);
      }
    },
  };
}

/** Answers a /v1/ request through node:http; `fleet` undefined when the workflow has no fleet function. */
export function answerQuery(fleet: FleetIndex | undefined, req: IncomingMessage, res: ServerResponse, refusals?: QueryRefusals): void {
  const url = req.url ?? '/';
  const q = queryAnswer(fleet, req.method ?? 'GET', url, refusals);
  // a GET is answered in this turn: no promise between the request and its answer
  if (!q.body) return send(res, q.answer(''));
  const mark = url.indexOf('?');
  readBody(req).then(q.answer, (e: Error) => failure(e, mark < 0 ? url : url.slice(0, mark), refusals)).then((a) => send(res, a));
}
