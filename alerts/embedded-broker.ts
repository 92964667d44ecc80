import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Logger } from '../log/logger.ts';

export interface EmbeddedBroker {
  /** mqtt://host:port */
  url: string;
  /** ws://host:port, when MQTT over WebSocket is on */
  wsUrl?: string;
  port: number;
  wsPort?: number;
  clients(): number;
  /** publishes as the broker itself: no client, no socket, no packet parsing (what a sink in this process uses) */
  publish(topic: string, payload: string, opts: { qos: 0 | 1 | 2; retain: boolean }, done: (err?: Error) => void): void;
  /** calls `listener` once the broker has closed */
  onClose(listener: () => void): void;
  close(): Promise<void>;
}

/**
 * An MQTT 3.1.1 broker inside `geoflux serve` (aedes), on TCP and, for browsers, WebSocket, so a demo needs
 * no broker installed. Port 0 takes any free port. Closing disconnects its clients and frees both ports.
 */
export async function startEmbeddedBroker({ host = '127.0.0.1', port = 1883, wsPort = 8083 as number | false, log }: { host?: string; port?: number; wsPort?: number | false; log?: Logger } = {}): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const tcp = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await listen(tcp, host, port, 'mqtt.embedded.port');
  const realPort = (tcp.address() as { port: number }).port;
  let ws: WebSocketServer | undefined;
  let realWs: number | undefined;
  if (wsPort !== false) {
    try {
      ws = await new Promise<WebSocketServer>((resolve, reject) => {
        const w = new WebSocketServer({ host, port: wsPort });
        w.once('listening', () => resolve(w));
        w.once('error', (e: NodeJS.ErrnoException) => reject(inUse(e, wsPort, 'mqtt.embedded.ws')));
      });
    } catch (e) {
      tcp.close();
      throw e;
    }
    ws.on('connection', (socket, req) => broker.handle(createWebSocketStream(socket) as unknown as Socket, req));
    realWs = (ws.address() as { port: number }).port;
  }
  const url = `mqtt://${host}:${realPort}`;
  const wsUrl = realWs === undefined ? undefined : `ws://${host}:${realWs}`;
  log?.info(`embedded MQTT broker (3.1.1) on ${url}${wsUrl ? ` and ${wsUrl} (WebSocket)` : ''}`);
  return {
    url,
    wsUrl,
    port: realPort,
    wsPort: realWs,
    clients: () => broker.connectedClients,
    publish: (topic, payload, { qos, retain }, done) =>
      broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain, dup: false }, (err?: Error | null) => done(err ?? undefined)),
    onClose: (listener) => void broker.once('closed', listener),
    async close() {
      for (const c of ws?.clients ?? []) c.terminate();
      await new Promise<void>((r) => (ws ? ws.close(() => r()) : r()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => tcp.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

async function listen(server: Server, host: string, port: number, field: string): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (e) {
    throw inUse(e as NodeJS.ErrnoException, port, field);
  }
}

const inUse = (e: NodeJS.ErrnoException, port: number, field: string) =>
  e.code === 'EADDRINUSE'
    ? new Error(`MQTT port ${port} is in use: set ${field} to another port (0 for any), or mqtt.url for an external broker`)
    : e;
