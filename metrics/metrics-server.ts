import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  /** what a scrape reads, as text in Prometheus' exposition format */
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/** `GET /metrics` for Prometheus on `host:port` (port 0: any free one). */
export async function startMetricsServer(registry: Registry, at: { host: string; port: number }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('geoflux serves GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`metrics: cannot listen on ${at.host}:${at.port}: ${e.code === 'EADDRINUSE' ? 'the port is taken' : e.message}`)));
    server.listen(at.port, at.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${at.host.includes(':') ? `[${at.host}]` : at.host}:${port}/metrics`,
    scrape: () => registry.metrics(),
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        // a scraper's keep-alive connection would hold close() open
        server.closeAllConnections();
      }),
  };
}
