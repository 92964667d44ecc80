import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.ts';

/** the largest request body a device listener reads: a phone's fix is a few hundred bytes, a batch a few KB */
export const MAX_BODY = 64 * 1024;

export interface HttpAnswer {
  status: number;
  /** text/plain unless `json` */
  body?: string;
  json?: unknown;
}

/** A request as a device listener sees it: method, URL (with its query), headers and the body read whole. */
export interface DeviceRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * An HTTP listener for device messages (osmand, owntracks): reads each request's body (413 past MAX_BODY),
 * hands it to `handle` and sends its answer; `tooLarge` hears of what was refused unread. Resolves once
 * listening, with where; closes when `signal` aborts, cutting the requests still open (a device resends what
 * it got no answer to), and `closed` resolves when no connection is left.
 */
export async function listenHttp(at: { host: string; port: number }, handle: (req: DeviceRequest) => HttpAnswer, signal: AbortSignal, log: Logger, tooLarge: (why: string) => void): Promise<{ port: number; closed: Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        tooLarge(`a request body of more than ${MAX_BODY} bytes from ${req.socket.remoteAddress}`);
        send(res, { status: 413, body: `a body of at most ${MAX_BODY} bytes\n` });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) return;
      const url = new URL(req.url ?? '/', 'http://device');
      send(res, handle({ method: req.method ?? 'GET', url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  server.on('error', (e) => log.error(`HTTP listener: ${e.message}`));
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  // a device's connection left open would keep 'close' from coming, and a thread that ends with an HTTP
  // parser still at work can take the whole process down with it (seen once at Ctrl-C of `--as osmand`)
  signal.addEventListener(
    'abort',
    () => {
      server.close();
      server.closeAllConnections();
    },
    { once: true },
  );
  const { port } = server.address() as { port: number };
  log.info(`listening for devices on http://${at.host}:${port}/`);
  return { port, closed };
}

function send(res: ServerResponse, a: HttpAnswer): void {
  if (res.headersSent) return;
  if (a.json !== undefined) {
    res.writeHead(a.status, { 'content-type': 'application/json' }).end(JSON.stringify(a.json));
  } else res.writeHead(a.status, { 'content-type': 'text/plain; charset=utf-8' }).end(a.body ?? '');
}

/** the user and password of an `Authorization: Basic` header */
export function basicAuth(headers: IncomingMessage['headers']): { user: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

/** a secret a device sent against the one configured, in a time that does not tell how much of it matched */
export const sameSecret = (given: string, want: string): boolean => given.length === want.length && timingSafeEqual(Buffer.from(given), Buffer.from(want));
