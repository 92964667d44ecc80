import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that nothing listens on right now, for a child process that must be told its port. */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}
