import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeGpsBatch, recordsOf } from '../codecs/gps-batch.ts';
import { fleetBatch } from '../testing/gps-fleet-batch.ts';
import { startNatsServer, type NatsServer } from '../testing/nats-server-process.ts';
import { NATS_SERVER, requireTool } from '../testing/system-tool.ts';
import { waitFor } from '../testing/wait-for.ts';
import { EdgePublisher, PublisherFullError, type EdgePublisherOptions } from './edge-publisher.ts';
import { partitionOf } from './partition.ts';
import { setUpStream } from './stream-setup.ts';

const P = 4;
let server: NatsServer | undefined;
const open: NatsConnection[] = [];

async function edge(o: Partial<EdgePublisherOptions> = {}) {
  const nc = await connect({ servers: server!.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  open.push(nc);
  const { jsm } = await setUpStream(nc, { stream: 'city' });
  return { jsm, pub: new EdgePublisher({ js: jetstream(nc), stream: 'city', partitions: P, ackTimeoutMs: 500, ...o }) };
}

/** every fix in the stream, as deviceId@t, with the subject it is on */
async function stored(jsm: JetStreamManager) {
  const n = (await jsm.streams.info('city')).state.last_seq;
  const out: { subject: string; fix: string }[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const m = await jsm.streams.getMessage('city', { seq });
    for (const r of recordsOf(decodeGpsBatch(m!.data))) out.push({ subject: m!.subject, fix: `${r.deviceId}@${r.t}` });
  }
  return out;
}
const fixesOf = (frames: number, devices: number) => Array.from({ length: frames }, (_, s) => Array.from({ length: devices }, (_, i) => `veh-${i}@${1_700_000_000_000 + (s + 1) * 1000}`)).flat();

describe('EdgePublisher → nats-server', () => {
  afterEach(async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    await Promise.all(open.splice(0).map((nc) => nc.close()));
    await server?.stop();
    server = undefined;
  });

  it("puts each fix on its device's partition subject, and resolves a frame once JetStream holds all of it", async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    server = await startNatsServer();
    const { jsm, pub } = await edge();
    await Promise.all([1, 2, 3].map((s) => pub.publish('gw-1', s, 'gps', fleetBatch(100, s))));
    const got = await stored(jsm);
    expect(got.map((g) => g.fix).sort()).toEqual(fixesOf(3, 100).sort());
    for (const g of got) expect(g.subject).toBe(`city.gps.${partitionOf(g.fix.split('@')[0], P)}`);
    const messages = (await jsm.streams.info('city')).state.messages;
    expect(pub.stats()).toMatchObject({ fixes: 300, published: messages, pubacks: messages, duplicates: 0, retries: 0, pending: 0, framesInFlight: 0, bytesInFlight: 0 });
    expect(pub.stats().pubAckMs.count).toBe(messages);
  });

  it('makes a resend of the same frames, by an edge restarted after a crash, a no-op', async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    server = await startNatsServer();
    const first = await edge();
    await Promise.all([1, 2].map((s) => first.pub.publish('gw-1', s, 'gps', fleetBatch(64, s))));
    const before = (await first.jsm.streams.info('city')).state.messages;
    const restarted = await edge();
    await Promise.all([1, 2].map((s) => restarted.pub.publish('gw-1', s, 'gps', fleetBatch(64, s))));
    expect((await first.jsm.streams.info('city')).state.messages).toBe(before);
    expect(restarted.pub.stats()).toMatchObject({ pubacks: before, duplicates: before });
  });

  it('holds frames back while nats-server is down, then delivers every fix once it is back', async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    server = await startNatsServer();
    const { pub } = await edge();
    await pub.publish('gw-1', 1, 'gps', fleetBatch(50, 1));
    await server.kill();
    let done = 0;
    const during = [2, 3, 4].map((s) => pub.publish('gw-1', s, 'gps', fleetBatch(50, s)).then(() => done++));
    await waitFor(() => pub.stats().retries >= 3, 'resends while the server is down');
    expect(done).toBe(0);
    expect(pub.stats().framesInFlight).toBe(3);
    await server.restart();
    await Promise.all(during);
    const nc = await connect({ servers: server.url });
    open.push(nc);
    const { jsm } = await setUpStream(nc, { stream: 'city' });
    expect((await stored(jsm)).map((g) => g.fix).sort()).toEqual(fixesOf(4, 50).sort());
    expect(pub.stats()).toMatchObject({ fixes: 200, pending: 0, framesInFlight: 0, bytesInFlight: 0 });
    expect(pub.stats().pubacks - pub.stats().duplicates).toBe((await jsm.streams.info('city')).state.messages);
  });

  it('tells the caller to pause once its bound is reached, refuses (and counts) a frame beyond it, and makes room when acknowledged', async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    server = await startNatsServer();
    const { pub } = await edge({ maxFramesInFlight: 2 });
    await server.kill();
    const held = [pub.publish('gw-1', 1, 'gps', fleetBatch(40, 1)), pub.publish('gw-1', 2, 'gps', fleetBatch(40, 2))];
    expect(pub.full).toBe(true);
    expect(() => pub.publish('gw-1', 3, 'gps', fleetBatch(40, 3))).toThrow(PublisherFullError);
    expect(pub.stats().refused).toBe(1);
    const room = pub.whenRoom();
    await server.restart();
    await Promise.all([...held, room]);
    expect(pub.full).toBe(false);
  });

  it('sends what is still batching on flush, and resolves once all of it is acknowledged', async (ctx) => {
    requireTool(ctx, NATS_SERVER);
    server = await startNatsServer();
    const { jsm, pub } = await edge({ maxDelayMs: 600_000 });
    let acked = false;
    const frame = pub.publish('gw-1', 1, 'gps', fleetBatch(10, 1)).then(() => (acked = true));
    expect(pub.stats().batching).toBe(10);
    await pub.flush();
    expect(acked).toBe(true);
    await frame;
    expect((await stored(jsm)).map((g) => g.fix).sort()).toEqual(fixesOf(1, 10).sort());
  });
});
