import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { freePort } from '../testing/free-port.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { startNatsServer } from '../testing/nats-server-process.ts';
import { NATS_SERVER, requireTool } from '../testing/system-tool.ts';
import { waitFor } from '../testing/wait-for.ts';
import { connectNats } from './connect-nats.ts';

it('says it waits for a server that is not there yet, naming it, and that it got there once it is up', async (ctx) => {
  requireTool(ctx, NATS_SERVER);
  const port = await freePort();
  const log = keptLinesLog();
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
  const log = keptLinesLog();
  const ac = new AbortController();
  const connecting = connectNats({ servers: [`nats://127.0.0.1:${await freePort()}`], log, signal: ac.signal });
  await waitFor(() => log.said.length > 0, { what: 'a line saying it waits' });
  ac.abort();
  await expect(connecting).rejects.toThrow(/abort/i);
});

it('stops waiting when told to, also in the middle of a dial that a port which is not NATS holds', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => void sockets.push(socket.on('error', () => {}))).listen(0, '127.0.0.1');
  await once(silent, 'listening');
  try {
    const ac = new AbortController();
    const connecting = connectNats({ servers: [`nats://127.0.0.1:${(silent.address() as AddressInfo).port}`], signal: ac.signal });
    await new Promise((r) => setTimeout(r, 100));
    ac.abort(new Error('Ctrl-C'));
    // the abort's own reason, not the dial's timeout seconds later
    await expect(connecting).rejects.toThrow('Ctrl-C');
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});

it('says when it lost the server and when it is back', async (ctx) => {
  requireTool(ctx, NATS_SERVER);
  const server = await startNatsServer();
  const log = keptLinesLog();
  const nc = await connectNats({ servers: [server.url], log });
  try {
    await server.kill();
    await waitFor(() => log.said.some((l) => l.startsWith('warn lost NATS at 127.0.0.1:')), { what: () => `the loss said: ${log.said.join(' | ')}` });
    await server.restart();
    await waitFor(() => log.said.some((l) => /^info NATS at 127\.0\.0\.1:\d+ is back after [\d.]+ s$/.test(l)), { ms: 15_000, what: () => `the return said: ${log.said.join(' | ')}` });
  } finally {
    await nc.close();
    await server.stop();
  }
});

it('names a refusal as one, and where to look', async (ctx) => {
  requireTool(ctx, NATS_SERVER);
  const server = await startNatsServer({ args: ['--auth', 's3cret'] });
  try {
    await expect(connectNats({ servers: [server.url], token: 'wrong' })).rejects.toThrow(`NATS at ${server.url} refused the connection: Authorization Violation (the cluster: section's user and pass, token, creds or tls)`);
  } finally {
    await server.stop();
  }
});

it('fails at once when told not to wait', async () => {
  await expect(connectNats({ servers: [`nats://127.0.0.1:${await freePort()}`], waitOnFirstConnect: false })).rejects.toThrow(/refused/i);
});
