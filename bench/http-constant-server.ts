import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';

/**
 * The query benchmark's floor on the HTTP side: a server that answers every request with the same empty
 * list, no routing, no parsing, no index. `node:http` (the default): what is left is Node's HTTP server and
 * the round trip. `net`: a bare TCP server writing the response node:http would write, one write per chunk
 * read, no HTTP parsed at all: the round trip alone, which the fast path (query/fast-gets.ts) works towards.
 * bench/query.ts sets both beside Redis' PING.
 *
 *   node --import tsx bench/http-constant-server.ts [net]
 */
const body = '{"count":0,"items":[]}';
const headers = ['content-type', 'application/json', 'content-length', String(body.length)];
const response = `HTTP/1.1 200 OK\r\n${headers[0]}: ${headers[1]}\r\n${headers[2]}: ${headers[3]}\r\nDate: ${new Date().toUTCString()}\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n${body}`;
const server =
  process.argv[2] === 'net'
    ? createNetServer({ noDelay: true }, (socket) => socket.on('data', () => socket.write(response)).on('error', () => socket.destroy()))
    : createServer((_req, res) => {
        res.writeHead(200, headers);
        res.end(body);
      });
server.listen(0, '127.0.0.1', () => process.stdout.write(`url http://127.0.0.1:${(server.address() as { port: number }).port}/\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
