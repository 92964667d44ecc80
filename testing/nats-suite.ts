import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startNatsServer, type NatsServer } from './nats-server-process.ts';
import { findTool, NATS_SERVER, requireTool } from './system-tool.ts';

/**
 * One nats-server for the tests of a file (started before the first, stopped after the last); each test is
 * skipped, or failed under CI, when nats-server is not installed. Returns the server's getter.
 */
export function natsServerForFile(): () => NatsServer {
  let server: NatsServer | undefined;
  beforeAll(async () => {
    if (findTool(NATS_SERVER)) server = await startNatsServer();
  });
  beforeEach((ctx) => {
    requireTool(ctx, NATS_SERVER);
  });
  afterAll(() => server?.stop());
  return () => server!;
}
