import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { expect, it } from 'vitest';
import { startNatsServer } from './nats-server-process.ts';
import { NATS_SERVER, requireTool } from './system-tool.ts';

it('keeps a JetStream stream across a kill and a restart on the same port and store', async (ctx) => {
  requireTool(ctx, NATS_SERVER);
  const server = await startNatsServer();
  try {
    const before = await connect({ servers: server.url });
    await (await jetstreamManager(before)).streams.add({ name: 'T', subjects: ['t.>'] });
    await jetstream(before).publish('t.a', 'kept');
    await server.kill();
    await before.close();
    await server.restart();
    const nc = await connect({ servers: server.url });
    expect((await jetstream(nc).publish('t.a', 'after')).seq).toBe(2);
    expect((await (await jetstreamManager(nc)).streams.info('T')).state.messages).toBe(2);
    await nc.close();
  } finally {
    await server.stop();
  }
});
