import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { didYouMean } from '../workflows/errors.ts';
import type { FleetIndex, Hit } from './fleet-index.ts';
import { BadQuery, readBBox, readFields, readGeometry, readNearby, readWhere } from './query-params.ts';

/**
 * The query API under /v1/ (docs/query.md): nearby, within and intersects over the fleet's index, and
 * fields a dispatcher sets. Answers are JSON, `{ count, items }`, every item with its deviceId; a bad
 * parameter is a 400 with `{ error }` saying why.
 */

const MAX_BODY = 1 << 20;

type Route = { method: 'GET' | 'POST'; answer: (fleet: FleetIndex, q: URLSearchParams, body: string) => unknown };

const items = (hits: Hit[]) => ({ count: hits.length, items: hits });

const ROUTES: Record<string, Route[]> = {
  '/v1/nearby': [{ method: 'GET', answer: (f, q) => items(f.nearby(readNearby(q))) }],
  '/v1/within': [
    { method: 'GET', answer: (f, q) => items(f.withinBox(readBBox(q), readWhere(q))) },
    { method: 'POST', answer: (f, q, body) => items(f.within(readGeometry(body, true), readWhere(q))) },
  ],
  '/v1/intersects': [{ method: 'POST', answer: (f, q, body) => items(f.intersecting(readGeometry(body, false), readWhere(q))) }],
  '/v1/fields': [
    {
      method: 'POST',
      answer: (f, _q, body) => {
        const { deviceId, fields } = readFields(body);
        if (!f.setFields(deviceId, fields)) throw new NotFound(`no vehicle "${deviceId}" in the fleet (it has sent no fix within the TTL)`);
        return f.get(deviceId);
      },
    },
  ],
};

class NotFound extends Error {}

const reply = (res: ServerResponse, code: number, value: unknown) => {
  const body = JSON.stringify(value);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new BadQuery(`the body is over ${MAX_BODY} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Answers a /v1/ request; `fleet` undefined when the workflow has no fleet function. */
export function answerQuery(fleet: FleetIndex | undefined, req: IncomingMessage, res: ServerResponse, log?: Logger): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const routes = ROUTES[url.pathname];
  if (!routes) return reply(res, 404, { error: `no ${url.pathname} here${didYouMean(url.pathname, Object.keys(ROUTES))}; the API: ${Object.keys(ROUTES).join(', ')}` });
  const route = routes.find((r) => r.method === req.method);
  if (!route) {
    res.setHeader('allow', routes.map((r) => r.method).join(', '));
    return reply(res, 405, { error: `${url.pathname} takes ${routes.map((r) => r.method).join(' or ')}` });
  }
  if (!fleet) return reply(res, 404, { error: 'this workflow keeps no fleet index: add a function { name: fleet, observe: [gps], host: local, run: builtin:fleet }' });
  const body = route.method === 'POST' ? readBody(req) : Promise.resolve('');
  body
    .then((b) => reply(res, 200, route.answer(fleet, url.searchParams, b)))
    .catch((e: Error) => {
      const code = e instanceof BadQuery ? 400 : e instanceof NotFound ? 404 : 500;
      if (code === 500) log?.warn(`${url.pathname}: ${e.message}`);
      reply(res, code, { error: e.message });
    });
}
