import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Answer } from './http-api.ts';
import { readStrictGet } from './strict-get.ts';

/**
 * A fast path in front of a node:http server for the GETs it answers most (the query API's: docs/query.md,
 * "The fast path"). Node's HTTP server costs 30 to 40 µs of CPU a request before any answer (its parser's
 * callbacks, an IncomingMessage and a ServerResponse, their events and ticks), which at 10,000 vehicles is
 * most of a nearby query. This takes each new connection first: while the bytes that arrive are whole,
 * strictly formed GETs under `prefix` (query/strict-get.ts), it answers them itself, in order, each with the
 * bytes Node would have written (its status line, the answer's headers, then Date and Connection as Node
 * adds them), all a chunk's answers in one write. At the first byte it does not read, it puts back what it
 * has not consumed and hands the connection to the server's own connection listener for good: Node's parser
 * decides everything doubtful, so the fast path adds no way of its own to read a request.
 *
 * Connections handed over are the server's; those still here are closed by `closeAll`.
 */
export function fastGets(server: Server, prefix: string, answer: (target: string) => Answer, now: () => number = Date.now): { closeAll(): void } {
  // documented: 'connection' is how a socket reaches an HTTP server (server.emit('connection', socket)); the
  // listener Node registered is kept to hand sockets to
  const [nodes] = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeListener('connection', nodes);
  const mine = new Set<Socket>();

  let second = NaN;
  let date = '';
  // as Node's own: the Date header changes once a second
  const utc = () => {
    const s = Math.floor(now() / 1000);
    if (s !== second) [second, date] = [s, new Date(s * 1000).toUTCString()];
    return date;
  };

  const response = (a: Answer, close: boolean): string => {
    let head = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status]}\r\n`;
    for (let i = 0; i < a.headers.length; i += 2) head += `${a.headers[i]}: ${a.headers[i + 1]}\r\n`;
    head += `Date: ${utc()}\r\n`;
    head += close ? 'Connection: close\r\n' : server.keepAliveTimeout ? `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(server.keepAliveTimeout / 1000)}\r\n` : 'Connection: keep-alive\r\n';
    return `${head}\r\n${a.body}`;
  };

  server.on('connection', (socket: Socket) => {
    // Node counts requests per socket when told to: that stays its own
    if (server.maxRequestsPerSocket) return nodes.call(server, socket);
    const hangUp = () => socket.destroy();
    const ended = () => socket.end();
    const resume = () => socket.resume();
    const handOff = (rest: Buffer) => {
      socket.pause();
      socket.off('data', read).off('end', ended).off('error', hangUp).off('timeout', hangUp).off('drain', resume);
      socket.setTimeout(0);
      mine.delete(socket);
      if (rest.length) socket.unshift(rest);
      nodes.call(server, socket);
      // Node's listener does not resume a paused socket: what was put back reaches its parser now
      socket.resume();
    };
    const read = (chunk: Buffer) => {
      let out = '';
      let at = 0;
      while (at < chunk.length) {
        const req = readStrictGet(chunk, at, prefix);
        if (!req) break;
        out += response(answer(req.target), req.close);
        at = req.end;
        if (req.close) {
          // what follows a close is not read, as Node reads none of it (fast-gets.test.ts)
          socket.off('data', read);
          socket.end(out);
          return;
        }
      }
      // a client that sends and does not read is read no further until it has read what was written, as node:http does
      if (out && !socket.write(out)) socket.pause().once('drain', resume);
      if (at < chunk.length) handOff(chunk.subarray(at));
    };
    mine.add(socket);
    socket.once('close', () => mine.delete(socket));
    // an idle connection is closed after the server's keep-alive timeout, as Node closes its own
    socket.setTimeout(server.keepAliveTimeout);
    socket.on('data', read).on('end', ended).on('error', hangUp).on('timeout', hangUp);
  });

  return {
    closeAll() {
      for (const s of mine) s.destroy();
    },
  };
}
