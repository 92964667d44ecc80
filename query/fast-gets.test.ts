import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../testing/wait-for.ts';
import { fastGets } from './fast-gets.ts';
import { FleetIndex } from './fleet-index.ts';
import { answerQuery, queryAnswer } from './http-api.ts';

/**
 * The query API's fast path against node:http alone: the same bytes sent to a server with the fast path and
 * to one without, each sent packet read by the server before the next is sent, and the two answers compared
 * byte for byte (but for the Date header's value). Node's 'request' events on the fast server say which
 * requests the fast path left to Node.
 */

const fleet = new FleetIndex({ ttl: 3600 });
const T = Date.now();
for (let i = 0; i < 12; i++) fleet.position(`car-${i}`, { t: T, lon: 7.42 + i * 0.001, lat: 43.73 + (i % 4) * 0.001, speed: 5, heading: 90 });

interface Side {
  server: Server;
  port: number;
  /** the server's end of the connection last opened */
  accepted?: Socket;
  /** requests Node's own parser read */
  toNode: number;
}

let plain: Side;
let fast: Side;
let closeFast: () => void;

async function side(withFastPath: boolean): Promise<Side> {
  const server = createServer((req, res) => answerQuery(fleet, req, res));
  if (withFastPath) closeFast = fastGets(server, '/v1/', (target) => queryAnswer(fleet, 'GET', target).answer('')).closeAll;
  const s: Side = { server, port: 0, toNode: 0 };
  server.on('connection', (socket: Socket) => (s.accepted = socket)).on('request', () => s.toNode++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.port = (server.address() as { port: number }).port;
  return s;
}

beforeAll(async () => {
  [plain, fast] = await Promise.all([side(false), side(true)]);
});

afterAll(async () => {
  closeFast();
  for (const s of [plain, fast]) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

/** sends the packets one by one (each read by the server before the next), half-closes, and returns all the server wrote till it closed */
async function exchange(s: Side, packets: (string | Buffer)[]): Promise<string> {
  s.accepted = undefined;
  const socket = connect(s.port, '127.0.0.1').setNoDelay(true);
  let got = '';
  socket.setEncoding('latin1').on('data', (d: string) => (got += d));
  const closed = new Promise((r) => socket.once('close', r));
  await new Promise((r) => socket.once('connect', r));
  let sent = 0;
  for (const p of packets) {
    socket.write(p);
    sent += Buffer.byteLength(p);
    await waitFor(() => (s.accepted?.bytesRead ?? 0) >= sent || s.accepted?.destroyed, { what: `the server reading ${sent} bytes`, every: 1 });
  }
  if (!socket.destroyed) socket.end();
  await closed;
  return got.replace(/\r\nDate: [^\r]*\r\n/g, '\r\nDate: -\r\n');
}

/** both servers' answers to the same packets, and how many requests the fast one left to Node */
async function both(packets: (string | Buffer)[]) {
  const before = fast.toNode;
  const [node, ours] = [await exchange(plain, packets), await exchange(fast, packets)];
  expect(ours).toBe(node);
  return { answer: ours, toNode: fast.toNode - before };
}

const get = (target: string, headers = 'Host: 127.0.0.1\r\n') => `GET ${target} HTTP/1.1\r\n${headers}\r\n`;
const NEARBY = '/v1/nearby?lon=7.421&lat=43.731&k=3&radius=1000';
const bytes = (s: string) => [...s];

describe('the fast path answers strict GETs itself, as Node would', () => {
  it('a nearby query: the same status line, headers, Date, keep-alive and body', async () => {
    const { answer, toNode } = await both([get(NEARBY)]);
    expect(toNode).toBe(0);
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\ncontent-type: application\/json\r\ncache-control: no-store\r\ncontent-length: \d+\r\nDate: -\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n\{"count":3,/);
  });

  it('pipelined requests, in order; errors (400, 404, 405 with its Allow) from the same API code', async () => {
    const { answer, toNode } = await both([get(NEARBY) + get('/v1/within?bbox=7.42,43.73,7.425,43.733') + get('/v1/nearby?lon=7.4&lat=43.7&k=5&k=7') + get('/v1/nearbi') + get('/v1/fields', 'host: x\r\nuser-agent: t\r\naccept: */*\r\n')]);
    expect(toNode).toBe(0);
    expect(answer.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 400', 'HTTP/1.1 404', 'HTTP/1.1 405']);
    expect(answer).toContain('allow: POST\r\n');
  });

  it('a separate write per packet: each answered on its own', async () => {
    const { toNode } = await both([get(NEARBY), get('/v1/within?bbox=7.42,43.73,7.425,43.733'), get(NEARBY)]);
    expect(toNode).toBe(0);
  });

  it('Connection: close: answered, then the connection ends', async () => {
    const { answer, toNode } = await both([get(NEARBY, 'Host: a\r\nConnection: close\r\n')]);
    expect(toNode).toBe(0);
    expect(answer).toContain('\r\nConnection: close\r\n\r\n');
  });
});

describe('a client that does not read', () => {
  it('is read no further while its answers wait, and gets them all once it reads', async () => {
    fast.accepted = undefined;
    // read afresh each time: the server's end arrives after connect
    const serverEnd = (): Socket | undefined => fast.accepted;
    const before = fast.toNode;
    const socket = connect(fast.port, '127.0.0.1').setNoDelay(true);
    await new Promise((r) => socket.once('connect', r));
    socket.pause();
    // whole requests a packet, each packet read before the next is sent: the fast path's to answer, none Node's
    const batch = get('/v1/within?bbox=-180,-90,180,90').repeat(50);
    let [sent, requests] = [0, 0];
    while (!serverEnd()?.isPaused()) {
      socket.write(batch);
      [sent, requests] = [sent + batch.length, requests + 50];
      await waitFor(() => (serverEnd()?.bytesRead ?? 0) >= sent || serverEnd()?.isPaused(), { what: 'the server reading or stopping', every: 1 });
    }
    let got = '';
    socket.setEncoding('latin1').on('data', (d: string) => (got += d));
    socket.resume();
    await waitFor(() => (got.match(/HTTP\/1\.1 200 OK/g) ?? []).length === requests, { what: `${requests} answers`, every: 100 });
    expect(fast.toNode).toBe(before);
    socket.destroy();
  });
});

describe('everything else goes to Node, unread, and is answered as Node answers it', () => {
  const cases: [string, (string | Buffer)[]][] = [
    ['one byte at a time, then a request more', [...bytes(get(NEARBY)), get(NEARBY)]],
    ['split inside the header block', [get(NEARBY).slice(0, 30), get(NEARBY).slice(30)]],
    ['a whole request, then half of one', [get(NEARBY) + get(NEARBY).slice(0, 20), get(NEARBY).slice(20)]],
    ['pipelined after a POST with a body', [get(NEARBY) + 'POST /v1/within HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}' + get(NEARBY)]],
    ['a POST', ['POST /v1/fields HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n{"deviceId":"car-1","fields":{"s":"free"}}']],
    ['HEAD', ['HEAD /v1/nearby?lon=7.42&lat=43.73 HTTP/1.1\r\nHost: a\r\n\r\n']],
    ['another path', [get('/api/status'), get(NEARBY)]],
    ['chunked', ['GET /v1/nearby?lon=7.42&lat=43.73 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' + get(NEARBY)]],
    ['Content-Length and Transfer-Encoding (smuggling)', ['GET /v1/nearby?lon=7.42&lat=43.73 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' + get(NEARBY)]],
    ['a body by Content-Length', ['GET /v1/nearby?lon=7.42&lat=43.73 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}' + get(NEARBY)]],
    ['Expect: 100-continue', [get(NEARBY, 'Host: a\r\nExpect: 100-continue\r\n')]],
    ['Connection: upgrade', [get(NEARBY, 'Host: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n')]],
    ['a close with a request after it', [get(NEARBY, 'Host: a\r\nConnection: close\r\n') + get(NEARBY)]],
    ['bare LF', [`GET ${NEARBY} HTTP/1.1\nHost: a\n\n`]],
    ['obs-fold', [get(NEARBY, 'Host: a\r\nX-A: b\r\n c\r\n')]],
    ['space before the colon', [get(NEARBY, 'Host : a\r\n')]],
    ['no Host', [get(NEARBY, '')]],
    ['two Hosts', [get(NEARBY, 'Host: a\r\nHost: b\r\n')]],
    ['HTTP/1.0', [`GET ${NEARBY} HTTP/1.0\r\nHost: a\r\n\r\n`]],
    ['the absolute form', [get(`http://a${NEARBY}`)]],
    ['a byte past ASCII in a header', [Buffer.concat([Buffer.from(`GET ${NEARBY} HTTP/1.1\r\nHost: a\r\nX-A: \xe9\r\n\r\n`, 'latin1')])]],
    ['a target with a space', [`GET /v1/nearby?lon=7.42 &lat=43.73 HTTP/1.1\r\nHost: a\r\n\r\n`]],
    ['a lower-case method', [`get ${NEARBY} HTTP/1.1\r\nHost: a\r\n\r\n`]],
    ['a head past the fast path limit, within Node', [get(NEARBY, `Host: a\r\nX-Big: ${'x'.repeat(9000)}\r\n`)]],
    ['a head past Node limit', [get(NEARBY, `Host: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n`)]],
    ['garbage', ['\x00\x01\x02 hello\r\n\r\n']],
  ];
  it.each(cases)('%s', async (_what, packets) => {
    expect((await both(packets)).answer).not.toBe('');
  });
});
