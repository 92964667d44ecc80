import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, for a child process that must be told its port;
 * not one of `taken` (a port just chosen and let go may be chosen again: a nats-server given the same port for
 * its clients and its monitor exits).
 */
export async function freePort(taken: number[] = []): Promise<number> {
  for (;;) {
    const s = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => s.once('listening', r));
    const { port } = s.address() as { port: number };
    await new Promise((r) => s.close(r));
    if (!taken.includes(port)) return port;
  }
}

/** A UDP port on 127.0.0.1 that nothing is bound to right now (QUIC listens on UDP). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(r));
  return port;
}
