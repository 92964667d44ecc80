import { createServer } from 'node:http';

/**
 * The query benchmark's floor on the HTTP side: a node:http server that answers every request with the same
 * empty list, no routing, no parsing, no index. What is left is Node's HTTP server and the round trip,
 * which no answer of geoflux's API can go below (bench/query.ts sets it beside Redis' PING).
 *
 *   node --import tsx bench/http-constant-server.ts
 */
const body = '{"count":0,"items":[]}';
const headers = ['content-type', 'application/json', 'content-length', String(body.length)];
const server = createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`url http://127.0.0.1:${(server.address() as { port: number }).port}/\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
