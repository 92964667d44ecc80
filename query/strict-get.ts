/**
 * Reads one HTTP/1.1 GET request, and only one formed so strictly that every reading of it agrees: the fast
 * path (query/fast-gets.ts) answers what this reads and hands everything else, unread, to Node's own parser.
 * It never decides what a doubtful request means; it says `undefined` and Node's llhttp does.
 *
 * Read: `GET <target> HTTP/1.1` CRLF, header lines `name: value` CRLF, an empty line, in at most MAX_HEAD
 * bytes and MAX_HEADERS lines, all of it printable ASCII (a header value may hold tabs), every line ended by
 * CRLF (no bare CR or LF, no obs-fold), exactly one Host, and a target under `prefix` of URL characters only.
 * Not read: a body or anything that could announce one or change how the connection goes on (Content-Length,
 * Transfer-Encoding, Expect, Upgrade, a Connection other than keep-alive or close), HTTP/1.0, any other
 * method, the absolute form, a request cut short (its rest is still on the way).
 */

export interface StrictGet {
  /** as on the request line, as node:http gives it as `req.url` */
  target: string;
  /** `Connection: close`: answer, then end the connection */
  close: boolean;
  /** the offset just past the request in the buffer read */
  end: number;
}

// well inside node:http's own limits (16 KiB of head, 2,000 headers): what is past ours goes to Node, which judges it
export const MAX_HEAD = 8192;
export const MAX_HEADERS = 64;

const TARGET = /^[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]*$/;
const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REFUSED = new Set(['content-length', 'transfer-encoding', 'expect', 'upgrade']);

const printable = (buf: Buffer, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) {
    const c = buf[i];
    if (c === 13) {
      if (buf[i + 1] !== 10) return false;
      i++;
    } else if ((c < 32 && c !== 9) || c > 126) return false;
  }
  return true;
};

/** the request that starts at `from` in `buf`, or undefined for Node to read (see above) */
export function readStrictGet(buf: Buffer, from: number, prefix: string): StrictGet | undefined {
  const blank = buf.indexOf('\r\n\r\n', from, 'latin1');
  if (blank < 0 || blank - from > MAX_HEAD || !printable(buf, from, blank + 4)) return undefined;
  const lines = buf.toString('latin1', from, blank).split('\r\n');
  const line = lines[0];
  if (lines.length - 1 > MAX_HEADERS || !line.startsWith('GET ') || !line.endsWith(' HTTP/1.1')) return undefined;
  const target = line.slice(4, -9);
  if (!target.startsWith(prefix) || !TARGET.test(target)) return undefined;
  let hosts = 0;
  let connection: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    const name = lines[i].slice(0, colon).toLowerCase();
    if (colon < 0 || !NAME.test(name) || REFUSED.has(name)) return undefined;
    if (name === 'host') hosts++;
    else if (name === 'connection') {
      if (connection !== undefined) return undefined;
      // trim() takes spaces and tabs off here: every other byte it would take was refused above
      connection = lines[i].slice(colon + 1).trim().toLowerCase();
      if (connection !== 'keep-alive' && connection !== 'close') return undefined;
    }
  }
  if (hosts !== 1) return undefined;
  return { target, close: connection === 'close', end: blank + 4 };
}
