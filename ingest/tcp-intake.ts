import { createServer, type Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';

/**
 * A TCP listener for device connections (teltonika, raw NMEA): hands each connection to `connection`.
 * Resolves once listening, with the port; on abort stops listening and closes every device's connection.
 */
export async function listenTcp(at: { host: string; port: number }, connection: (socket: Socket) => void, signal: AbortSignal, log: Logger, what: string): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // a device that goes away mid-write is an everyday thing, not a crash
    socket.on('error', (e) => log.debug(`${what} connection from ${socket.remoteAddress}: ${e.message}`));
    connection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  server.on('error', (e) => log.error(`${what} listener: ${e.message}`));
  signal.addEventListener(
    'abort',
    () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
    { once: true },
  );
  const { port } = server.address() as { port: number };
  log.info(`listening for ${what} on tcp://${at.host}:${port}`);
  return { port };
}
