import { expect, it } from 'vitest';
import type { Logger } from '../log/logger.ts';
import { freePort } from '../testing/free-port.ts';
import { startNatsServer } from '../testing/nats-server-process.ts';
import { NATS_SERVER, requireTool } from '../testing/system-tool.ts';
import { waitFor } from '../testing/wait-for.ts';
import { connectNats } from './connect-nats.ts';

/** a logger that keeps its lines */
function lines(): Logger & { said: string[] } {
  const said: string[] = [];
  const log = { said, debug() {}, info: (m: string) => void said.push(`info ${m}`), warn: (m: string) => void said.push(`warn ${m}`), error: (m: string) => void said.push(`error ${m}`), child: () => log };
  return log;
}

it('says it waits for a server that is not there yet, naming it, and that it got there once it is up', async (ctx) => {
  requireTool(ctx, NATS_SERVER);
  const port = await freePort();
  const log = lines();
  const connecting = connectNats({ servers: [`nats://127.0.0.1:${port}`], log });
  await waitFor(() => log.said.length > 0, { what: 'a line saying it waits' });
  expect(log.said[0]).toMatch(new RegExp(`^warn NATS at nats://127.0.0.1:${port} is not reachable .*; waiting for it$`));
  const server = await startNatsServer({ port });
  try {
    const nc = await connecting;
    expect(log.said.at(-1)).toMatch(/^info NATS at .* reached after [\d.]+ s$/);
    await nc.close();
  } finally {
    await server.stop();
  }
});

it('stops waiting when told to (Ctrl-C before the cluster was reached)', async () => {
  const log = lines();
  const ac = new AbortController();
  const connecting = connectNats({ servers: [`nats://127.0.0.1:${await freePort()}`], log, signal: ac.signal });
  await waitFor(() => log.said.length > 0, { what: 'a line saying it waits' });
  ac.abort();
  await expect(connecting).rejects.toThrow(/abort/i);
});

it('fails at once when told not to wait', async () => {
  await expect(connectNats({ servers: [`nats://127.0.0.1:${await freePort()}`], waitOnFirstConnect: false })).rejects.toThrow(/refused/i);
});
